"""The outbox worker: woken after a commit, several deliveries at once, a clean stop."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.delivery.worker import OutboxWorker
from app.observability.inflight import InFlight
from incidents import outbox
from incidents.effects import Effect
from incidents.models import OutboxMessage, OutboxStatus


def enqueue(sessions: sessionmaker[Session], kind: Effect, key: str) -> None:
    with sessions.begin() as session:
        outbox.enqueue(session, kind=kind, key=key, now=datetime.now(UTC))


def status(sessions: sessionmaker[Session], key: str) -> str:
    with sessions() as session:
        return session.scalars(select(OutboxMessage.status).where(OutboxMessage.key == key)).one()


def test_a_wake_delivers_at_once_without_waiting_for_the_poll(sessions: sessionmaker[Session]) -> None:
    delivered = threading.Event()
    worker = OutboxWorker(
        sessions,
        {Effect.CHANNEL_MESSAGE: lambda message: delivered.set()},
        now=lambda: datetime.now(UTC),
        threads=2,
        poll_seconds=3600,
    ).start()
    try:
        assert not delivered.wait(0.05)  # the first round found nothing; the next poll is an hour away
        enqueue(sessions, Effect.CHANNEL_MESSAGE, "a")
        worker.wake()
        assert delivered.wait(5)
    finally:
        worker.stop()
    assert status(sessions, "a") == OutboxStatus.DONE


def test_a_slow_delivery_does_not_hold_up_the_others(sessions: sessionmaker[Session]) -> None:
    release, slow_started, fast_done = threading.Event(), threading.Event(), threading.Event()

    def slow(message: OutboxMessage) -> None:
        slow_started.set()
        assert release.wait(10)

    worker = OutboxWorker(
        sessions,
        {Effect.CHANNEL_MESSAGE: slow, Effect.DIRECT_MESSAGE: lambda message: fast_done.set()},
        now=lambda: datetime.now(UTC),
        threads=2,
        poll_seconds=3600,
    ).start()
    try:
        enqueue(sessions, Effect.CHANNEL_MESSAGE, "slow")
        worker.wake()
        assert slow_started.wait(5)
        enqueue(sessions, Effect.DIRECT_MESSAGE, "fast")
        worker.wake()
        assert fast_done.wait(5)
        assert status(sessions, "slow") == OutboxStatus.PENDING
    finally:
        release.set()
        worker.stop()
    assert status(sessions, "slow") == OutboxStatus.DONE


def test_stop_ends_every_thread(sessions: sessionmaker[Session]) -> None:
    before = set(threading.enumerate())
    worker = OutboxWorker(sessions, {}, now=lambda: datetime.now(UTC), threads=3, poll_seconds=3600).start()
    threads = [t for t in set(threading.enumerate()) - before if t.name.startswith("outbox-")]
    assert len(threads) == 3
    worker.stop()
    assert not any(t.is_alive() for t in threads)


def test_deliveries_wait_while_a_request_is_answered_and_go_when_it_is(sessions: sessionmaker[Session]) -> None:
    """Acks first: the worker claims nothing while a request is being answered (up to its yield time)."""
    inflight = InFlight()
    delivered = threading.Event()
    worker = OutboxWorker(
        sessions,
        {Effect.CHANNEL_MESSAGE: lambda message: delivered.set()},
        now=lambda: datetime.now(UTC),
        threads=1,
        poll_seconds=3600,
        yield_to=inflight.wait_quiet,
        yield_seconds=60,
    )
    with inflight.answering():
        worker.start()
        try:
            enqueue(sessions, Effect.CHANNEL_MESSAGE, "after-the-ack")
            worker.wake()
            assert not delivered.wait(0.3)
            assert status(sessions, "after-the-ack") == OutboxStatus.PENDING
        except BaseException:
            worker.stop()
            raise
    try:
        assert delivered.wait(5)  # answered: the worker goes on at once, long before its yield time
    finally:
        worker.stop()


def test_a_steady_stream_of_requests_delays_deliveries_but_never_stops_them(sessions: sessionmaker[Session]) -> None:
    inflight = InFlight()
    delivered = threading.Event()
    worker = OutboxWorker(
        sessions,
        {Effect.CHANNEL_MESSAGE: lambda message: delivered.set()},
        now=lambda: datetime.now(UTC),
        threads=1,
        poll_seconds=3600,
        yield_to=inflight.wait_quiet,
        yield_seconds=0.05,
    )
    with inflight.answering():  # never quiet while the message waits
        worker.start()
        try:
            enqueue(sessions, Effect.CHANNEL_MESSAGE, "busy")
            worker.wake()
            assert delivered.wait(5)
        finally:
            worker.stop()
    assert status(sessions, "busy") == OutboxStatus.DONE
