"""Slack down while someone declares: the incident is recorded and the person told; the bot stops hammering
Slack (the circuit breaker opens, logged once); when Slack is back the channel appears, once."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from app.sandbox.workspace import INCIDENTS_CHANNEL_ID
from app.slack.ids import CardBlock
from incidents.db import make_engine, make_session_factory
from incidents.models import Incident, OutboxMessage, OutboxStatus
from tests.e2e.botprocess import BotProcess, get
from tests.waiting import holds_for, wait_for

pytestmark = pytest.mark.e2e
ALICE = "U01ALICE"
FIRST_PAUSE = 5.0  # seconds the circuit breaker stays open the first time (CircuitBreaker's cooldown)


def metric(bot: BotProcess, name: str) -> float:
    status, body = get(f"{bot.url}/metrics")
    assert status == 200, f"/metrics answered {status}"
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def deliveries_in_flight(sessions) -> int:  # type: ignore[no-untyped-def]
    """Outbox messages a worker holds (claimed, not settled yet): their Slack call, and its in-call retry, may
    still be under way. None held while the circuit is open: no call can start until the first probe."""
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.claim_token.is_not(None)))


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

        closed_at = [time.monotonic()]  # the last moment the circuit surely was closed: before the declaration
        ws.faults.fail("*", http_status=503, times=None)  # Slack's Web API goes down
        values = {
            "declare_title": {"declare_title": "Checkout is failing"},
            "declare_severity": {"declare_severity": "SEV1"},
        }
        answer = slack.submit_view(ALICE, view.id, values)
        assert answer.status == 200
        assert "INC-1" in json.dumps(answer.json)  # the modal says it is recorded

        def circuit_open() -> bool:
            looked = time.monotonic()
            state = metric(bot, "incidentbot_circuit_state")
            if state == 0:
                closed_at[0] = looked
            return state == 2

        wait_for(circuit_open, "the circuit breaker to open", 20)
        probe_at = closed_at[0] + FIRST_PAUSE  # it opened after closed_at: no probe goes out before this
        # A delivery already under way when it opened (an in-call retry) finishes first; then nothing is in flight.
        wait_for(lambda: deliveries_in_flight(sessions) == 0, "the deliveries under way to settle", 20)
        calls_when_open = len(ws.calls)
        window = max(min(2.0, probe_at - time.monotonic()), 0.0)  # ends before the first probe can start
        holds_for(lambda: len(ws.calls) == calls_when_open, "nothing new is sent while the circuit is open", window)
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
