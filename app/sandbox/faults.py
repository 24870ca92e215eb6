"""Fault injection for the Web API double: `ok:false` errors, HTTP 429 with Retry-After, 5xx and slow answers."""

from __future__ import annotations

import threading
from dataclasses import dataclass

ANY_METHOD = "*"


@dataclass
class Fault:
    method: str
    error: str | None = None
    http_status: int | None = None
    retry_after: int = 1
    delay: float = 0.0
    remaining: int | None = 1  # None: every call, until cleared

    @property
    def is_rate_limit(self) -> bool:
        return self.http_status == 429


class Faults:
    """Pending faults, consumed call by call in the order they were added. `latency` slows every call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []
        self.latency: float = 0.0

    def fail(
        self,
        method: str,
        *,
        error: str | None = None,
        http_status: int | None = None,
        retry_after: int = 1,
        delay: float = 0.0,
        times: int | None = 1,
    ) -> Fault:
        """The next `times` calls of `method` (`"*"`: any method) fail: `error` gives HTTP 200 `ok:false`,
        `http_status` gives that status (429 carries `Retry-After: retry_after`), `delay` sleeps first
        (alone, it only slows the answer down)."""
        if error is not None and http_status is not None:
            raise ValueError("give error (ok:false) or http_status, not both")
        if error is None and http_status is None and delay <= 0:
            raise ValueError("a fault needs an error, an http_status or a delay")
        if http_status is not None and http_status < 400:
            raise ValueError("http_status must be an error status")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1")
        fault = Fault(method, error, http_status, retry_after, delay, times)
        with self._lock:
            self._pending.append(fault)
        return fault

    def take(self, method: str) -> Fault | None:
        """The fault this call of `method` meets, if any; one use of it is consumed."""
        with self._lock:
            for fault in self._pending:
                if fault.method in (method, ANY_METHOD):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self._pending.remove(fault)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._pending)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
        self.latency = 0.0
