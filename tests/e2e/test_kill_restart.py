"""Kill the bot (SIGKILL) in the middle of delivering a Slack effect, start it again: nothing is lost and
nothing is doubled. Then SIGTERM: in-flight work finishes and the process exits cleanly."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.sandbox.workspace import INCIDENTS_CHANNEL_ID, Workspace
from app.slack.ids import CardBlock
from incidents.db import make_engine, make_session_factory
from incidents.models import Incident, OutboxMessage, OutboxStatus
from tests.e2e.botprocess import BotProcess
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e
ALICE = "U01ALICE"
LEASE = "2"


def declare(bot: BotProcess, ws: Workspace, title: str) -> None:
    slack = bot.slack(ws)
    assert slack.slash_command(ALICE, INCIDENTS_CHANNEL_ID, "/incident", "declare").status == 200
    wait_for(lambda: ws.open_views(ALICE), "the declare modal")
    view = ws.open_views(ALICE)[-1]
    values = {"declare_title": {"declare_title": title}, "declare_severity": {"declare_severity": "SEV2"}}
    assert slack.submit_view(ALICE, view.id, values).status == 200


def incident_channels(ws: Workspace) -> list[str]:
    with ws.lock:
        return [c.id for c in ws.channels.values() if c.name.startswith("inc-1-")]


def cards(ws: Workspace, channel_id: str) -> list[object]:
    return [m for m in ws.messages(channel_id) if any(b.get("block_id") == CardBlock.HEADER for b in m.blocks)]


def announcements(ws: Workspace) -> list[object]:
    return [m for m in ws.messages(INCIDENTS_CHANNEL_ID) if m.user == ws.bot.id and "INC-1" in m.text]


# The call Slack is slow to answer when the bot is killed: (method, which call of it). Setting up an incident calls
# conversations.create, conversations.invite, conversations.setTopic, chat.postMessage (the card), pins.add and
# chat.postMessage (the announcement). Every call up to that one is slowed the same way, so the kill lands on it
# however busy the machine is.
KILL_POINTS = {
    "creating the channel": ("conversations.create", 1),
    "posting the card": ("chat.postMessage", 1),
    "pinning the card": ("pins.add", 1),
    "announcing": ("chat.postMessage", 2),
}


@pytest.mark.parametrize("moment", list(KILL_POINTS))
def test_killed_mid_delivery_the_restarted_bot_finishes_once(database_url, tmp_path, workspace, moment):
    ws, api = workspace
    bot = BotProcess(
        database_url=database_url, api=api, data_dir=tmp_path, OUTBOX_LEASE_SECONDS=LEASE, OUTBOX_POLL_SECONDS="0.2"
    )
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        bot.start()
        method, nth = KILL_POINTS[moment]
        fault = ws.faults.fail(method, delay=3.0, times=nth)
        declare(bot, ws, "Checkout is failing")
        wait_for(lambda: fault not in ws.faults.pending(), f"the bot to call {method} {nth} time(s)", 30)
        calls = len(ws.calls_to(method))
        bot.kill()  # while Slack is still working on that call
        wait_for(lambda: len(ws.calls_to(method)) > calls, "the slow call to complete on Slack's side", 10)

        bot.start()

        def settled() -> bool:
            with sessions() as s:
                inc = s.scalar(select(Incident))
                pending = s.scalars(select(OutboxMessage).where(OutboxMessage.status != OutboxStatus.DONE)).all()
            return inc is not None and inc.announcement_ts is not None and not pending

        wait_for(settled, "every effect to be delivered after the restart", 60)
        assert len(incident_channels(ws)) == 1, "exactly one channel"
        channel_id = incident_channels(ws)[0]
        assert len(cards(ws, channel_id)) == 1, "exactly one card"
        assert len(ws.channel(channel_id).pins) == 1
        assert len(announcements(ws)) == 1, "exactly one announcement"
        with sessions() as s:
            inc = s.scalar(select(Incident))
        assert inc.channel_id == channel_id

        # SIGTERM: a clean exit, with the background work stopped.
        assert bot.terminate() == 0
        assert '"worker_stopped"' in bot.log() or "worker_stopped" in bot.log()
    except BaseException:
        print(bot.log()[-20000:])
        raise
    finally:
        bot.stop()
        engine.dispose()


def test_sigterm_finishes_the_delivery_in_flight_and_stops_cleanly(database_url, tmp_path, workspace):
    ws, api = workspace
    bot = BotProcess(database_url=database_url, api=api, data_dir=tmp_path, OUTBOX_POLL_SECONDS="0.2")
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        bot.start()
        fault = ws.faults.fail("conversations.create", delay=2.0)
        declare(bot, ws, "Checkout is failing")
        wait_for(lambda: fault not in ws.faults.pending(), "the bot to call conversations.create")
        assert bot.terminate() == 0
        with sessions() as s:
            inc = s.scalar(select(Incident))
            statuses = set(s.scalars(select(OutboxMessage.status).where(OutboxMessage.kind == "open_channel")))
        assert inc.channel_id and inc.card_ts and inc.announcement_ts, "the effect under way was finished"
        assert statuses == {OutboxStatus.DONE.value}
        log = bot.log()
        assert "scheduler.stopped" in log and "worker_stopped" in log
        assert "Traceback" not in log
    except BaseException:
        print(bot.log()[-20000:])
        raise
    finally:
        bot.stop()
        engine.dispose()
