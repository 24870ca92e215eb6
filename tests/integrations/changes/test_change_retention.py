"""Change events older than CHANGE_RETENTION_DAYS are pruned by the scheduler's second job (hourly, from the
start); pruning again deletes nothing more."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from structlog.testing import capture_logs

from app.delivery.scheduler import ReminderScheduler
from app.runtime import Runtime
from app.settings import load_settings
from incidents import changes
from incidents.changes import NewChange
from incidents.models import ChangeEvent
from tests.waiting import wait_for


def _seed(sessions: sessionmaker[Session], now: datetime) -> None:
    with sessions.begin() as session:
        for days in (91, 90.5, 89, 1):
            changes.record(
                session,
                NewChange(
                    service="checkout",
                    kind="deploy",
                    summary=f"{days} days ago",
                    occurred_at=now - timedelta(days=days),
                ),
                now=now,
            )


def _left(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(ChangeEvent.summary).order_by(ChangeEvent.id)))


@pytest.fixture
def runtime(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Runtime:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no stray .env
    made = Runtime(load_settings(database_url=database_url, change_retention_days=90))
    yield made
    made.engine.dispose()


def test_prune_deletes_what_is_older_than_the_retention_once(sessions, now, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    _seed(sessions, now)
    runtime.clock = lambda: now
    scheduler = ReminderScheduler(runtime)
    assert scheduler.prune_changes() == 2
    assert _left(sessions) == ["89 days ago", "1 days ago"]
    assert scheduler.prune_changes() == 0  # idempotent
    assert _left(sessions) == ["89 days ago", "1 days ago"]


def test_the_scheduler_prunes_at_start_with_the_frozen_process_clock(
    sessions, now, runtime: Runtime, time_machine
) -> None:  # type: ignore[no-untyped-def]
    """The real clock (Runtime's default, read inside the APScheduler job), frozen by time-machine."""
    _seed(sessions, now)
    time_machine.move_to(now + timedelta(days=2), tick=False)  # 89 days old is now 91
    scheduler = ReminderScheduler(runtime, interval_seconds=60)
    scheduler.start()
    try:
        wait_for(lambda: _left(sessions) == ["1 days ago"], timeout=10)
    finally:
        scheduler.shutdown(wait=True)


def test_a_failing_prune_is_logged_and_the_job_survives(runtime: Runtime) -> None:
    def broken() -> datetime:
        raise RuntimeError("clock broke")

    runtime.clock = broken
    with capture_logs() as logs:
        assert ReminderScheduler(runtime).prune_changes() is None
    assert [entry["event"] for entry in logs] == ["changes.prune_failed"]
