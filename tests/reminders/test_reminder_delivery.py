"""A failed send is retried later through the outbox: never dropped, never doubled; a late one is moot."""

from __future__ import annotations

import random
from datetime import timedelta

from incidents import outbox, reminders, service
from incidents.effects import Effect
from incidents.models import OutboxStatus
from incidents.queries import get_incident
from tests.reminders.reminder_helpers import effects

MIN = timedelta(minutes=1)


class FlakySlack:
    """Fails the first `failures` sends with a rate limit, then delivers; records what was delivered."""

    def __init__(self, failures: int):
        self.failures = failures
        self.delivered: list[str] = []

    def __call__(self, message):
        if self.failures:
            self.failures -= 1
            raise outbox.RetryLater("ratelimited", after=30)
        self.delivered.append(message.key)
        return {"ts": "1.0"}


def deliver(sessions, handler, at):
    handlers = {Effect.REMINDER.value: handler, Effect.ESCALATION.value: handler}
    return outbox.deliver_due(sessions, handlers, now=lambda: at, rng=random.Random(1))


def test_a_failed_reminder_is_retried_later_and_delivered_once(sessions, now, declare, tick):
    declare()
    due = now + 30 * MIN
    tick(due)
    slack = FlakySlack(failures=2)
    moment = due
    for _ in range(40):  # ticks and deliveries every 15 seconds for 10 minutes
        tick(moment)
        deliver(sessions, slack, moment)
        moment += timedelta(seconds=15)
    [reminder] = effects(sessions, Effect.REMINDER)
    assert slack.delivered == [reminder.key]
    assert reminder.status == OutboxStatus.DONE and reminder.attempts == 2


def test_a_reminder_still_failing_stays_in_the_outbox(sessions, now, declare, tick):
    declare()
    tick(now + 30 * MIN)
    slack = FlakySlack(failures=1000)
    deliver(sessions, slack, now + 30 * MIN)
    [reminder] = effects(sessions, Effect.REMINDER)
    assert reminder.status == OutboxStatus.PENDING and reminder.attempts == 1
    assert reminder.next_attempt_at >= now + 30 * MIN + timedelta(seconds=30)  # Retry-After honoured
    tick(now + 31 * MIN)
    assert len(effects(sessions, Effect.REMINDER)) == 1  # a tick never enqueues it again


def test_a_second_tick_with_the_same_clock_enqueues_nothing(sessions, now, declare, tick):
    """Belt and braces: the deterministic outbox key would absorb a repeat even if the stage had not moved."""
    declare()
    tick(now + 30 * MIN)
    with sessions() as s, s.begin():
        incident = get_incident(s, 1)
        incident.reminder_stage = 0  # as if the stage write were lost
        incident.next_reminder_at = now + 30 * MIN
    tick(now + 30 * MIN)
    assert len(effects(sessions, Effect.REMINDER)) == 1


def test_a_reminder_delivered_after_an_update_is_moot(sessions, now, declare, tick, use, process):
    declare()
    tick(now + 30 * MIN)
    [reminder] = effects(sessions, Effect.REMINDER)
    with sessions() as s:
        assert reminders.still_due(get_incident(s, 1), reminder.payload)
    use(1, service.post_status_update, text="Fixed", author_id="U1", now=now + 31 * MIN, process=process)
    with sessions() as s:
        assert not reminders.still_due(get_incident(s, 1), reminder.payload)


def test_a_reminder_delivered_after_resolution_is_moot(sessions, now, declare, tick, use, process):
    declare()
    tick(now + 30 * MIN)
    [reminder] = effects(sessions, Effect.REMINDER)
    use(1, service.resolve, by="U1", now=now + 31 * MIN, process=process)
    with sessions() as s:
        assert not reminders.still_due(get_incident(s, 1), reminder.payload)


def test_an_escalation_after_the_reminder_keeps_the_reminder_relevant(sessions, now, declare, tick):
    """Same window, same due time: a reminder retried late is still worth showing next to the escalation."""
    declare()
    tick(now + 30 * MIN)
    tick(now + 60 * MIN)
    [reminder] = effects(sessions, Effect.REMINDER)
    with sessions() as s:
        assert reminders.still_due(get_incident(s, 1), reminder.payload)


def test_a_reminder_failing_past_the_attempt_limit_is_never_dead_lettered(sessions, now, declare, tick):
    """Other effects die after `max_attempts`; a reminder is retried (at most `cap_seconds` apart) until delivered."""
    declare()
    tick(now + 30 * MIN)
    policy = outbox.RetryPolicy()
    slack = FlakySlack(failures=policy.max_attempts + 5)
    moment = now + 30 * MIN
    for _ in range(policy.max_attempts + 6):
        deliver(sessions, slack, moment)
        [reminder] = effects(sessions, Effect.REMINDER)
        assert reminder.status != OutboxStatus.DEAD
        assert reminder.next_attempt_at <= moment + timedelta(seconds=policy.cap_seconds)
        moment += timedelta(seconds=policy.cap_seconds)
    [reminder] = effects(sessions, Effect.REMINDER)
    assert slack.delivered == [reminder.key]
    assert reminder.status == OutboxStatus.DONE and reminder.attempts == policy.max_attempts + 5


def test_an_escalation_failing_past_the_attempt_limit_is_never_dead_lettered(sessions, now, declare, tick):
    declare()
    tick(now + 60 * MIN)
    policy = outbox.RetryPolicy()
    slack = FlakySlack(failures=1000)
    moment = now + 60 * MIN
    for _ in range(policy.max_attempts + 3):
        deliver(sessions, slack, moment)
        moment += timedelta(seconds=policy.cap_seconds)
    [escalation] = effects(sessions, Effect.ESCALATION)
    assert escalation.status == OutboxStatus.PENDING and escalation.attempts == policy.max_attempts + 3


def test_other_effects_still_die_after_the_attempt_limit(sessions, now, declare):
    declare()
    policy = outbox.RetryPolicy()
    slack = FlakySlack(failures=1000)
    moment = now
    for _ in range(policy.max_attempts + 1):
        outbox.deliver_due(sessions, {Effect.OPEN_CHANNEL.value: slack}, now=lambda at=moment: at, rng=random.Random(1))
        moment += timedelta(seconds=policy.cap_seconds)
    [opening] = effects(sessions, Effect.OPEN_CHANNEL)
    assert opening.status == OutboxStatus.DEAD and opening.attempts == policy.max_attempts
