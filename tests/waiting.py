"""Waiting in tests: for a state, never for a fixed time.

`wait_for` polls a condition until it holds and fails saying what it waited for. `holds_for` is the one honest
way to see that something does *not* happen (no call is sent while the circuit is open): it checks a condition
over a window and fails at the first moment it breaks. Take it only once the system is settled (nothing in
flight), or work already under way lands inside the window and the test flakes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

INTERVAL = 0.02  # seconds between two looks


def wait_for(condition: Callable[[], object], what: str = "the condition", timeout: float = 30.0) -> bool:
    """Until `condition()` is true; an AssertionError naming `what` after `timeout` seconds. Returns True."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(INTERVAL)
    return True


def holds_for(condition: Callable[[], object], what: str, seconds: float) -> None:
    """`condition()` stays true for `seconds` (checked every INTERVAL, and once more at the end)."""
    deadline = time.monotonic() + seconds
    while True:
        if not condition():
            raise AssertionError(f"no longer true: {what}")
        if time.monotonic() >= deadline:
            return
        time.sleep(min(INTERVAL, max(deadline - time.monotonic(), 0.0)))
