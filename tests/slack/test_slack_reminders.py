"""Stakeholder-update reminders in Slack: signed requests into the real app, the Web API double, the test clock.

The scheduler's job is `reminders.tick` with the bot's clock; `tick()` below runs it and delivers the outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from app.delivery.scheduler import ReminderScheduler
from app.sandbox.models import Message
from app.slack.ids import CardAction, ReminderAction, ReminderBlock, UpdateField
from incidents import service
from incidents.effects import Effect
from incidents.models import OutboxStatus, Role
from incidents.outbox import RetryPolicy
from incidents.queries import get_incident
from incidents.timeline import EventKind
from tests.slack.slack_harness import (
    ALICE,
    BOB,
    CAROL,
    DAN,
    INCIDENTS_CHANNEL_ID,
    Callback,
    Harness,
    blocks_text,
)
from tests.waiting import wait_for

MINUTE = 60
MIN = timedelta(minutes=1)


def tick(h: Harness) -> None:
    """One scheduler run at the bot's clock, then the outbox delivered."""
    result = ReminderScheduler(h.runtime).run_once()
    assert result is not None
    h.settle()


def give_role(h: Harness, role: Role, user: str, number: int = 1) -> None:
    with h.runtime.sessions.begin() as s:
        service.assign_role(s, get_incident(s, number), role=role, user_id=user, by=ALICE, now=h.clock())
    h.settle()


def reminders_in(h: Harness, channel: str) -> list[Message]:
    return [
        m
        for m in h.workspace.messages(channel)
        if m.user == h.workspace.bot.id and any(b.get("block_id") == ReminderBlock.TEXT for b in m.blocks)
    ]


def snooze(h: Harness, message: Message, minutes: int, *, user: str = CAROL) -> Any:
    result = h.slack.select(user, message.channel, message.ts, ReminderAction.SNOOZE, f"INC-1:{minutes}")
    h.settle()
    return result


@pytest.fixture
def declared(harness: Harness) -> Harness:
    harness.declare("Checkout is failing", "SEV2")
    return harness


def test_a_due_update_nags_the_communicator_in_the_channel_and_directly(declared: Harness) -> None:
    h = declared
    give_role(h, Role.COMMUNICATE, CAROL)
    h.clock.advance(minutes=29)
    tick(h)
    assert reminders_in(h, h.incident().channel_id) == []
    h.clock.advance(minutes=1)
    tick(h)
    [in_channel] = reminders_in(h, h.incident().channel_id)
    text = blocks_text(in_channel.blocks)
    assert "<@U01CAROL>, please post a stakeholder update now" in text
    assert "no stakeholder update since it was declared 30m 00s ago" in text
    actions = next(b for b in in_channel.blocks if b["block_id"] == ReminderBlock.ACTIONS)
    assert [e["action_id"] for e in actions["elements"]] == [ReminderAction.POST_UPDATE, ReminderAction.SNOOZE]
    assert [o["value"] for o in actions["elements"][1]["options"]] == ["INC-1:15", "INC-1:30", "INC-1:60"]
    [direct] = [m for m in h.dms_to(CAROL) if any(b.get("block_id") == ReminderBlock.TEXT for b in m.blocks)]
    assert f"<#{h.incident().channel_id}>" in blocks_text(direct.blocks)


def test_with_nobody_communicating_the_lead_is_asked_to_take_the_role(declared: Harness) -> None:
    h = declared
    h.click(CardAction.ACKNOWLEDGE, user=BOB)
    h.clock.advance(minutes=30)
    tick(h)
    [in_channel] = reminders_in(h, h.incident().channel_id)
    assert "Nobody holds the communicate role. <@U01BOB>, please take it" in blocks_text(in_channel.blocks)
    assert len(reminders_in(h, h.workspace.direct_channel(BOB).id)) == 1


def test_with_nobody_in_any_role_the_channel_is_asked(declared: Harness) -> None:
    h = declared
    h.clock.advance(minutes=30)
    tick(h)
    [in_channel] = reminders_in(h, h.incident().channel_id)
    assert "can someone take it" in blocks_text(in_channel.blocks)


def test_post_update_opens_the_update_modal_and_the_update_resets_the_clock(declared: Harness) -> None:
    h = declared
    give_role(h, Role.COMMUNICATE, CAROL)
    h.clock.advance(minutes=31)
    tick(h)
    [reminder] = reminders_in(h, h.incident().channel_id)
    h.slack.click(CAROL, reminder.channel, reminder.ts, ReminderAction.POST_UPDATE, "INC-1")
    h.settle()
    view = h.open_view(CAROL, Callback.POST_UPDATE)
    h.submit(view.id, {UpdateField.TEXT: "Rolled back the deploy; error rate falling"}, user=CAROL)
    incident = h.incident()
    assert incident.last_update_at == h.clock()
    assert incident.next_update_due_at == h.clock.now + 30 * MIN
    h.clock.advance(minutes=29)
    tick(h)
    assert len(reminders_in(h, incident.channel_id)) == 1


def test_snoozing_moves_the_clock_says_so_and_replaces_the_reminder(declared: Harness) -> None:
    h = declared
    give_role(h, Role.COMMUNICATE, CAROL)
    h.clock.advance(minutes=30)
    tick(h)
    [reminder] = reminders_in(h, h.incident().channel_id)
    result = snooze(h, reminder, 30)
    assert result.status == 200
    incident = h.incident()
    assert incident.next_update_due_at == incident.snoozed_until == h.clock.now + 30 * MIN
    [snoozed] = h.events(kind=EventKind.REMINDER_SNOOZED)
    assert snoozed.actor_id == CAROL
    replaced = h.workspace.message(reminder.channel, reminder.ts)
    assert "snoozed the INC-1 update reminder for 30 minutes" in blocks_text(replaced.blocks)
    assert not any(b.get("block_id") == ReminderBlock.ACTIONS for b in replaced.blocks)
    assert f"<!date^{int(incident.next_update_due_at.timestamp())}^" in blocks_text(h.card().blocks)
    h.clock.advance(minutes=29)
    tick(h)
    assert len(reminders_in(h, incident.channel_id)) == 1
    h.clock.advance(minutes=1)
    tick(h)
    assert len(reminders_in(h, incident.channel_id)) == 2


def test_a_stale_snooze_changes_nothing_and_says_why(declared: Harness) -> None:
    h = declared
    give_role(h, Role.COMMUNICATE, CAROL)
    h.clock.advance(minutes=30)
    tick(h)
    [reminder] = reminders_in(h, h.incident().channel_id)
    with h.runtime.sessions.begin() as s:
        service.post_status_update(
            s, get_incident(s, 1), text="All good", author_id=CAROL, now=h.clock(), process=h.runtime.process
        )
    h.settle()
    snooze(h, reminder, 15)
    assert "Nothing to snooze" in h.last_reply(CAROL)
    assert h.events(kind=EventKind.REMINDER_SNOOZED) == []


def test_snoozing_a_resolved_incident_is_refused(declared: Harness) -> None:
    h = declared
    h.clock.advance(minutes=30)
    tick(h)
    [reminder] = reminders_in(h, h.incident().channel_id)
    with h.runtime.sessions.begin() as s:
        service.resolve(s, get_incident(s, 1), by=ALICE, now=h.clock(), process=h.runtime.process)
    h.settle()
    snooze(h, reminder, 15, user=ALICE)
    assert "resolved" in h.last_reply(ALICE)


def test_escalation_mentions_every_role_holder_and_tells_the_announcements_channel(declared: Harness) -> None:
    h = declared
    give_role(h, Role.ACKNOWLEDGE, BOB)
    give_role(h, Role.COMMUNICATE, CAROL)
    give_role(h, Role.MITIGATE, DAN)
    h.clock.advance(minutes=30)
    tick(h)
    h.clock.advance(minutes=30)
    tick(h)
    channel = h.incident().channel_id
    escalation = reminders_in(h, channel)[-1]
    text = blocks_text(escalation.blocks)
    assert "INC-1 is overdue for a stakeholder update" in text
    assert all(f"<@{u}>" in text for u in (BOB, CAROL, DAN))
    overdue = [m for m in h.workspace.messages(INCIDENTS_CHANNEL_ID) if "overdue" in m.text]
    assert len(overdue) == 1
    assert "Checkout is failing" in overdue[0].text and f"<#{channel}>" in overdue[0].text
    assert len(h.events(kind=EventKind.UPDATE_MISSED)) == 1
    assert ":warning: *Overdue*" in blocks_text(h.card().blocks)


def test_a_private_incident_shows_only_its_reference_when_overdue(harness: Harness) -> None:
    h = harness
    h.declare("Payroll data exposed", "SEV1", private=True)
    h.clock.advance(minutes=60)
    tick(h)
    [overdue] = [m for m in h.workspace.messages(INCIDENTS_CHANNEL_ID) if "overdue" in m.text]
    assert overdue.text == ":warning: INC-1 is overdue for a stakeholder update."


def test_a_rate_limited_reminder_is_retried_later_and_posted_once(declared: Harness) -> None:
    h = declared
    give_role(h, Role.COMMUNICATE, CAROL)
    h.clock.advance(minutes=30)
    h.workspace.faults.fail("chat.postMessage", http_status=429, retry_after=20)
    tick(h)
    assert reminders_in(h, h.incident().channel_id) == []
    h.later(25)
    h.later(60)
    assert len(reminders_in(h, h.incident().channel_id)) == 1
    assert len([m for m in h.dms_to(CAROL) if "no stakeholder update" in m.text]) == 1
    [row] = h.outbox(Effect.REMINDER)
    assert row.status == OutboxStatus.DONE and row.attempts == 1


def test_a_direct_message_that_fails_is_retried_without_posting_in_the_channel_again(declared: Harness) -> None:
    """The channel mention went out, the direct message did not (an unknown user): a retry sends only it."""
    h = declared
    give_role(h, Role.COMMUNICATE, "U01ERIN")
    h.clock.advance(minutes=30)
    tick(h)
    [row] = h.outbox(Effect.REMINDER)
    assert row.status == OutboxStatus.PENDING and list(row.result["steps"]) == ["channel_sent", "channel"]
    h.workspace.add_user("erin", "Erin Evans")
    for _ in range(6):
        h.later(MINUTE)
    assert len(reminders_in(h, h.incident().channel_id)) == 1
    assert len([m for m in h.dms_to("U01ERIN") if "no stakeholder update" in m.text]) == 1
    assert h.outbox(Effect.REMINDER)[0].status == OutboxStatus.DONE


def test_a_reminder_that_arrives_after_the_update_is_not_sent(declared: Harness) -> None:
    h = declared
    h.clock.advance(minutes=30)
    ReminderScheduler(h.runtime).run_once()  # enqueued, not delivered yet (Slack was slow, the worker busy)
    with h.runtime.sessions.begin() as s:
        service.post_status_update(
            s, get_incident(s, 1), text="Fixed", author_id=ALICE, now=h.clock(), process=h.runtime.process
        )
    h.settle()
    assert reminders_in(h, h.incident().channel_id) == []
    [row] = h.outbox(Effect.REMINDER)
    assert row.status == OutboxStatus.DONE and row.result["skipped"].startswith("moot")


# --- Slack's answer lost: posted once all the same ---------------------------------------------------------

CLIENT_TIMEOUT = 0.4  # seconds; the double answers LATE seconds after Slack has posted the message
LATE = 0.9


def lose_the_next_answer(h: Harness) -> None:
    """The next chat.postMessage is posted, but its answer arrives after the bot's client gave up (a read
    timeout): the bot cannot know whether the message went out."""
    h.deps.client.timeout = CLIENT_TIMEOUT
    h.workspace.faults.fail("chat.postMessage", delay=LATE, times=1)


def direct_reminders(h: Harness, user: str) -> list[Message]:
    return [m for m in h.dms_to(user) if any(b.get("block_id") == ReminderBlock.TEXT for b in m.blocks)]


def overdue_posts(h: Harness) -> list[Message]:
    return [m for m in h.workspace.messages(INCIDENTS_CHANNEL_ID) if "overdue" in m.text]


def test_a_reminder_whose_answers_are_lost_is_posted_once_in_the_channel_and_once_directly(
    declared: Harness,
) -> None:
    h = declared
    give_role(h, Role.COMMUNICATE, CAROL)
    channel = h.incident().channel_id
    h.clock.advance(minutes=30)
    lose_the_next_answer(h)  # the mention in the channel
    tick(h)
    wait_for(lambda: len(reminders_in(h, channel)) == 1, "Slack to post it after all")
    assert h.outbox(Effect.REMINDER)[0].status == OutboxStatus.PENDING
    lose_the_next_answer(h)  # the direct message
    h.later(MINUTE)
    wait_for(lambda: len(direct_reminders(h, CAROL)) == 1, "Slack to send the direct reminder after all")
    h.later(5 * MINUTE)
    assert len(reminders_in(h, channel)) == 1
    assert len(direct_reminders(h, CAROL)) == 1
    [row] = h.outbox(Effect.REMINDER)
    assert row.status == OutboxStatus.DONE and row.attempts == 2
    assert row.result["steps"]["channel"] == reminders_in(h, channel)[0].ts
    assert row.result["steps"]["direct"] == direct_reminders(h, CAROL)[0].ts


def test_an_escalation_whose_answers_are_lost_is_posted_once_in_the_channel_and_once_in_announcements(
    declared: Harness,
) -> None:
    h = declared
    channel = h.incident().channel_id
    h.clock.advance(minutes=30)
    tick(h)  # the reminder
    h.clock.advance(minutes=30)
    lose_the_next_answer(h)  # the escalation in the channel
    tick(h)
    wait_for(lambda: len(reminders_in(h, channel)) == 2, "Slack to post the escalation after all")
    lose_the_next_answer(h)  # the announcement
    h.later(MINUTE)
    wait_for(lambda: len(overdue_posts(h)) == 1, "Slack to post the announcement after all")
    h.later(5 * MINUTE)
    [reminder, escalation] = reminders_in(h, channel)
    assert "is overdue for a stakeholder update" in blocks_text(escalation.blocks)
    assert len(overdue_posts(h)) == 1
    [row] = h.outbox(Effect.ESCALATION)
    assert row.status == OutboxStatus.DONE and row.attempts == 2


def test_a_post_that_failed_is_not_mistaken_for_the_reminder_of_an_earlier_window(declared: Harness) -> None:
    """The retry looks for its own message (this window, this stage), not for any reminder of the incident."""
    h = declared
    channel = h.incident().channel_id
    h.clock.advance(minutes=30)
    tick(h)
    with h.runtime.sessions.begin() as s:
        service.post_status_update(
            s, get_incident(s, 1), text="Rolled back", author_id=ALICE, now=h.clock(), process=h.runtime.process
        )
    h.settle()
    h.clock.advance(minutes=30)
    h.workspace.faults.fail("chat.postMessage", error="internal_error")  # refused: nothing posted
    tick(h)
    assert len(reminders_in(h, channel)) == 1
    h.later(MINUTE)
    assert len(reminders_in(h, channel)) == 2
    assert [row.status for row in h.outbox(Effect.REMINDER)] == [OutboxStatus.DONE, OutboxStatus.DONE]


# --- never dropped ------------------------------------------------------------------------------------------


def test_a_reminder_slack_keeps_refusing_is_retried_past_the_attempt_limit_until_it_is_moot(
    declared: Harness,
) -> None:
    """No dead letter after `max_attempts`: retried (at most 5 minutes apart) until an update makes it moot."""
    h = declared
    h.clock.advance(minutes=30)
    h.workspace.faults.fail("chat.postMessage", error="internal_error", times=None)
    tick(h)
    for _ in range(RetryPolicy().max_attempts + 2):
        h.later(5 * MINUTE)
    [row] = h.outbox(Effect.REMINDER)
    assert row.status == OutboxStatus.PENDING and row.attempts > RetryPolicy().max_attempts
    assert row.next_attempt_at <= h.clock() + timedelta(seconds=RetryPolicy().cap_seconds)
    h.workspace.faults.clear()
    with h.runtime.sessions.begin() as s:
        service.post_status_update(
            s, get_incident(s, 1), text="Rolled back", author_id=ALICE, now=h.clock(), process=h.runtime.process
        )
    h.later(5 * MINUTE)
    [row] = h.outbox(Effect.REMINDER)
    assert row.status == OutboxStatus.DONE and row.result["skipped"].startswith("moot")
    assert reminders_in(h, h.incident().channel_id) == []


def test_a_reminder_slack_refused_for_a_while_is_delivered_once_slack_accepts_it(declared: Harness) -> None:
    h = declared
    give_role(h, Role.COMMUNICATE, CAROL)
    h.clock.advance(minutes=30)
    h.workspace.faults.fail("chat.postMessage", error="internal_error", times=RetryPolicy().max_attempts + 3)
    tick(h)
    for _ in range(RetryPolicy().max_attempts + 4):
        h.later(5 * MINUTE)
    assert len(reminders_in(h, h.incident().channel_id)) == 1
    assert len(direct_reminders(h, CAROL)) == 1
    assert h.outbox(Effect.REMINDER)[0].status == OutboxStatus.DONE
