"""The paging use cases on a real database (SQLite and PostgreSQL): one page per team per incident, also when
two replicas ask at the same moment; resolve asks to resolve the open pages; acknowledge only with the setting."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from incidents import paging, service
from incidents.db import make_engine, make_session_factory
from incidents.effects import Effect
from incidents.errors import InvalidTransition
from incidents.models import Incident, OutboxMessage, Page, TimelineEvent
from incidents.process import Process

CALLERS = 6


def declare(sessions: sessionmaker[Session], now: datetime, process: Process, **extra: object) -> int:
    with sessions.begin() as s:
        incident = service.declare(
            s, title="Checkout is failing", severity="SEV2", reporter_id="U01ALICE", now=now, process=process, **extra
        )
        return incident.id


def kinds(session: Session, kind: Effect) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind.value)))


def test_a_team_is_paged_once_per_incident(sessions, now, process) -> None:
    incident_id = declare(sessions, now, process)
    with sessions.begin() as s:
        incident = s.get(Incident, incident_id)
        first = paging.request_page(s, incident, team="payments", pager="pagerduty", by="U01ALICE", now=now)
        again = paging.request_page(s, incident, team="payments", pager="pagerduty", by="U01BOB", now=now)
        assert first.created and not again.created and again.page.id == first.page.id
        assert first.page.dedup_key == f"incident-{incident_id}-payments"
    with sessions() as s:
        assert len(kinds(s, Effect.PAGE_TRIGGER)) == 1
        assert (
            s.scalar(select(func.count()).select_from(TimelineEvent).where(TimelineEvent.kind == "page_requested")) == 1
        )


def test_resolve_asks_to_resolve_open_pages_and_paging_a_resolved_incident_is_refused(sessions, now, process) -> None:
    incident_id = declare(sessions, now, process)
    with sessions.begin() as s:
        incident = s.get(Incident, incident_id)
        paging.request_page(s, incident, team="payments", pager="pagerduty", by=None, now=now)
        service.resolve(s, incident, by="U01ALICE", now=now, process=process)
    with sessions.begin() as s:
        assert len(kinds(s, Effect.PAGE_RESOLVE)) == 1
        with pytest.raises(InvalidTransition, match="reopen it before paging"):
            paging.request_page(s, s.get(Incident, incident_id), team="search", pager="opsgenie", by=None, now=now)


def test_a_reopened_incident_pages_the_team_again_once(sessions, now, process) -> None:
    """The page was resolved with the incident; reopened, the team is paged anew (a new trigger, a new fact),
    and a second request while that page is open is still the same page."""
    incident_id = declare(sessions, now, process)
    with sessions.begin() as s:
        incident = s.get(Incident, incident_id)
        first = paging.request_page(s, incident, team="payments", pager="pagerduty", by="U01ALICE", now=now)
        service.resolve(s, incident, by="U01ALICE", now=now, process=process)
        paging.record_resolved(s, first.page.id, answer={}, key="page_resolve:test", now=now)
    later = now + timedelta(hours=1)
    with sessions.begin() as s:
        incident = s.get(Incident, incident_id)
        service.reopen(s, incident, by="U01BOB", now=later, process=process)
        again = paging.request_page(s, incident, team="payments", pager="opsgenie", by="U01BOB", now=later)
        twice = paging.request_page(s, incident, team="payments", pager="opsgenie", by="U01CAROL", now=later)
        assert again.created and again.page.id == first.page.id and not twice.created
    with sessions() as s:
        page = s.get(Page, first.page.id)
        assert (page.status, page.pager, page.requested_by) == ("requested", "opsgenie", "U01BOB")
        assert len(kinds(s, Effect.PAGE_TRIGGER)) == 2
        assert (
            s.scalar(select(func.count()).select_from(TimelineEvent).where(TimelineEvent.kind == "page_requested")) == 2
        )


def test_a_failed_page_can_be_asked_for_again(sessions, now, process) -> None:
    incident_id = declare(sessions, now, process)
    with sessions.begin() as s:
        incident = s.get(Incident, incident_id)
        first = paging.request_page(s, incident, team="payments", pager="pagerduty", by="U01ALICE", now=now)
        paging.record_failed(s, first.page.id, error="Invalid routing key", key="page_failed:test", now=now)
    with sessions.begin() as s:
        again = paging.request_page(
            s, s.get(Incident, incident_id), team="payments", pager="pagerduty", by="U01ALICE", now=now
        )
        assert again.created and again.page.status == "requested" and again.page.last_error is None
    with sessions() as s:
        assert len(kinds(s, Effect.PAGE_TRIGGER)) == 2


@pytest.mark.parametrize("from_slack", [False, True])
def test_acknowledge_acknowledges_pages_only_with_the_setting(sessions, now, from_slack: bool) -> None:
    process = Process(pager_acknowledge_from_slack=from_slack)
    incident_id = declare(sessions, now, process)
    with sessions.begin() as s:
        incident = s.get(Incident, incident_id)
        paging.request_page(s, incident, team="payments", pager="pagerduty", by=None, now=now)
        service.acknowledge(s, incident, user_id="U01ALICE", now=now, process=process)
    with sessions() as s:
        assert len(kinds(s, Effect.PAGE_ACKNOWLEDGE)) == (1 if from_slack else 0)


def test_declare_asks_to_page_owners_only_for_the_chosen_severities(sessions, now) -> None:
    process = Process(page_on_declare_severities=frozenset({"SEV1"}))
    declare(sessions, now, process, services=["checkout"])
    with sessions.begin() as s:
        assert kinds(s, Effect.PAGE_OWNERS) == []
        incident = service.declare(
            s, title="Down", severity="SEV1", reporter_id="U01ALICE", now=now, process=process, services=["checkout"]
        )
        service.change_severity(s, incident, severity="SEV2", by="U01ALICE", now=now, process=process)
        service.change_severity(s, incident, severity="SEV1", by="U01ALICE", now=now, process=process)
    with sessions() as s:
        [owners] = kinds(s, Effect.PAGE_OWNERS)
        assert owners.payload["services"] == ["checkout"] and owners.payload["trigger"] == paging.DECLARED


@pytest.mark.postgres_only
def test_two_replicas_paging_one_team_at_once_make_one_page(pg_url, now, process) -> None:
    engine = make_engine(pg_url)
    sessions = make_session_factory(engine)
    try:
        incident_id = declare(sessions, now, process)
        barrier = threading.Barrier(CALLERS)
        created: list[bool] = []
        errors: list[BaseException] = []

        def ask(user: str) -> None:
            try:
                with sessions.begin() as s:
                    incident = s.get(Incident, incident_id)
                    barrier.wait(timeout=10)
                    done = paging.request_page(s, incident, team="payments", pager="pagerduty", by=user, now=now)
                created.append(done.created)
            except BaseException as exc:  # noqa: BLE001 - asserted on below
                errors.append(exc)

        threads = [threading.Thread(target=ask, args=(f"U0{n}",)) for n in range(CALLERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert sorted(created) == [False] * (CALLERS - 1) + [True]
        with sessions() as s:
            assert s.scalar(select(func.count()).select_from(Page)) == 1
            assert len(kinds(s, Effect.PAGE_TRIGGER)) == 1
            assert (
                s.scalar(select(func.count()).select_from(TimelineEvent).where(TimelineEvent.kind == "page_requested"))
                == 1
            )
    finally:
        engine.dispose()
