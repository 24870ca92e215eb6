"""Declaring is idempotent under concurrency: the same `declare_key` submitted at once by several replicas (Slack
resending a submission, a double click landing on two workers) makes one incident, and every caller gets it."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from incidents import service
from incidents.db import make_engine, make_session_factory
from incidents.effects import Effect
from incidents.models import Counter, Incident, OutboxMessage, TimelineEvent
from incidents.process import Process

CALLERS = 8
ROUNDS = 5


def declare_at_once(
    sessions: sessionmaker[Session], key: str, now: datetime, process: Process
) -> tuple[list[str], list[BaseException]]:
    """CALLERS threads, each with its own session, declare with `key` at the same moment."""
    barrier = threading.Barrier(CALLERS)
    refs: list[str] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            with sessions.begin() as s:
                barrier.wait(timeout=10)
                incident = service.declare(
                    s,
                    title="Checkout is failing",
                    severity="SEV2",
                    reporter_id="U01ALICE",
                    now=now,
                    process=process,
                    declare_key=key,
                )
            refs.append(incident.ref)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted on by the test
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return refs, errors


@pytest.mark.postgres_only
def test_concurrent_declares_with_one_key_make_one_incident_and_every_caller_gets_it(pg_url, now, process):
    engine = make_engine(pg_url)
    sessions = make_session_factory(engine)
    try:
        for number in range(1, ROUNDS + 1):
            refs, errors = declare_at_once(sessions, f"V{number}", now, process)
            assert errors == []
            assert refs == [f"INC-{number}"] * CALLERS  # and no number is burned by the callers that lost
        with sessions() as s:
            assert s.scalar(select(func.count()).select_from(Incident)) == ROUNDS
            assert s.scalar(select(Counter.value).where(Counter.name == "incident")) == ROUNDS
            assert s.scalar(select(func.count()).select_from(TimelineEvent)) == ROUNDS
            opened = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == Effect.OPEN_CHANNEL)
            assert s.scalar(opened) == ROUNDS
    finally:
        engine.dispose()


@pytest.mark.postgres_only
def test_declarations_at_once_are_numbered_one_after_another_with_no_gap(pg_url, now, process):
    """On PostgreSQL the number is drawn last, just before the commit (the row holds a negative stand-in until
    then): 16 declarations at once still get INC-1..INC-16, each once, and no row keeps its stand-in. Every hook
    that runs on declare is on (owners, recent changes, pages), and nothing they store names a stand-in."""
    process = dataclasses.replace(process, show_changes_on_declare=True, page_on_declare_severities=frozenset({"SEV2"}))
    engine = make_engine(pg_url)
    sessions = make_session_factory(engine)
    callers = 16
    barrier = threading.Barrier(callers)
    refs: list[str] = []
    errors: list[BaseException] = []

    def submit(n: int) -> None:
        try:
            with sessions.begin() as s:
                barrier.wait(timeout=10)
                incident = service.declare(
                    s,
                    title=f"Outage {n}",
                    severity="SEV2",
                    reporter_id="U01ALICE",
                    now=now,
                    process=process,
                    declare_key=f"V{n}",
                    services=["checkout"],
                )
            refs.append(incident.ref)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted on by the test
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    try:
        assert errors == []
        assert sorted(refs, key=lambda r: int(r.split("-")[1])) == [f"INC-{n}" for n in range(1, callers + 1)]
        with sessions() as s:
            assert sorted(s.scalars(select(Incident.number))) == list(range(1, callers + 1))
            assert s.scalar(select(Counter.value).where(Counter.name == "incident")) == callers
            stored = [m.payload for m in s.scalars(select(OutboxMessage))]
            stored += [e.data for e in s.scalars(select(TimelineEvent))]
            assert {m.kind for m in s.scalars(select(OutboxMessage))} >= {
                Effect.OPEN_CHANNEL.value,
                Effect.PAGE_OWNERS.value,
            }
            assert not [x for x in stored if "INC--" in json.dumps(x) or '"number": -' in json.dumps(x)]
    finally:
        engine.dispose()
