"""Requests being answered right now, so that background work can let them go first.

The work before an ack is CPU-bound, and in one process the outbox worker's threads compete with it for the
interpreter: a burst of declarations was acknowledged later because the first incidents' channels were being set
up meanwhile. The HTTP edge counts each request while it is answered (`answering()`); before claiming its next
message, the outbox worker waits until none is (`wait_quiet`), for a bounded time, so that a steady stream of
requests delays deliveries by at most that much and never stops them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class InFlight:
    def __init__(self) -> None:
        self._count = 0
        self._quiet = threading.Condition()

    @property
    def count(self) -> int:
        return self._count

    @contextmanager
    def answering(self) -> Iterator[None]:
        with self._quiet:
            self._count += 1
        try:
            yield
        finally:
            with self._quiet:
                self._count -= 1
                if self._count == 0:
                    self._quiet.notify_all()

    def wait_quiet(self, timeout: float) -> bool:
        """Wait until no request is being answered, at most `timeout` seconds; True when none is."""
        with self._quiet:
            return self._quiet.wait_for(lambda: self._count == 0, timeout)
