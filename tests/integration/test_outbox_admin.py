"""`incidents outbox list|retry|drop|prune` and `incidents repair` against a real database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from app.cli.main import main
from incidents import outbox, outbox_admin, service
from incidents.db import make_engine, make_session_factory
from incidents.effects import Effect
from incidents.models import Incident, OutboxMessage, OutboxStatus, SeenRequest
from incidents.outbox import PermanentFailure, RetryPolicy


@pytest.fixture
def run(database_url, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)

    def invoke(*args: str, **kw):
        return CliRunner().invoke(main, list(args), catch_exceptions=False, **kw)

    return invoke


@pytest.fixture
def db(database_url):
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def clock():
    return lambda: datetime.now(UTC)  # the CLI reads the real time


def declare(db, clock, process, **kw):
    with db.begin() as s:
        args = {"title": "Checkout is failing", "severity": "SEV2", "reporter_id": "U1"} | kw
        return service.declare(s, now=clock(), process=process, **args).id


def kill(db, clock, kind=Effect.OPEN_CHANNEL):
    """Deliver `kind` with a handler that fails for good."""

    def handler(_m):
        raise PermanentFailure("channel_not_found")

    outbox.deliver_due(db, {kind.value: handler}, now=clock, policy=RetryPolicy(), rng=random.Random(1))


def status_of(db, message_id):
    with db() as s:
        return s.get(OutboxMessage, message_id)


def test_list_shows_a_table_with_the_last_error_and_the_incident(run, db, clock, process):
    declare(db, clock, process)
    kill(db, clock)
    declare(db, clock, process)
    result = run("outbox", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["ID", "INCIDENT", "KIND", "STATUS", "ATTEMPTS", "NEXT", "ATTEMPT", "LAST", "ERROR"]
    assert lines[1].split()[:5] == ["2", "INC-2", "open_channel", "pending", "0"]
    assert lines[2].split()[:5] == ["1", "INC-1", "open_channel", "dead", "1"]
    assert lines[2].endswith("channel_not_found")
    dead_only = run("outbox", "list", "--status", "dead", "--limit", "5").output.splitlines()
    assert len(dead_only) == 2 and "INC-1" in dead_only[1]


def test_list_says_when_there_is_nothing(run):
    assert run("outbox", "list").output.strip() == "The outbox is empty."
    assert run("outbox", "list", "--status", "dead").output.strip() == "No dead messages."


def test_retry_brings_a_dead_message_back_with_attempts_reset(run, db, clock, process):
    declare(db, clock, process)
    kill(db, clock)
    result = run("outbox", "retry", "1")
    assert result.exit_code == 0 and "1 message(s)" in result.output
    message = status_of(db, 1)
    assert message.status == OutboxStatus.PENDING and message.attempts == 0
    assert message.next_attempt_at <= clock()
    assert message.last_error == "channel_not_found", "the last error stays visible until it succeeds"


def test_retry_all_brings_back_every_dead_and_pending_message(run, db, clock, process):
    for _ in range(3):
        declare(db, clock, process)
    kill(db, clock)
    assert "3 message(s)" in run("outbox", "retry", "--all").output
    with db() as s:
        assert set(s.scalars(select(OutboxMessage.status))) == {OutboxStatus.PENDING.value}


def test_retry_needs_an_id_or_all(run):
    assert run("outbox", "retry").exit_code == 2
    assert run("outbox", "retry", "1", "--all").exit_code == 2


def test_retry_and_drop_leave_a_message_being_delivered_alone(run, db, clock, process):
    declare(db, clock, process)
    outbox.claim(db, now=clock(), limit=5, policy=RetryPolicy())
    for args in (("retry", "1"), ("drop", "1", "--yes")):
        result = run("outbox", *args)
        assert result.exit_code == 1 and "being delivered right now" in result.output
    assert "0 message(s)" in run("outbox", "retry", "--all").output
    assert "delivering" in run("outbox", "list").output


def test_an_expired_lease_of_a_crashed_worker_can_be_retried(run, db, clock, process):
    declare(db, clock, process)
    outbox.claim(db, now=clock() - timedelta(minutes=5), limit=5, policy=RetryPolicy())
    assert run("outbox", "retry", "1").exit_code == 0
    assert status_of(db, 1).locked_until is None


def test_drop_asks_for_confirmation_and_deletes(run, db, clock, process):
    declare(db, clock, process)
    kill(db, clock)
    refused = run("outbox", "drop", "1", input="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.output
    assert status_of(db, 1) is not None
    result = run("outbox", "drop", "1", input="y\n")
    assert result.exit_code == 0 and "Dropped message 1 (open_channel, dead)" in result.output
    assert status_of(db, 1) is None


def test_drop_without_a_terminal_and_without_yes_aborts(run, db, clock, process):
    declare(db, clock, process)
    assert run("outbox", "drop", "1").exit_code == 1  # CI has no stdin: nothing is deleted
    assert status_of(db, 1) is not None
    assert run("outbox", "drop", "1", "--yes").exit_code == 0


def test_a_delivered_message_cannot_be_dropped_or_retried(run, db, clock, process):
    declare(db, clock, process)
    outbox.deliver_due(db, {Effect.OPEN_CHANNEL.value: lambda m: None}, now=clock)
    for args in (("drop", "1", "--yes"), ("retry", "1")):
        result = run("outbox", *args)
        assert result.exit_code == 1 and "was delivered" in result.output


def test_an_unknown_message_is_named(run):
    result = run("outbox", "drop", "42", "--yes")
    assert result.exit_code == 1 and "no outbox message 42" in result.output


def test_prune_deletes_old_delivered_messages_and_request_ids(run, db, clock, process):
    declare(db, clock, process)
    outbox.deliver_due(db, {Effect.OPEN_CHANNEL.value: lambda m: None}, now=clock)
    declare(db, clock, process)
    with db.begin() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.id == 1).values(delivered_at=clock() - timedelta(days=40)))
        s.add(SeenRequest(key="Ev1", seen_at=clock() - timedelta(days=40)))
        s.add(SeenRequest(key="Ev2", seen_at=clock()))
    result = run("outbox", "prune", "--days", "30")
    assert "Deleted 1 delivered message(s) and 1 request id(s)" in result.output
    with db() as s:
        assert s.scalars(select(OutboxMessage.id)).all() == [2]


def test_depth_counts_pending_and_dead_by_kind_and_how_late_the_oldest_is(db, process):
    t0 = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
    declare(db, lambda: t0, process)
    declare(db, lambda: t0, process)
    kill(db, lambda: t0)  # both die
    declare(db, lambda: t0 + timedelta(minutes=1), process)
    with db() as s:
        d = outbox_admin.depth(s, now=t0 + timedelta(minutes=3))
    assert d.pending == {"open_channel": 1} and d.dead == {"open_channel": 2}
    assert d.oldest_due_seconds == 120
    with db() as s:
        assert outbox_admin.depth(s, now=t0).oldest_due_seconds == 0


def test_repair_reopens_a_channel_that_never_appeared(run, db, clock, process):
    declare(db, clock, process)
    kill(db, clock)
    result = run("repair", "inc-1")
    assert result.exit_code == 0
    assert "INC-1: retried 1 dead message(s): 1" in result.output
    assert "already queued" in result.output
    with db() as s:
        assert s.scalars(select(OutboxMessage.status)).all() == ["pending"]


def test_repair_queues_open_channel_when_the_card_is_missing_and_refreshes(run, db, clock, process):
    incident_id = declare(db, clock, process)
    outbox.deliver_due(db, {Effect.OPEN_CHANNEL.value: lambda m: None}, now=clock)
    with db.begin() as s:
        s.execute(update(Incident).where(Incident.id == incident_id).values(channel_id="C1"))
    result = run("repair", "INC-1")
    assert "the card is missing: queued open_channel" in result.output
    assert "queued refresh_card" in result.output
    with db() as s:
        kinds = s.scalars(select(OutboxMessage.kind).where(OutboxMessage.status == "pending")).all()
    assert sorted(kinds) == ["open_channel", "refresh_card"]
    again = run("repair", "INC-1")
    assert "already queued" in again.output and "refresh_card" not in again.output, "safe to run twice"


def test_repair_of_a_healthy_incident_redraws_its_card(run, db, clock, process):
    incident_id = declare(db, clock, process)
    outbox.deliver_due(db, {Effect.OPEN_CHANNEL.value: lambda m: None}, now=clock)
    with db.begin() as s:
        s.execute(update(Incident).where(Incident.id == incident_id).values(channel_id="C1", card_ts="1.1"))
    assert run("repair", "INC-1").stdout.strip() == "INC-1: queued refresh_card to redraw the card and the announcement"


def test_repair_names_an_unknown_incident(run):
    result = run("repair", "INC-9")
    assert result.exit_code == 1 and "INC-9" in result.output
