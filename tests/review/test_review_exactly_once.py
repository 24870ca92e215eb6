"""Several schedulers on one database: every review reminder and every nag is queued once and recorded once.

Threads each with their own engine on both backends, and separate processes on PostgreSQL, tick the same
reviews at the same moments; small batches make them interleave."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from incidents import db, review, service
from incidents.effects import Effect
from incidents.models import OutboxMessage, TimelineEvent
from incidents.process import Process
from incidents.queries import get_incident
from incidents.timeline import EventKind
from tests.waiting import run_together

SCHEDULED = 24
AWAITING = 12
SCHEDULERS = 5
PROCESS = Process(timezone="Europe/Paris")


def prepare(url: str, now: datetime):  # type: ignore[no-untyped-def]
    """SCHEDULED reviews two days ahead, and AWAITING reviews never scheduled (all resolved at `now`)."""
    engine = db.make_engine(url)
    sessions = db.make_session_factory(engine)
    with sessions.begin() as s:
        for n in range(SCHEDULED + AWAITING):
            inc = service.declare(s, title=f"Outage {n}", severity="SEV2", reporter_id="U1", now=now, process=PROCESS)
            service.acknowledge(s, inc, user_id="U2", now=now)
            service.resolve(s, inc, by="U2", now=now, process=PROCESS)
            if n < SCHEDULED:
                review.schedule(s, inc, starts_at=now + timedelta(days=2), by="U2", now=now, process=PROCESS)
    return engine, sessions


def messages_by(sessions, stage: str) -> Counter[int]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        payloads = s.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.kind == Effect.REVIEW_MESSAGE.value)
        ).all()
    return Counter(p["review_id"] for p in payloads if p["message"] == stage)


def facts(sessions, stage: str) -> int:  # type: ignore[no-untyped-def]
    with sessions() as s:
        events = s.scalars(select(TimelineEvent.data).where(TimelineEvent.kind == EventKind.REVIEW_REMINDED.value))
        return sum(1 for data in events if data["stage"] == stage)


def schedulers_tick(url: str, moments: list[datetime]) -> None:
    def work(_index: int) -> None:
        engine = db.make_engine(url)
        sessions = db.make_session_factory(engine)
        try:
            for moment in moments:
                review.tick(sessions, now=moment, process=PROCESS, batch=3)
        finally:
            engine.dispose()

    run_together(SCHEDULERS, work)


def test_concurrent_schedulers_send_each_review_reminder_and_nag_once(database_url, now):
    engine, sessions = prepare(database_url, now)
    try:
        day_before = now + timedelta(days=1)
        schedulers_tick(database_url, [day_before + timedelta(seconds=s) for s in range(0, 30, 3)])
        sent = messages_by(sessions, review.Message.DAY_BEFORE)
        assert len(sent) == SCHEDULED and set(sent.values()) == {1}
        assert facts(sessions, "day_before") == SCHEDULED

        soon = now + timedelta(days=2) - review.SOON
        schedulers_tick(database_url, [soon + timedelta(seconds=s) for s in range(0, 30, 3)])
        sent = messages_by(sessions, review.Message.SOON)
        assert len(sent) == SCHEDULED and set(sent.values()) == {1}
        assert facts(sessions, "soon") == SCHEDULED

        with sessions() as s:
            deadline = review.review_of(s, get_incident(s, SCHEDULED + 1)).deadline_at  # type: ignore[union-attr]
        nag_day = deadline + timedelta(hours=9)  # 09:00 in Paris (UTC+1 in December) of the next day, a Friday
        schedulers_tick(database_url, [nag_day + timedelta(minutes=m) for m in range(0, 60, 6)])
        nagged = messages_by(sessions, review.Message.UNSCHEDULED)
        assert len(nagged) == AWAITING and set(nagged.values()) == {1}
        assert facts(sessions, "unscheduled") == AWAITING
    finally:
        engine.dispose()


PROCESS_SCRIPT = """
import sys
from datetime import datetime, timedelta
from incidents import db, review
from incidents.process import Process

url, start = sys.argv[1], datetime.fromisoformat(sys.argv[2])
engine = db.make_engine(url)
sessions = db.make_session_factory(engine)
sent = 0
for second in range(0, 60, 2):
    sent += review.tick(sessions, now=start + timedelta(seconds=second), process=Process(timezone="Europe/Paris"),
                        batch=2).sent
print(sent)
"""


@pytest.mark.postgres_only
def test_scheduler_processes_on_postgresql_send_each_review_reminder_once(pg_url, now):
    engine, sessions = prepare(pg_url, now)
    try:
        start = (now + timedelta(days=1)).isoformat()
        children = [
            subprocess.Popen([sys.executable, "-c", PROCESS_SCRIPT, pg_url, start], stdout=subprocess.PIPE, text=True)
            for _ in range(4)
        ]
        outputs = [child.communicate(timeout=120)[0] for child in children]
        assert all(child.returncode == 0 for child in children)
        assert sum(int(out.strip()) for out in outputs) == SCHEDULED
        sent = messages_by(sessions, review.Message.DAY_BEFORE)
        assert len(sent) == SCHEDULED and set(sent.values()) == {1}
        assert facts(sessions, "day_before") == SCHEDULED
    finally:
        engine.dispose()
