"""Several workers on one database deliver each effect once: threads with their own engines, and processes.

PostgreSQL claims with `FOR UPDATE SKIP LOCKED`; SQLite serializes writers (`BEGIN IMMEDIATE`). Handlers fail
now and then, so messages are claimed again after a backoff, and every attempt's time span is recorded: two
attempts at one message must never overlap, and each message succeeds exactly once."""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from incidents import outbox
from incidents.db import make_engine, make_session_factory
from incidents.effects import Effect
from incidents.models import OutboxMessage, OutboxStatus
from incidents.outbox import RetryLater, RetryPolicy

MESSAGES = 200
POLICY = RetryPolicy(base_seconds=0.01, cap_seconds=0.05, max_attempts=100, lease_seconds=30)


def utcnow() -> datetime:
    return datetime.now(UTC)


def fill(url: str, count: int = MESSAGES) -> None:
    engine = make_engine(url)
    with make_session_factory(engine).begin() as s:
        for i in range(count):
            outbox.enqueue(s, kind=Effect.CHANNEL_MESSAGE, key=f"m{i}", now=utcnow(), payload={"i": i})
    engine.dispose()


def work(url: str, seed: int, deadline: float) -> list[tuple[int, bool, float, float]]:
    """One worker: deliver until nothing is pending. Returns (message id, succeeded, start, end) per attempt."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    rng = random.Random(seed)
    attempts: list[tuple[int, bool, float, float]] = []

    def handler(message):
        start = time.monotonic()
        time.sleep(rng.uniform(0, 0.003))
        ok = rng.random() > 0.2
        attempts.append((message.id, ok, start, time.monotonic()))
        if not ok:
            raise RetryLater("flaky")

    try:
        while time.monotonic() < deadline:
            outbox.deliver_due(
                sessions, {Effect.CHANNEL_MESSAGE.value: handler}, now=utcnow, limit=5, policy=POLICY, rng=rng
            )
            with sessions() as s:
                left = s.scalar(select(func.count()).where(OutboxMessage.status == OutboxStatus.PENDING.value))
            if not left:
                break
            time.sleep(0.002)
    finally:
        engine.dispose()
    return attempts


def check(url: str, attempts: list[tuple[int, bool, float, float]]) -> None:
    by_message = defaultdict(list)
    for message_id, ok, start, end in attempts:
        by_message[message_id].append((start, end, ok))
    assert len(by_message) == MESSAGES
    for message_id, spans in by_message.items():
        assert sum(ok for *_, ok in spans) == 1, f"message {message_id} delivered {spans}"
        spans.sort()
        for (_, end, _), (start, _, _) in zip(spans, spans[1:], strict=False):
            assert end <= start, f"two workers held message {message_id} at once"
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        statuses = s.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    engine.dispose()
    assert dict(statuses) == {OutboxStatus.DONE.value: MESSAGES}


def test_worker_threads_with_their_own_engines_deliver_each_message_once(database_url):
    fill(database_url)
    deadline = time.monotonic() + 60
    results: list[list] = [[] for _ in range(6)]

    def run(i: int) -> None:
        results[i] = work(database_url, i, deadline)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    attempts = [a for r in results for a in r]
    check(database_url, attempts)
    assert sum(1 for r in results if r) > 1, "the work was shared"


@pytest.mark.postgres_only
def test_worker_processes_deliver_each_message_once_on_postgresql(pg_url):
    """Replicas of the bot on one PostgreSQL server: separate processes, separate connection pools."""
    fill(pg_url)
    deadline = time.monotonic() + 90
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.starmap(work, [(pg_url, i, deadline) for i in range(4)])
    # time.monotonic() is system-wide on Linux, so spans from different processes compare.
    check(pg_url, [a for r in results for a in r])
    assert sum(1 for r in results if r) > 1, "the work was shared"
