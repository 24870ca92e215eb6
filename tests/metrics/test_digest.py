"""The weekly digest: when it is due, that it is enqueued once per week across replicas (processes on PostgreSQL),
and what the digest channel gets."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from app.delivery.scheduler import ReminderScheduler
from incidents import db, digest
from incidents.effects import Effect
from incidents.models import Digest, OutboxMessage
from tests.metrics.fixture import NOW, PRIVATE_WORDS, seed, seed_private
from tests.slack.slack_harness import blocks_text

MONDAY_9_PARIS = digest.Schedule(day="monday", at="09:00", timezone="Europe/Paris", channel="incidents")


def test_the_latest_slot_is_the_last_digest_moment_in_the_team_time_zone():
    # Monday 30 Nov 2026 09:00 in Paris is 08:00 UTC
    assert digest.latest_slot(MONDAY_9_PARIS, datetime(2026, 11, 30, 8, 0, tzinfo=UTC)) == datetime(
        2026, 11, 30, 8, 0, tzinfo=UTC
    )
    assert digest.latest_slot(MONDAY_9_PARIS, datetime(2026, 11, 30, 7, 59, tzinfo=UTC)) == datetime(
        2026, 11, 23, 8, 0, tzinfo=UTC
    )
    assert digest.latest_slot(MONDAY_9_PARIS, datetime(2026, 12, 3, 18, 0, tzinfo=UTC)) == datetime(
        2026, 11, 30, 8, 0, tzinfo=UTC
    )
    assert digest.week_key(datetime(2026, 11, 30, 8, 0, tzinfo=UTC), "Europe/Paris") == "2026-W49"
    off = digest.Schedule(day="off", at="09:00", timezone="UTC", channel="incidents")
    assert digest.latest_slot(off, NOW) is None


def digests(sessions):
    with sessions() as s:
        return list(s.scalars(select(Digest).order_by(Digest.id)))


def digest_effects(sessions):
    with sessions() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == Effect.DIGEST.value)))


def test_the_digest_is_enqueued_once_a_week_and_not_long_after_its_moment(sessions):
    slot = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

    def ask(at):
        with sessions.begin() as s:
            return digest.request_due(s, now=at, schedule=MONDAY_9_PARIS)

    assert ask(slot - timedelta(minutes=1)) is None  # last week's moment is days ago: too late to catch up
    first = ask(slot)
    assert first is not None and first.week == "2026-W49"
    assert (first.since, first.until) == (slot - timedelta(days=7), slot)
    assert ask(slot + timedelta(minutes=1)) is None and ask(slot + timedelta(hours=3)) is None
    [effect] = digest_effects(sessions)
    assert effect.payload == {
        "week": "2026-W49",
        "channel": "incidents",
        "since": (slot - timedelta(days=7)).isoformat(),
        "until": slot.isoformat(),
    }
    assert ask(slot + timedelta(days=7, hours=13)) is None  # the next one was missed by more than 12 hours
    assert ask(slot + timedelta(days=14, minutes=5)).week == "2026-W51"
    assert [d.week for d in digests(sessions)] == ["2026-W49", "2026-W51"]


@pytest.fixture
def now():
    return NOW  # Monday 30 Nov 2026 12:00 UTC: the digest of 09:00 UTC is due


def test_the_digest_goes_to_the_announcements_channel_with_last_weeks_incidents_and_the_charts(harness, process):
    seed(harness.runtime.sessions, process)
    with harness.runtime.sessions.begin() as s:  # the fixture's own Slack effects are not what this is about
        s.execute(update(OutboxMessage).values(status="done"))
    scheduler = ReminderScheduler(harness.runtime, wake_outbox=lambda: None)
    assert scheduler.digest_tick() is True
    assert scheduler.digest_tick() is False  # already enqueued this week
    harness.settle()
    channel_id = harness.deps.directory.channel_id("incidents")
    [posted] = [m for m in harness.workspace.messages(channel_id) if m.text.startswith("Weekly incident digest")]
    assert (
        posted.text
        == "Weekly incident digest (2026-W49): 2 incidents: 2 open, 0 resolved; time to mitigate median 25m 00s"
    )
    shown = blocks_text(posted.blocks)
    assert "INC-5 SEV1 Checkout errors again (open)" in shown and "INC-6 SEV4 Typos in suggestions (open)" in shown
    assert "INC-4" not in shown  # declared 11 Nov: not last week
    # No incident of the week is 30 days old, but INC-7's follow-up (opened 20 Oct 11:00, 41 days) is still open
    assert "*Follow-ups:* 1 opened, 0 done, 1 overdue" in shown  # opened: INC-5's "Capacity review"
    assert "• INC-7: Outside the period (<@U03CAROL>, 41 days)" in shown
    files = harness.workspace.files.all()
    assert sorted(f.name for f in files) == ["incidents-per-service.png", "time-to-mitigate.png", "update-gaps.png"]
    assert all(f.channels == [channel_id] for f in files)
    [effect] = harness.outbox(Effect.DIGEST)
    assert effect.status == "done" and effect.result["ts"] == posted.ts


def test_the_digest_shows_a_private_incident_only_by_reference_and_severity(harness, process):
    seed(harness.runtime.sessions, process)
    seed_private(harness.runtime.sessions, process)
    with harness.runtime.sessions.begin() as s:
        s.execute(update(OutboxMessage).values(status="done"))
    assert ReminderScheduler(harness.runtime, wake_outbox=lambda: None).digest_tick() is True
    harness.settle()
    channel_id = harness.deps.directory.channel_id("incidents")
    [posted] = [m for m in harness.workspace.messages(channel_id) if m.text.startswith("Weekly incident digest")]
    # INC-5, INC-6 and the private INC-9 (26 Nov); to mitigate: INC-6 25m, INC-9 40m (INC-5 open): median 32m 30s
    assert posted.text.endswith("3 incidents: 3 open, 0 resolved; time to mitigate median 32m 30s")
    shown = blocks_text(posted.blocks)
    assert "• INC-9 SEV2 private incident (open)" in shown
    assert "*By service:* checkout 1, search 1, (private) 1" in shown
    # overdue after 30 days: INC-8's (private, opened 1 Oct 12:00: 60 days), INC-7's (20 Oct 11:00: 41 days)
    assert "*Follow-ups:* 2 opened, 0 done, 2 overdue" in shown  # opened: INC-5's and INC-9's
    assert "• INC-8: a follow-up of a private incident (60 days)" in shown
    assert not any(word in posted.text + shown for word in PRIVATE_WORDS)


REPLICA = """
import sys
from datetime import datetime, timedelta
from app.delivery.scheduler import ReminderScheduler
from app.runtime import Runtime
from app.settings import load_settings

url, start = sys.argv[1], datetime.fromisoformat(sys.argv[2])
moment = [start]
settings = load_settings(_env_file=None, database_url=url, digest_day="monday", digest_time="09:00")
runtime = Runtime(settings, clock=lambda: moment[0])
scheduler = ReminderScheduler(runtime)
sent = 0
for second in range(0, 120, 2):
    moment[0] = start + timedelta(seconds=second)
    sent += bool(scheduler.digest_tick())
runtime.close()
print(sent)
"""


@pytest.mark.postgres_only
def test_two_scheduler_processes_on_postgresql_send_the_digest_once(pg_url):
    start = datetime(2026, 11, 30, 8, 59, 30, tzinfo=UTC)  # ticking across 09:00 UTC, Monday
    children = [
        subprocess.Popen([sys.executable, "-c", REPLICA, pg_url, start.isoformat()], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=120)[0] for child in children]
    assert all(child.returncode == 0 for child in children), outputs
    assert sorted(int(out.split()[-1]) for out in outputs) == [0, 1]  # one of them enqueued it (last line)
    engine = db.make_engine(pg_url)
    try:
        sessions = db.make_session_factory(engine)
        assert [d.week for d in digests(sessions)] == ["2026-W49"]
        with sessions() as s:
            assert s.scalar(select(func.count()).where(OutboxMessage.kind == Effect.DIGEST.value)) == 1
    finally:
        engine.dispose()


def test_two_engines_in_threads_send_the_digest_once(database_url):
    """The same race with threads (each its own engine), on every backend."""
    slot = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    schedule = digest.Schedule(day="monday", at="09:00", timezone="UTC", channel="incidents")
    barrier = threading.Barrier(4)
    won: list[bool] = []

    def replica():
        engine = db.make_engine(database_url)
        sessions = db.make_session_factory(engine)
        try:
            barrier.wait()
            for second in range(0, 10):
                with sessions.begin() as s:
                    won.append(
                        digest.request_due(s, now=slot + timedelta(seconds=second), schedule=schedule) is not None
                    )
        finally:
            engine.dispose()

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert won.count(True) == 1
    engine = db.make_engine(database_url)
    try:
        assert len(digest_effects(db.make_session_factory(engine))) == 1
    finally:
        engine.dispose()
