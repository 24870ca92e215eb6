"""The outbox's doorbell: rung after a transaction that enqueued effects commits, so the worker delivers them now
instead of at its next poll. Built before everything that rings it (listeners, handlers, the scheduler) and the
worker that answers it, so that nothing is wired after it is built."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Bell:
    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.rings = 0

    def ring(self) -> None:
        with self.condition:
            self.rings += 1
            self.condition.notify_all()

    def wait(self, seen: int, timeout: float, *, unless: Callable[[], bool]) -> None:
        """Until rung after the `seen`-th ring, `unless()` holds (checked under the lock), or `timeout` passes."""
        with self.condition:
            self.condition.wait_for(lambda: unless() or self.rings != seen, timeout)
