"""The circuit breaker around Slack deliveries: pure, with an injected clock."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from app.delivery.circuit import CircuitBreaker, State


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def circuit(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(threshold=3, cooldown_seconds=10, max_cooldown_seconds=40, clock=clock)


def fail(circuit: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        assert circuit.allow()
        circuit.record_failure("HTTP 503")


def test_the_circuit_opens_after_consecutive_failures_only(circuit):
    fail(circuit, 2)
    circuit.record_success()
    fail(circuit, 2)
    assert circuit.state == State.CLOSED
    fail(circuit, 1)
    assert circuit.state == State.OPEN
    assert not circuit.allow()
    assert not circuit.ready()
    assert circuit.retry_after() == 10


def test_after_the_cooldown_one_probe_goes_through_and_a_success_closes(circuit, clock):
    fail(circuit, 3)
    clock.t += 10
    assert circuit.state == State.HALF_OPEN
    assert circuit.ready()
    assert circuit.allow()  # the probe
    assert not circuit.allow()  # everyone else waits for it
    assert not circuit.ready()
    circuit.record_success()
    assert circuit.state == State.CLOSED
    assert circuit.allow()


def test_a_failed_probe_doubles_the_cooldown_up_to_the_cap(circuit, clock):
    fail(circuit, 3)
    cooldowns = []
    for _ in range(4):
        clock.t += circuit.retry_after()
        assert circuit.allow()
        circuit.record_failure("still down")
        cooldowns.append(circuit.retry_after())
    assert cooldowns == [20, 40, 40, 40]
    clock.t += 40
    assert circuit.allow()
    circuit.record_success()
    fail(circuit, 3)
    assert circuit.retry_after() == 10, "a success resets the cool-down"


def test_a_neutral_outcome_frees_the_probe_without_closing(circuit, clock):
    fail(circuit, 3)
    clock.t += 10
    assert circuit.allow()
    circuit.record_neutral()
    assert circuit.state == State.HALF_OPEN
    assert circuit.allow()


def test_it_logs_once_when_it_opens_and_once_when_it_closes(circuit, clock):
    with capture_logs() as logs:
        fail(circuit, 3)
        for _ in range(5):  # calls already under way when it opened, and failed probes
            circuit.record_failure("late")
            clock.t += circuit.retry_after()
            assert circuit.allow()
            circuit.record_failure("probe")
        clock.t += circuit.retry_after()
        assert circuit.allow()
        circuit.record_success()
        circuit.record_success()
    events = [entry["event"] for entry in logs]
    assert events == ["circuit.opened", "circuit.closed"]
    assert logs[0]["failures"] == 3 and logs[0]["error"] == "HTTP 503"
    assert circuit.opened_total == 1


def test_a_threshold_below_one_is_refused():
    with pytest.raises(ValueError, match="threshold"):
        CircuitBreaker(threshold=0)
