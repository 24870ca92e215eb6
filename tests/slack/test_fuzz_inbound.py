"""Signed but mutated requests, started from the valid ones the simulator builds (`app.sandbox.fuzz`): a field
removed, nulled or of another type, a list emptied, bytes cut or not UTF-8. Sent to the real app, none gets a
5xx, and one refused at the edge writes nothing (no incident, timeline or outbox row)."""

from __future__ import annotations

import os
import time
import weakref

from hypothesis import HealthCheck, given, settings
from hypothesis import event as note
from hypothesis import strategies as st
from sqlalchemy import func, select
from structlog.testing import capture_logs

from app.sandbox import fuzz
from app.slack.listener_pool import ContextExecutor
from incidents.models import Base
from tests.slack.slack_harness import ALICE, GENERAL, SIGNING_SECRET, Harness

SETTINGS = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=not os.environ.get("FUZZ_EXAMPLES"),
)


_SEEDS: weakref.WeakKeyDictionary[Harness, list[fuzz.Request]] = weakref.WeakKeyDictionary()


def seeds(h: Harness) -> list[fuzz.Request]:
    """The valid requests of one session, played once per test (examples share the harness)."""
    if h not in _SEEDS:
        _SEEDS[h] = fuzz.seeds(h.slack, h.workspace, user=ALICE, channel=GENERAL, settle=h.settle)
    return _SEEDS[h]


def rows(h: Harness) -> dict[str, int]:
    with h.runtime.sessions() as session:
        return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def test_the_session_covers_every_kind_of_request(harness: Harness) -> None:
    kinds = {fuzz.kind(request) for request in seeds(harness)}
    assert kinds >= {"command", "view_submission", "block_actions", "message_action", "event_callback"}, kinds


@SETTINGS
@given(pick=st.integers(0, 10_000), rng=st.randoms(use_true_random=False))
def test_mutated_signed_requests_never_get_a_5xx_and_refused_ones_write_nothing(
    harness: Harness, pick: int, rng
) -> None:  # type: ignore[no-untyped-def]
    pool = seeds(harness)
    request = fuzz.mutate(pool[pick % len(pool)], rng)
    harness.settle()
    before = rows(harness)
    with capture_logs():
        status, _, answer = harness.slack.deliver(
            request.body, fuzz.signed(SIGNING_SECRET, request, timestamp=int(time.time()))
        )
        executor = harness.app.listener_runner.listener_executor
        assert isinstance(executor, ContextExecutor) and executor.wait_idle(10)
        harness.settle()
    note(f"HTTP {status}")
    assert status < 500, f"HTTP {status}: {answer[:300]!r} for {request.body[:300]!r}"
    if status >= 400:
        assert rows(harness) == before, f"HTTP {status} but rows were written for {request.body[:300]!r}"
