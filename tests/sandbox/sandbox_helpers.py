"""Shared by the sandbox tests and their fixtures."""

from __future__ import annotations

BOT_TOKEN = "xoxb-test"
SIGNING_SECRET = "sandbox-signing-secret"


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
