"""A circuit breaker for Slack as a whole: when it keeps failing, stop hammering it.

After `threshold` consecutive failures of the retryable kind (server errors, timeouts, refused connections) the
circuit opens: nothing is delivered for a cool-down that doubles on each failed probe, up to a cap. Then one
probe call goes through (half-open): a success closes the circuit, a failure opens it again. It logs once
when it opens and once when it closes, never per call. Time is injected (`clock`, monotonic seconds)."""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable

import structlog

log = structlog.get_logger("app.delivery.circuit")


class State(enum.StrEnum):
    CLOSED = "closed"
    HALF_OPEN = "half_open"
    OPEN = "open"


# For the metrics gauge: higher is worse.
STATE_VALUES = {State.CLOSED: 0, State.HALF_OPEN: 1, State.OPEN: 2}


class CircuitBreaker:
    def __init__(
        self,
        *,
        name: str = "slack",
        threshold: int = 5,
        cooldown_seconds: float = 5.0,
        max_cooldown_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self.name = name
        self.threshold = threshold
        self.cooldown_seconds = cooldown_seconds
        self.max_cooldown_seconds = max_cooldown_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0  # consecutive, while closed
        self._opened = 0  # consecutive openings without a success in between
        self._open_until: float | None = None
        self._probing = False
        self._last_error = ""
        self.opened_total = 0

    # --- reading ----------------------------------------------------------------------------------------

    @property
    def state(self) -> State:
        with self._lock:
            return self._state()

    @property
    def state_number(self) -> int:
        """For the metrics gauge: higher is worse."""
        return STATE_VALUES[self.state]

    def _state(self) -> State:
        if self._open_until is None:
            return State.CLOSED
        if self._clock() < self._open_until:
            return State.OPEN
        return State.HALF_OPEN

    def retry_after(self) -> float:
        """Seconds until a call may go through again (0 when closed or ready to probe)."""
        with self._lock:
            if self._open_until is None:
                return 0.0
            return max(self._open_until - self._clock(), 0.0)

    def ready(self) -> bool:
        """Worth claiming work: closed, or half-open with no probe under way. Changes nothing."""
        with self._lock:
            state = self._state()
            return state == State.CLOSED or (state == State.HALF_OPEN and not self._probing)

    # --- calling ----------------------------------------------------------------------------------------

    def allow(self) -> bool:
        """May a call go through now? When half-open, the first caller becomes the probe; others wait."""
        with self._lock:
            state = self._state()
            if state == State.CLOSED:
                return True
            if state == State.HALF_OPEN and not self._probing:
                self._probing = True
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            was_open = self._open_until is not None
            self._failures = 0
            self._opened = 0
            self._open_until = None
            self._probing = False
        if was_open:
            log.info("circuit.closed", circuit=self.name)

    def record_neutral(self) -> None:
        """The call said nothing about the destination's health (it waited on something else): free the probe."""
        with self._lock:
            self._probing = False

    def record_failure(self, error: BaseException | str = "") -> bool:
        """Count a retryable failure. Returns True when the circuit is (now) open."""
        with self._lock:
            self._last_error = str(error)[:200]
            if self._open_until is not None:
                if not self._probing:  # a call that started before the circuit opened: already counted
                    return True
                self._probing = False
                self._open(now=self._clock())
                return True
            self._failures += 1
            if self._failures < self.threshold:
                return False
            self._open(now=self._clock())
            self.opened_total += 1
            failures, cooldown, last_error = self._failures, self._cooldown(), self._last_error
        log.warning(
            "circuit.opened",
            circuit=self.name,
            failures=failures,
            cooldown_seconds=round(cooldown, 1),
            error=last_error,
        )
        return True

    def _cooldown(self) -> float:
        return min(self.max_cooldown_seconds, self.cooldown_seconds * (2 ** min(max(self._opened - 1, 0), 32)))

    def _open(self, *, now: float) -> None:
        self._opened += 1
        self._open_until = now + self._cooldown()
