"""The APScheduler wiring: one interval job that ticks at start, then every few seconds; several together."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select
from structlog.testing import capture_logs

from app.delivery.scheduler import ReminderScheduler, build
from app.runtime import Runtime
from app.settings import SettingsError, load_settings
from app.slack.deps import Deps
from incidents.effects import Effect
from incidents.models import OutboxMessage
from tests.reminders.reminder_helpers import effects
from tests.waiting import wait_for

MIN = timedelta(minutes=1)


@pytest.fixture
def runtime_at(database_url, monkeypatch, tmp_path):
    """A Runtime on the test database whose clock reads `moment` (the process's real clock when None);
    disposed at the end."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    made: list[Runtime] = []

    def make(moment, **settings):
        runtime = Runtime(load_settings(database_url=database_url, **settings))
        if moment is not None:
            runtime.clock = lambda: moment
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.engine.dispose()


class CountingScheduler(ReminderScheduler):
    """Says when its APScheduler job has run (a tick that sends nothing logs nothing)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ticked = threading.Event()
        self.ticks = 0

    def run_once(self):
        result = super().run_once()
        self.ticks += 1
        self.ticked.set()
        return result


def test_the_scheduler_ticks_at_start_with_the_process_clock_and_wakes_the_outbox(
    sessions, now, declare, runtime_at, time_machine
):
    """The real clock (`Runtime`'s default, read inside the APScheduler job), set by time-machine."""
    declare()
    time_machine.move_to(now + 31 * MIN)
    woken = threading.Event()
    scheduler = ReminderScheduler(runtime_at(None), wake_outbox=woken.set, interval_seconds=60)
    scheduler.start()
    try:
        assert woken.wait(10), "the first tick runs at start, not one interval later"
    finally:
        scheduler.shutdown(wait=True)
    assert not scheduler.running
    [reminder] = effects(sessions, Effect.REMINDER)
    assert reminder.payload["since_update_seconds"] == 31 * 60


def test_the_scheduler_keeps_ticking_and_reminds_when_the_process_clock_reaches_the_due_time(
    sessions, now, declare, runtime_at, time_machine
):
    declare()
    time_machine.move_to(now + 29 * MIN)  # time flows from here
    scheduler = CountingScheduler(runtime_at(None), interval_seconds=0.05)
    scheduler.start()
    try:
        assert scheduler.ticked.wait(10)
        assert effects(sessions, Effect.REMINDER) == []
        time_machine.shift(MIN)
        assert wait_for(lambda: len(effects(sessions, Effect.REMINDER)) == 1)
        scheduler.ticked.clear()
        assert scheduler.ticked.wait(10)
    finally:
        scheduler.shutdown(wait=True)
    assert len(effects(sessions, Effect.REMINDER)) == 1


def test_a_failing_tick_is_logged_and_the_scheduler_carries_on(sessions, now, declare, runtime_at):
    declare()
    runtime = runtime_at(now + 31 * MIN)
    calls = {"n": 0}

    def flaky_clock():
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database restarting")
        return now + 31 * MIN

    runtime.clock = flaky_clock
    scheduler = ReminderScheduler(runtime)
    with capture_logs() as logs:
        assert scheduler.run_once() is None
        result = scheduler.run_once()
    assert result is not None and result.reminders == 1
    assert [entry["event"] for entry in logs] == ["reminders.tick_failed", "reminders.tick"]
    assert logs[0]["log_level"] == "error"


def test_the_interval_comes_from_the_settings(runtime_at, now):
    scheduler = ReminderScheduler(runtime_at(now, reminder_tick_seconds=42))
    assert scheduler.interval_seconds == 42


def test_serve_runs_the_scheduler_unless_told_not_to(runtime_at, now):
    on = build(Deps.build(runtime_at(now), WebClient()))
    off = build(Deps.build(runtime_at(now, run_scheduler_in_web=False), WebClient()))
    assert isinstance(on, ReminderScheduler)
    assert not isinstance(off, ReminderScheduler)
    off.start()
    off.stop()


def test_several_schedulers_together_send_each_reminder_once(database_url, now, declare, runtime_at):
    """Four APScheduler-driven schedulers, each with its own engine, ticking every 20 ms for a while."""
    for _ in range(20):
        declare()
    schedulers = [CountingScheduler(runtime_at(now + 31 * MIN), interval_seconds=0.02, batch=3) for _ in range(4)]

    def reminders_by_incident() -> list:
        with schedulers[0].runtime.sessions() as s:
            return s.execute(
                select(OutboxMessage.incident_id, func.count())
                .where(OutboxMessage.kind == Effect.REMINDER.value)
                .group_by(OutboxMessage.incident_id)
            ).all()

    for scheduler in schedulers:
        scheduler.start()
    try:
        wait_for(lambda: len(reminders_by_incident()) == 20, "a reminder for each of the 20 incidents")
        seen = [scheduler.ticks for scheduler in schedulers]
        wait_for(
            lambda: all(s.ticks >= n + 3 for s, n in zip(schedulers, seen, strict=True)),
            "every scheduler to tick three more times (a second reminder would show now)",
        )
    finally:
        for scheduler in schedulers:
            scheduler.shutdown(wait=True)
    rows = reminders_by_incident()
    assert len(rows) == 20 and {count for _, count in rows} == {1}


def test_the_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REMINDER_TICK_SECONDS", "5")
    monkeypatch.setenv("RUN_SCHEDULER_IN_WEB", "false")
    settings = load_settings()
    assert (settings.reminder_tick_seconds, settings.run_scheduler_in_web) == (5, False)
    monkeypatch.setenv("REMINDER_TICK_SECONDS", "0")
    with pytest.raises(SettingsError, match="REMINDER_TICK_SECONDS"):
        load_settings()
