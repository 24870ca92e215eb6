"""Helpers for the reminder tests: declare incidents, run ticks, read what the outbox and the timeline hold."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from incidents import reminders, service
from incidents.process import Process
from incidents.queries import get_incident
from incidents.reminders import TickResult


@pytest.fixture
def declare(sessions: sessionmaker[Session], now: datetime, process: Process) -> Callable[..., int]:
    """Declare an incident (SEV2 at `now` unless told) and return its number."""

    def declare_(*, at: datetime | None = None, process_: Process | None = None, **kw: Any) -> int:
        args = {"title": "Checkout is failing", "severity": "SEV2", "reporter_id": "U01ALICE"} | kw
        with sessions.begin() as s:
            return service.declare(s, now=at or now, process=process_ or process, **args).number

    return declare_


@pytest.fixture
def tick(sessions: sessionmaker[Session], process: Process) -> Callable[..., TickResult]:
    def tick_(at: datetime, *, process_: Process | None = None, batch: int = 100) -> TickResult:
        return reminders.tick(sessions, now=at, process=process_ or process, batch=batch)

    return tick_


@pytest.fixture
def use(sessions: sessionmaker[Session]) -> Callable[..., Any]:
    """Run a use case on incident `number` in one transaction: use(1, service.acknowledge, user_id=..., now=...)."""

    def use_(number: int, case: Callable[..., Any], **kw: Any) -> Any:
        with sessions.begin() as s:
            return case(s, get_incident(s, number, for_update=True), **kw)

    return use_
