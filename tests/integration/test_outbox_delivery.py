"""Delivering the outbox: retries with backoff and jitter, Retry-After, dead letters, waiting, leases."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from incidents import outbox, service
from incidents.effects import Effect
from incidents.models import OutboxMessage, OutboxStatus
from incidents.outbox import NotReady, PermanentFailure, RetryLater, RetryPolicy, Unavailable, deliver_due

POLICY = RetryPolicy(base_seconds=2, cap_seconds=60, max_attempts=4, lease_seconds=30)


class Clock:
    def __init__(self, start):
        self.t = start

    def __call__(self):
        return self.t

    def advance(self, **kw):
        self.t += timedelta(**kw)


@pytest.fixture
def clock(now):
    return Clock(now)


def put(sessions, clock, key="k1", kind=Effect.CHANNEL_MESSAGE, incident_id=None, **kw):
    with sessions.begin() as s:
        outbox.enqueue(s, kind=kind, key=key, now=clock(), incident_id=incident_id, **kw)
        return s.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key))


def row(sessions, message_id):
    with sessions() as s:
        return s.get(OutboxMessage, message_id)


def deliver(sessions, clock, handler, kind=Effect.CHANNEL_MESSAGE, **kw):
    kw.setdefault("policy", POLICY)
    return deliver_due(sessions, {kind.value: handler}, now=clock, rng=random.Random(7), **kw)


def failing(exc):
    def handler(_message):
        raise exc

    return handler


def test_a_delivered_message_is_done_with_its_result(sessions, clock):
    mid = put(sessions, clock)
    assert deliver(sessions, clock, lambda m: {"ts": "1.2"}) == {"done": 1, "pending": 0, "dead": 0}
    done = row(sessions, mid)
    assert done.status == OutboxStatus.DONE and done.result == {"ts": "1.2"} and done.delivered_at == clock()
    assert done.locked_until is None and done.claim_token is None
    assert deliver(sessions, clock, lambda m: pytest.fail("delivered twice")) == {"done": 0, "pending": 0, "dead": 0}


def test_the_same_key_is_stored_once(sessions, clock):
    assert put(sessions, clock, key="same") == put(sessions, clock, key="same")
    with sessions() as s:
        assert len(s.scalars(select(OutboxMessage)).all()) == 1


def test_transient_failures_back_off_exponentially_with_jitter(sessions, clock):
    mid = put(sessions, clock)
    delays = []
    for attempt in range(1, 4):
        assert deliver(sessions, clock, failing(RetryLater("HTTP 503")))["pending"] == 1
        message = row(sessions, mid)
        delay = (message.next_attempt_at - clock()).total_seconds()
        ceiling = min(POLICY.cap_seconds, POLICY.base_seconds * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
        assert message.attempts == attempt and message.last_error == "HTTP 503"
        delays.append(delay)
        assert deliver(sessions, clock, pytest.fail)["pending"] == 0, "not due before its backoff"
        clock.advance(seconds=delay)
    assert delays == sorted(delays)


def test_jitter_spreads_retries_of_messages_that_failed_together():
    rng = random.Random(1)
    delays = {round(RetryPolicy().backoff(5, rng), 3) for _ in range(20)}
    assert len(delays) > 15
    assert all(16 <= d <= 32 for d in delays)


def test_retry_after_from_slack_is_honoured(sessions, clock):
    mid = put(sessions, clock)
    deliver(sessions, clock, failing(RetryLater("ratelimited", after=45)))
    assert row(sessions, mid).next_attempt_at == clock() + timedelta(seconds=45)
    clock.advance(seconds=44)
    assert deliver(sessions, clock, pytest.fail)["pending"] == 0
    clock.advance(seconds=1)
    assert deliver(sessions, clock, lambda m: None)["done"] == 1


def test_a_message_that_keeps_failing_goes_dead_with_its_last_error(sessions, clock):
    mid = put(sessions, clock)
    outcomes = []
    for attempt in range(POLICY.max_attempts):
        counts = deliver(sessions, clock, failing(ConnectionError(f"refused #{attempt}")))
        outcomes.append(next(k for k, v in counts.items() if v))
        clock.advance(seconds=POLICY.cap_seconds)
    assert outcomes == ["pending", "pending", "pending", "dead"]
    dead = row(sessions, mid)
    assert dead.status == OutboxStatus.DEAD and dead.attempts == POLICY.max_attempts
    assert dead.last_error == "ConnectionError: refused #3"
    assert deliver(sessions, clock, pytest.fail)["dead"] == 0, "dead letters are not claimed"


def test_a_permanent_failure_goes_dead_at_once(sessions, clock):
    mid = put(sessions, clock)
    assert deliver(sessions, clock, failing(PermanentFailure("channel_not_found")))["dead"] == 1
    assert row(sessions, mid).last_error == "channel_not_found"


def test_waiting_for_another_effect_counts_no_attempt_and_backs_off_with_age(sessions, clock):
    mid = put(sessions, clock)
    delays = []
    for _ in range(60):
        deliver(sessions, clock, failing(NotReady("no channel yet")))
        message = row(sessions, mid)
        delays.append((message.next_attempt_at - clock()).total_seconds())
        clock.t = message.next_attempt_at
    assert message.status == OutboxStatus.PENDING and message.attempts == 0
    assert message.last_error == "waiting: no channel yet"
    assert delays[0] == POLICY.not_ready_seconds
    assert delays == sorted(delays) and delays[-1] == POLICY.cap_seconds, "it polls less often as it waits"


def test_a_success_wakes_the_waiting_messages_of_the_same_incident(sessions, clock, process):
    with sessions.begin() as s:
        incident_id = service.declare(s, title="t", severity="SEV2", reporter_id="U1", now=clock(), process=process).id
    card = put(sessions, clock, key="card", kind=Effect.REFRESH_CARD, incident_id=incident_id)
    clock.advance(hours=1)
    with sessions.begin() as s:  # it has been waiting for an hour: polled every few minutes now
        s.execute(update(OutboxMessage).where(OutboxMessage.id == card).values(last_error="waiting: no channel"))
        s.execute(
            update(OutboxMessage).where(OutboxMessage.id == card).values(next_attempt_at=clock() + timedelta(minutes=5))
        )
    handlers = {Effect.OPEN_CHANNEL.value: lambda m: {"channel": "C1"}, Effect.REFRESH_CARD.value: lambda m: None}
    assert deliver_due(sessions, handlers, now=clock, policy=POLICY)["done"] == 1  # the channel
    assert row(sessions, card).next_attempt_at == clock()
    assert deliver_due(sessions, handlers, now=clock, policy=POLICY)["done"] == 1  # the card, at once


def test_unavailable_counts_no_attempt(sessions, clock):
    mid = put(sessions, clock)
    deliver(sessions, clock, failing(Unavailable("circuit open", after=30)))
    message = row(sessions, mid)
    assert message.attempts == 0 and message.next_attempt_at == clock() + timedelta(seconds=30)
    assert message.last_error == "unavailable: circuit open"


def test_a_crashed_worker_s_lease_expires_and_the_message_is_delivered_again(sessions, clock):
    """At least once: a worker that claimed and died leaves the message to the next one after the lease."""
    mid = put(sessions, clock)
    crashed = outbox.claim(sessions, now=clock(), limit=10, policy=POLICY)
    assert [m.id for m in crashed] == [mid]
    assert deliver(sessions, clock, pytest.fail)["done"] == 0, "the lease is still held"
    clock.advance(seconds=POLICY.lease_seconds + 1)
    delivered = []
    assert deliver(sessions, clock, lambda m: delivered.append(m.id))["done"] == 1
    assert delivered == [mid]
    # The crashed worker comes back to settle: its lease is gone, so its outcome is ignored.
    status = outbox.settle(
        sessions, crashed[0], now=clock(), error=RetryLater("late"), result=None, policy=POLICY, rng=random.Random()
    )
    assert status == "lost"
    assert row(sessions, mid).status == OutboxStatus.DONE


def test_each_message_s_lease_is_renewed_before_delivery(sessions, clock):
    """A slow batch must not let the lease of a message further down run out before its turn comes."""
    ids = [put(sessions, clock, key=f"k{i}") for i in range(3)]
    seen = []

    def slow(message):
        seen.append((message.id, message.locked_until))
        clock.advance(seconds=POLICY.lease_seconds - 1)  # each delivery takes almost a whole lease

    start = clock()
    assert deliver(sessions, clock, slow)["done"] == 3
    assert [i for i, _ in seen] == ids
    assert seen[2][1] > start + timedelta(seconds=POLICY.lease_seconds * 2)


def test_a_lease_lost_before_delivery_is_skipped(sessions, clock):
    put(sessions, clock, key="a")
    second = put(sessions, clock, key="b")
    delivered = []

    def slow_then_stolen(message):
        delivered.append(message.id)
        clock.advance(seconds=POLICY.lease_seconds + 1)  # our lease on the next one ran out meanwhile...
        with sessions.begin() as s:  # ...and another worker claimed it
            s.execute(update(OutboxMessage).where(OutboxMessage.id == second).values(claim_token="other"))

    counts = deliver(sessions, clock, slow_then_stolen)
    assert counts["done"] == 1 and counts["lost"] == 1
    assert second not in delivered


def test_stopping_mid_batch_hands_the_rest_back_at_once(sessions, clock):
    ids = [put(sessions, clock, key=f"k{i}") for i in range(4)]
    delivered = []
    counts = deliver(sessions, clock, lambda m: delivered.append(m.id), keep_going=lambda: len(delivered) < 2)
    assert counts["done"] == 2 and counts["released"] == 2
    for mid in ids[2:]:
        message = row(sessions, mid)
        assert message.locked_until is None and message.status == OutboxStatus.PENDING and message.attempts == 0
    assert deliver(sessions, clock, lambda m: delivered.append(m.id))["done"] == 2, "no lease to wait for"
    assert delivered == ids


def test_a_worker_claims_only_the_kinds_it_can_deliver(sessions, clock):
    """During a rolling deploy an older replica leaves a new kind of effect to the newer ones."""
    mid = put(sessions, clock, kind=Effect.UPLOAD_POSTMORTEM)
    assert deliver(sessions, clock, pytest.fail) == {"done": 0, "pending": 0, "dead": 0}
    message = row(sessions, mid)
    assert message.status == OutboxStatus.PENDING and message.locked_until is None


def test_a_message_without_a_handler_is_dead_lettered(sessions, clock):
    mid = put(sessions, clock)
    with sessions.begin() as s:  # claimed by hand: deliver_due itself never claims what it cannot deliver
        s.execute(update(OutboxMessage).values(kind="retired_kind"))
    counts = deliver_due(sessions, {"retired_kind": None}, now=clock, policy=POLICY)  # type: ignore[dict-item]
    assert counts["dead"] == 1
    assert "no handler" in row(sessions, mid).last_error


def test_a_slow_delivery_keeps_its_lease_alive_so_no_other_worker_takes_it(sessions):
    """The lease is renewed while the handler runs: a delivery longer than the lease is not delivered twice."""
    import threading
    import time
    from datetime import UTC, datetime

    short = RetryPolicy(lease_seconds=0.3)
    real = lambda: datetime.now(UTC)  # noqa: E731
    put(sessions, real)
    taken_meanwhile = []
    started = threading.Event()

    def slow(_message):
        started.set()
        time.sleep(1.0)  # more than three leases

    worker = threading.Thread(
        target=lambda: deliver_due(sessions, {Effect.CHANNEL_MESSAGE.value: slow}, now=real, policy=short)
    )
    worker.start()
    assert started.wait(5)
    while worker.is_alive():  # another worker tries to claim it all along the delivery
        taken_meanwhile += outbox.claim(sessions, now=real(), limit=5, policy=short)
        worker.join(0.05)
    assert taken_meanwhile == []
    with sessions() as s:
        assert s.scalar(select(OutboxMessage.status)) == OutboxStatus.DONE
