"""Several schedulers on one database: every due reminder is enqueued once and delivered once.

Threads each with their own engine (their own connections) on both backends, and separate processes on
PostgreSQL, tick the same incidents at the same moments; small batches make them interleave."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from incidents import db, outbox, reminders, service
from incidents.effects import Effect
from incidents.models import OutboxMessage, TimelineEvent
from incidents.process import Process
from incidents.timeline import EventKind
from tests.waiting import run_together

MIN = timedelta(minutes=1)
DUE = 40
NOT_DUE = 10
SCHEDULERS = 6


def declare_many(url, now, process):
    engine = db.make_engine(url)
    sessions = db.make_session_factory(engine)
    with sessions.begin() as s:
        for n in range(DUE + NOT_DUE):
            inc = service.declare(s, title=f"Outage {n}", severity="SEV2", reporter_id="U1", now=now, process=process)
            if n >= DUE:
                service.post_status_update(s, inc, text="All good", author_id="U1", now=now + 20 * MIN, process=process)
    return engine, sessions


def count_by_incident(sessions, kind):
    with sessions() as s:
        rows = s.execute(
            select(OutboxMessage.incident_id, func.count())
            .where(OutboxMessage.kind == kind.value)
            .group_by(OutboxMessage.incident_id)
        ).all()
    return dict(rows)


def events_by_incident(sessions, kind):
    with sessions() as s:
        rows = s.execute(
            select(TimelineEvent.incident_id, func.count())
            .where(TimelineEvent.kind == kind.value)
            .group_by(TimelineEvent.incident_id)
        ).all()
    return dict(rows)


def schedulers_tick(url, moments, process):
    def work(_index):
        engine = db.make_engine(url)
        sessions = db.make_session_factory(engine)
        try:
            for moment in moments:
                reminders.tick(sessions, now=moment, process=process, batch=3)
        finally:
            engine.dispose()

    run_together(SCHEDULERS, work)


def test_concurrent_schedulers_enqueue_each_reminder_and_escalation_once(database_url, now):
    process = Process()
    engine, sessions = declare_many(database_url, now, process)
    try:
        moments = [now + 30 * MIN + timedelta(seconds=s) for s in range(0, 60, 5)]
        schedulers_tick(database_url, moments, process)
        reminded = count_by_incident(sessions, Effect.REMINDER)
        assert len(reminded) == DUE and set(reminded.values()) == {1}
        # The outbox key would absorb a duplicate effect; the timeline shows whether two schedulers acted.
        assert events_by_incident(sessions, EventKind.REMINDER_SENT) == reminded

        moments = [now + 60 * MIN + timedelta(seconds=s) for s in range(0, 60, 5)]
        schedulers_tick(database_url, moments, process)
        escalated = count_by_incident(sessions, Effect.ESCALATION)
        assert len(escalated) == DUE and set(escalated.values()) == {1}
        assert events_by_incident(sessions, EventKind.ESCALATED) == escalated
        reminded_later = count_by_incident(sessions, Effect.REMINDER)  # those updated at +20 fell due at +50
        assert len(reminded_later) == DUE + NOT_DUE and set(reminded_later.values()) == {1}
    finally:
        engine.dispose()


def test_concurrent_workers_deliver_each_reminder_once(database_url, now):
    process = Process()
    engine, sessions = declare_many(database_url, now, process)
    try:
        reminders.tick(sessions, now=now + 30 * MIN, process=process)
        delivered: Counter[str] = Counter()
        lock = threading.Lock()

        def send(message):
            with lock:
                delivered[message.key] += 1
            return {}

        def work(index):
            worker_engine = db.make_engine(database_url)
            worker_sessions = db.make_session_factory(worker_engine)
            try:
                for _ in range(10):
                    outbox.deliver_due(
                        worker_sessions,
                        {Effect.REMINDER.value: send},
                        now=lambda: now + 30 * MIN,
                        limit=4,
                        rng=random.Random(index),
                    )
            finally:
                worker_engine.dispose()

        run_together(SCHEDULERS, work)
        assert len(delivered) == DUE and set(delivered.values()) == {1}
    finally:
        engine.dispose()


PROCESS_SCRIPT = """
import sys
from datetime import datetime, timedelta
from incidents import db, reminders
from incidents.process import Process

url, start = sys.argv[1], datetime.fromisoformat(sys.argv[2])
engine = db.make_engine(url)
sessions = db.make_session_factory(engine)
sent = 0
for second in range(0, 90, 3):
    sent += reminders.tick(sessions, now=start + timedelta(seconds=second), process=Process(), batch=2).sent
print(sent)
"""


@pytest.mark.postgres_only
def test_scheduler_processes_on_postgresql_send_each_reminder_once(pg_url, now):
    process = Process()
    engine, sessions = declare_many(pg_url, now, process)
    try:
        start = (now + 30 * MIN).isoformat()
        children = [
            subprocess.Popen([sys.executable, "-c", PROCESS_SCRIPT, pg_url, start], stdout=subprocess.PIPE, text=True)
            for _ in range(4)
        ]
        outputs = [child.communicate(timeout=120)[0] for child in children]
        assert all(child.returncode == 0 for child in children)
        assert sum(int(out.strip()) for out in outputs) == DUE
        reminded = count_by_incident(sessions, Effect.REMINDER)
        assert len(reminded) == DUE and set(reminded.values()) == {1}
        assert events_by_incident(sessions, EventKind.REMINDER_SENT) == reminded
    finally:
        engine.dispose()
