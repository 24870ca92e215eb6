"""The drill clock: real time plus skips, forward only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.sandbox.clock import DrillClock


def test_skipping_moves_every_reading_forward_together():
    clock = DrillClock(real=lambda: 1_000_000.0, monotonic=lambda: 50.0)
    assert clock() == datetime.fromtimestamp(1_000_000, UTC)
    assert clock.skip(timedelta(minutes=30)) == timedelta(minutes=30)
    clock.skip(timedelta(minutes=5))
    assert clock() == datetime.fromtimestamp(1_000_000 + 35 * 60, UTC)
    assert clock.timestamp() == 1_000_000 + 35 * 60
    assert clock.monotonic() == 50 + 35 * 60


@pytest.mark.parametrize("delta", [timedelta(0), timedelta(minutes=-5)])
def test_the_clock_never_goes_back(delta):
    with pytest.raises(ValueError):
        DrillClock().skip(delta)
