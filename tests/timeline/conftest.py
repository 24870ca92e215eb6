"""Fixtures for the timeline, follow-up and post-mortem tests: a declared incident and a way to change it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from incidents import service
from incidents.models import Incident
from incidents.process import Process
from incidents.queries import get_incident


@pytest.fixture
def declared(sessions: sessionmaker[Session], now: datetime, process: Process) -> int:
    """INC-1, declared at `now`, its channel C0INC1."""
    with sessions.begin() as s:
        inc = service.declare(
            s, title="Checkout is failing", severity="SEV2", reporter_id="U01ALICE", now=now, process=process
        )
        inc.channel_id = "C0INC1"
        return inc.number


@pytest.fixture
def change(sessions: sessionmaker[Session]) -> Callable[..., Any]:
    """`change(lambda s, inc: ...)`: run a use case on INC-1 in one transaction and return its result."""

    def change_(use_case: Callable[[Session, Incident], Any], number: int = 1) -> Any:
        with sessions.begin() as s:
            return use_case(s, get_incident(s, number, for_update=True))

    return change_


# The Slack layer's harness (signed requests into the real app, against the Web API double), for test_slack_*.
from tests.slack.conftest import clock, harness, settings, slack_api, workspace  # noqa: E402, F401
