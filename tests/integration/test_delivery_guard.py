"""The circuit breaker around deliveries: a Slack outage of any length dead-letters nothing, the worker stops
calling Slack while the circuit is open, and everything goes out once, when Slack is back."""

from __future__ import annotations

import random
from datetime import timedelta
from urllib.error import URLError

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlalchemy import select

from app.delivery.circuit import CircuitBreaker, State
from app.delivery.guard import guard, is_outage
from app.slack.errors import slack_step
from incidents import outbox
from incidents.effects import Effect
from incidents.models import OutboxMessage, OutboxStatus
from incidents.outbox import NotReady, PermanentFailure, RetryLater, RetryPolicy, deliver_due

POLICY = RetryPolicy(base_seconds=2, cap_seconds=60, max_attempts=4)


def slack_error(status: int = 200, error: str = "internal_error", headers: dict | None = None) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": error},
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError("failed", response)


def through_step(exc: Exception) -> Exception:
    """What a handler raises: slack_sdk's exception translated by slack_step."""
    try:
        with slack_step("post"):
            raise exc
    except Exception as translated:  # noqa: BLE001
        return translated
    raise AssertionError("slack_step swallowed it")


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (slack_error(503), True),
        (slack_error(200, "internal_error"), True),
        (slack_error(200, "invalid_auth"), True),
        (URLError("connection refused"), True),
        (TimeoutError("timed out"), True),
        (slack_error(429, "ratelimited", {"Retry-After": "30"}), False),
        (slack_error(200, "channel_not_found"), False),
        (slack_error(200, "invalid_blocks"), False),
    ],
)
def test_only_failures_of_slack_as_a_whole_count_as_an_outage(error, outage):
    assert is_outage(through_step(error)) is outage


def test_an_error_of_our_own_is_not_an_outage():
    assert not is_outage(KeyError("incident"))
    assert not is_outage(RetryLater("no announcements channel"))


class Clocks:
    """The bot's wall clock and the circuit's monotonic clock, moving together."""

    def __init__(self, start):
        self.wall = start
        self.mono = 0.0

    def __call__(self):
        return self.wall

    def monotonic(self):
        return self.mono

    def advance(self, seconds):
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds


class Slack:
    """A handler whose Slack is down until told otherwise; counts what it delivered and what it tried."""

    def __init__(self):
        self.down = True
        self.tries = 0
        self.delivered: list[int] = []

    def __call__(self, message):
        self.tries += 1
        with slack_step("post a message"):
            if self.down:
                raise slack_error(503)
        self.delivered.append(message.id)


def fill(sessions, clocks, n):
    with sessions.begin() as s:
        for i in range(n):
            outbox.enqueue(s, kind=Effect.CHANNEL_MESSAGE, key=f"m{i}", now=clocks())


def rows(sessions):
    with sessions() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def run_worker(sessions, handlers, circuit, clocks, rng):
    """What the worker's loop does once: nothing while the circuit is open, else deliver what is due."""
    if not circuit.ready():
        return {}
    return deliver_due(sessions, handlers, now=clocks, limit=1, policy=POLICY, rng=rng)


def test_a_three_hour_slack_outage_dead_letters_nothing_and_everything_goes_out_once(sessions, now):
    clocks = Clocks(now)
    circuit = CircuitBreaker(threshold=3, cooldown_seconds=5, max_cooldown_seconds=120, clock=clocks.monotonic)
    slack = Slack()
    handlers = guard({Effect.CHANNEL_MESSAGE.value: slack}, circuit)
    fill(sessions, clocks, 5)
    rng = random.Random(3)
    for _ in range(3 * 3600 // 5):  # every 5 seconds for three hours
        while any(run_worker(sessions, handlers, circuit, clocks, rng).values()):
            pass
        clocks.advance(5)
    assert circuit.state != State.CLOSED
    assert slack.tries < 3 + 3 * 3600 / 120 + 5, "while open, the circuit lets one probe through per cool-down"
    assert all(m.status == OutboxStatus.PENDING and m.attempts < POLICY.max_attempts for m in rows(sessions))
    slack.down = False
    for _ in range(60):
        while any(run_worker(sessions, handlers, circuit, clocks, rng).values()):
            pass
        clocks.advance(5)
    assert circuit.state == State.CLOSED
    assert [m.status for m in rows(sessions)] == [OutboxStatus.DONE] * 5
    assert sorted(slack.delivered) == [m.id for m in rows(sessions)], "each once"


def test_while_the_circuit_is_open_a_delivery_is_put_back_without_an_attempt(sessions, now):
    clocks = Clocks(now)
    circuit = CircuitBreaker(threshold=1, cooldown_seconds=30, clock=clocks.monotonic)
    handlers = guard({Effect.CHANNEL_MESSAGE.value: Slack()}, circuit)
    fill(sessions, clocks, 2)
    deliver_due(sessions, handlers, now=clocks, limit=1, policy=POLICY)  # trips the circuit
    deliver_due(sessions, handlers, now=clocks, limit=1, policy=POLICY)  # refused at once, Slack not called
    first, second = rows(sessions)
    for message in (first, second):
        assert message.attempts == 0
        assert message.next_attempt_at == clocks() + timedelta(seconds=30)
        assert message.last_error.startswith("unavailable: ")
    assert "circuit breaker open" in first.last_error


def test_rate_limits_and_refusals_do_not_open_the_circuit(sessions, now):
    clocks = Clocks(now)
    circuit = CircuitBreaker(threshold=2, clock=clocks.monotonic)
    errors = iter([slack_error(429, "ratelimited", {"Retry-After": "17"}), slack_error(200, "channel_not_found")] * 3)

    def handler(_message):
        with slack_step("post"):
            raise next(errors)

    handlers = guard({Effect.CHANNEL_MESSAGE.value: handler}, circuit)
    fill(sessions, clocks, 6)
    for _ in range(6):
        deliver_due(sessions, handlers, now=clocks, limit=1, policy=POLICY)
    assert circuit.state == State.CLOSED
    limited = rows(sessions)[0]
    assert limited.attempts == 1 and limited.next_attempt_at >= clocks() + timedelta(seconds=17)


def test_waiting_and_our_own_errors_leave_the_circuit_as_it_is(sessions, now):
    clocks = Clocks(now)
    circuit = CircuitBreaker(threshold=1, cooldown_seconds=5, clock=clocks.monotonic)
    circuit.record_failure("down")
    clocks.advance(5)
    outcomes = iter([NotReady("no channel"), KeyError("bug"), PermanentFailure("invalid_blocks")])

    def handler(_message):
        raise next(outcomes)

    handlers = guard({Effect.CHANNEL_MESSAGE.value: handler}, circuit)
    fill(sessions, clocks, 3)
    deliver_due(sessions, handlers, now=clocks, limit=1, policy=POLICY)
    assert circuit.state == State.HALF_OPEN and circuit.ready(), "the probe is free again"
    deliver_due(sessions, handlers, now=clocks, limit=1, policy=POLICY)
    assert circuit.state == State.HALF_OPEN
    deliver_due(sessions, handlers, now=clocks, limit=1, policy=POLICY)
    assert circuit.state == State.CLOSED, "Slack answered (a refusal): it is up"
