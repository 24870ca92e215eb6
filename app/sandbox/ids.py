"""Slack-looking identifiers and message timestamps, deterministic within one workspace."""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Callable

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _base36(n: int, width: int) -> str:
    digits = []
    while n:
        n, rest = divmod(n, 36)
        digits.append(_ALPHABET[rest])
    return "".join(reversed(digits)).rjust(width, "0")


class IdFactory:
    """`new("C")` -> "C0SB00001A"; `ts()` -> "1732233600.000100", strictly increasing; `token()` -> hex."""

    def __init__(self, wall_clock: Callable[[], float]) -> None:
        self._wall_clock = wall_clock
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self._last_micros = 0

    def new(self, prefix: str) -> str:
        return f"{prefix}0SB{_base36(self.serial(), 6)}"

    def serial(self) -> int:
        return next(self._counter)

    def short(self) -> str:
        """Like the block_id / action_id Slack makes up for blocks sent without one."""
        return hashlib.sha1(str(self.serial()).encode()).hexdigest()[:5]

    def token(self, length: int = 24) -> str:
        return hashlib.sha256(f"sandbox:{self.serial()}".encode()).hexdigest()[:length]

    def ts(self) -> str:
        with self._lock:
            micros = max(int(self._wall_clock() * 1_000_000), self._last_micros + 100)
            self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def now(self) -> int:
        """Whole seconds of the wall clock, as Slack's `created` fields have them."""
        return int(self._wall_clock())
