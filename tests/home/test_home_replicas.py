"""Replicas changing incidents at the same moment ask for one redraw per person and window: each replica runs
its own engine (threads released together), on PostgreSQL for real and on SQLite."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from incidents import home
from incidents.db import make_engine, make_session_factory
from incidents.effects import Effect
from incidents.models import OutboxMessage

NOW = datetime(2026, 11, 21, 14, 0, 7, tzinfo=UTC)
PEOPLE = [f"U{n:03d}" for n in range(40)]
REPLICAS = 6


def test_replicas_asking_at_once_queue_one_redraw_per_person_and_window(database_url: str) -> None:
    engine = make_engine(database_url)
    with make_session_factory(engine).begin() as session:
        for person in PEOPLE:
            home.opened(session, user_id=person, now=NOW - timedelta(hours=1), event_id=f"Ev{person}")
    start = threading.Barrier(REPLICAS)
    errors: list[BaseException] = []

    def replica(n: int) -> None:
        own = make_engine(database_url)
        try:
            sessions = make_session_factory(own)
            start.wait()
            for i in range(5):
                with sessions.begin() as session:  # changes at different seconds of one window
                    home.request_refresh(session, PEOPLE, now=NOW + timedelta(seconds=n + i))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=replica, args=(n,)) for n in range(REPLICAS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with make_session_factory(engine)() as session:
        rows = session.execute(
            select(OutboxMessage.payload, OutboxMessage.next_attempt_at).where(
                OutboxMessage.kind == Effect.REFRESH_HOME.value, OutboxMessage.key.not_like("%:opened:%")
            )
        ).all()
        opened = session.scalar(
            select(func.count()).where(
                OutboxMessage.kind == Effect.REFRESH_HOME.value, OutboxMessage.key.like("%:opened:%")
            )
        )
    engine.dispose()
    assert opened == len(PEOPLE)
    assert sorted(r.payload["user_id"] for r in rows) == PEOPLE  # one each, whatever the replicas did
    window_end = datetime(2026, 11, 21, 14, 0, 30, tzinfo=UTC)
    assert {r.next_attempt_at for r in rows} == {window_end}
