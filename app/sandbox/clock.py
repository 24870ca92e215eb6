"""The sandbox's drill clock: real time plus an offset that only moves forward ("skip ahead").

One instance is shared by the bot (`Runtime.clock`), its scheduler and outbox worker, and the local workspace,
so a skip moves the whole sandbox world at once: reminders fall due, message times jump.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class DrillClock:
    def __init__(self, *, real: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic):
        self._real = real
        self._monotonic = monotonic
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def offset(self) -> timedelta:
        return timedelta(seconds=self._offset)

    def skip(self, delta: timedelta) -> timedelta:
        """Move forward by `delta` (never back); returns the total offset."""
        if delta <= timedelta(0):
            raise ValueError("the drill clock only moves forward")
        with self._lock:
            self._offset += delta.total_seconds()
            return self.offset

    def __call__(self) -> datetime:
        """Now, as the bot sees it: what `Runtime.clock` is called for."""
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def timestamp(self) -> float:
        """Seconds since the epoch, drill time (the workspace's wall clock: message ts, `created`)."""
        return self._real() + self._offset

    def monotonic(self) -> float:
        """A monotonic reading that jumps with the skips (trigger ids and response_url ages)."""
        return self._monotonic() + self._offset
