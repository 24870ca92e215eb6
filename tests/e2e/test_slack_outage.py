"""Slack down while someone declares: the incident is recorded and the person told; the bot stops hammering
Slack (the circuit breaker opens, logged once); when Slack is back the channel appears, once."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from app.sandbox.workspace import INCIDENTS_CHANNEL_ID
from app.slack.ids import CardBlock
from incidents.db import make_engine, make_session_factory
from incidents.models import Incident, OutboxMessage, OutboxStatus
from tests.e2e.botprocess import BotProcess, get, wait_for

pytestmark = pytest.mark.e2e
ALICE = "U01ALICE"


def metric(bot: BotProcess, name: str) -> float:
    _, body = get(f"{bot.url}/metrics")
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def quiet(ws, step: float = 0.5) -> int:  # type: ignore[no-untyped-def]
    """The number of Web API calls once no new call arrived for `step` seconds."""
    count = len(ws.calls)
    while True:
        time.sleep(step)
        if len(ws.calls) == count:
            return count
        count = len(ws.calls)


def log_events(bot: BotProcess) -> list[str]:
    events = []
    for line in bot.log().splitlines():
        if line.startswith("{"):
            events.append(json.loads(line).get("event", ""))
    return events


def test_declared_during_an_outage_the_channel_appears_once_when_slack_is_back(database_url, tmp_path, workspace):
    ws, api = workspace
    bot = BotProcess(
        database_url=database_url, api=api, data_dir=tmp_path, OUTBOX_POLL_SECONDS="0.2", CIRCUIT_FAILURES="2"
    )
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        bot.start()
        slack = bot.slack(ws)
        slack.slash_command(ALICE, INCIDENTS_CHANNEL_ID, "/incident", "declare")
        wait_for(lambda: ws.open_views(ALICE), "the declare modal")
        view = ws.open_views(ALICE)[-1]

        ws.faults.fail("*", http_status=503, times=None)  # Slack's Web API goes down
        values = {
            "declare_title": {"declare_title": "Checkout is failing"},
            "declare_severity": {"declare_severity": "SEV1"},
        }
        answer = slack.submit_view(ALICE, view.id, values)
        assert answer.status == 200
        assert "INC-1" in json.dumps(answer.json)  # the modal says it is recorded

        wait_for(lambda: metric(bot, "incidentbot_circuit_state") == 2, "the circuit breaker to open", 20)
        calls_when_open = quiet(ws)  # a call already under way when it opened (an in-call retry) may finish
        time.sleep(2)  # while open (the first pause is 5 s), nothing new is sent
        assert len(ws.calls) == calls_when_open
        with sessions() as s:
            assert s.scalar(select(Incident.title)) == "Checkout is failing"
            [opening] = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "open_channel")).all()
        assert opening.status == OutboxStatus.PENDING and opening.attempts < 3
        assert metric(bot, 'incidentbot_slack_api_errors_total{error="http_503"') > 0

        ws.faults.clear()  # Slack is back

        def settled() -> bool:
            with sessions() as s:
                inc = s.scalar(select(Incident))
                waiting = s.scalars(select(OutboxMessage).where(OutboxMessage.status != OutboxStatus.DONE)).all()
            return inc.announcement_ts is not None and not waiting

        wait_for(settled, "the channel, card and announcement after the outage", 60)
        channels = [c for c in ws.channels.values() if c.name.startswith("inc-1-")]
        assert len(channels) == 1
        cards = [m for m in ws.messages(channels[0].id) if any(b.get("block_id") == CardBlock.HEADER for b in m.blocks)]
        assert len(cards) == 1
        assert len([m for m in ws.messages(INCIDENTS_CHANNEL_ID) if "INC-1" in m.text]) == 1
        assert metric(bot, "incidentbot_circuit_state") == 0
        events = log_events(bot)
        assert events.count("circuit.opened") == 1 and events.count("circuit.closed") == 1, "logged once each"
        assert bot.terminate() == 0
    except BaseException:
        print(bot.log()[-20000:])
        raise
    finally:
        bot.stop()
        engine.dispose()
