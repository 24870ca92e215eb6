"""Delivers the outbox: a few threads claim due messages one at a time and run their handlers, so one slow
incident does not hold up the others. its `Bell` rung (after a listener's transaction commits) starts a round at once;
otherwise each thread looks every `poll_seconds`."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from datetime import datetime

import structlog
from sqlalchemy.orm import Session, sessionmaker

from app.delivery.bell import Bell
from app.delivery.circuit import CircuitBreaker
from app.delivery.guard import NOT_SLACK, guard
from incidents.models import OutboxMessage
from incidents.outbox import Handler, RetryPolicy, deliver_due

logger = structlog.get_logger("app.outbox")


class OutboxWorker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        handlers: Mapping[str, Handler],
        *,
        now: Callable[[], datetime],
        threads: int = 4,
        poll_seconds: float = 1.0,
        policy: RetryPolicy | None = None,
        circuit: CircuitBreaker | None = None,
        observe: Callable[[OutboxMessage, str], None] | None = None,
        bell: Bell | None = None,
        yield_to: Callable[[float], object] | None = None,
        yield_seconds: float = 0.2,
    ):
        self.sessions = sessions
        # With a circuit breaker, Slack failing as a whole stops the Slack deliveries (none is claimed) until a
        # probe gets through; messages stay pending and keep their attempts (see app.delivery.guard). Effects that
        # do not call Slack (NOT_SLACK: the pagers) are still claimed and delivered meanwhile.
        self.circuit = circuit
        self.handlers = guard(handlers, circuit) if circuit is not None else handlers
        self._not_slack = {kind: handler for kind, handler in self.handlers.items() if kind in NOT_SLACK}
        self.observe = observe
        self.now = now
        self.threads = threads
        self.poll_seconds = poll_seconds
        self.policy = policy or RetryPolicy()
        self.bell = bell or Bell()
        # Before each claim, wait (at most `yield_seconds`) while requests are being answered: acks first.
        self.yield_to = yield_to
        self.yield_seconds = yield_seconds
        self._stopping = False
        self._threads: list[threading.Thread] = []

    def start(self) -> OutboxWorker:
        for n in range(self.threads):
            thread = threading.Thread(target=self._run, name=f"outbox-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def wake(self) -> None:
        self.bell.ring()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the deliveries in progress, then stop (leases of unfinished ones expire and are retried)."""
        self._stopping = True
        self.bell.ring()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def _run(self) -> None:
        rng = random.Random()
        while True:
            if self._stopping:
                return
            seen = self.bell.rings
            self._drain(rng)
            self.bell.wait(seen, self.poll_seconds, unless=lambda: self._stopping)

    def _drain(self, rng: random.Random) -> None:
        """Deliver one message at a time until none is due (or the circuit breaker says wait)."""
        while not self._stopping:
            handlers = self.handlers
            if self.circuit is not None and not self.circuit.ready():
                if not self._not_slack:
                    return
                handlers = self._not_slack  # Slack is down: only what does not call it
            if self.yield_to is not None:
                self.yield_to(self.yield_seconds)
            try:
                counts = deliver_due(
                    self.sessions,
                    handlers,
                    now=self.now,
                    limit=1,
                    policy=self.policy,
                    rng=rng,
                    keep_going=lambda: not self._stopping,
                    observe=self.observe,
                )
            except Exception:  # a database hiccup must not kill the worker
                logger.exception("outbox_round_failed")
                return
            if not any(counts.values()):
                return
