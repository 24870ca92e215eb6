"""Waiting in tests: for a state, never for a fixed time.

`wait_for` polls a condition until it holds and fails saying what it waited for. `holds_for` is the one honest
way to see that something does *not* happen (no call is sent while the circuit is open): it checks a condition
over a window and fails at the first moment it breaks. Take it only once the system is settled (nothing in
flight), or work already under way lands inside the window and the test flakes. `run_together` starts
threads at one barrier (replicas racing for the same work).
"""

from __future__ import annotations

import threading
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


def run_together(count: int, work: Callable[[int], object]) -> None:
    """Start `count` threads at one barrier, each running `work(index)`; wait for all, re-raise the first failure."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def body(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
