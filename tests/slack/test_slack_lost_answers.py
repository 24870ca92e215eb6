"""Messages posted once when Slack's answer is lost: a channel message, a direct message, a stakeholder update
(in the channel and under the announcement) and a role briefing.

The double posts the message but answers after the bot's client gave up (its 2 s timeout): the bot cannot know
whether the message went out. The retry finds it by its block id (app.delivery.handlers.posted) and adopts it."""

from __future__ import annotations

from typing import Any

import pytest

from app.sandbox.models import Message
from app.slack.queue import direct_message
from incidents import service
from incidents.effects import Effect
from incidents.models import OutboxMessage, OutboxStatus, Role
from incidents.queries import get_incident
from tests.slack.slack_harness import ALICE, CAROL, Harness
from tests.waiting import wait_for

MINUTE = 60
LATE = 2.5  # seconds: beyond the client's timeout (`slack_timeout_seconds=2` in tests/slack/conftest.py)


def lose_the_next_answer(h: Harness) -> None:
    """The next chat.postMessage is posted, but its answer comes after the bot's client stopped waiting."""
    assert h.deps.client.timeout < LATE
    h.workspace.faults.fail("chat.postMessage", delay=LATE, times=1)


def bot_messages(h: Harness, channel: str, containing: str) -> list[Message]:
    return [m for m in h.workspace.messages(channel) if m.user == h.workspace.bot.id and containing in m.text]


def top_level(messages: list[Message]) -> list[Message]:
    return [m for m in messages if not m.is_reply]


def replies(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m.is_reply]


def delivered_once(h: Harness, kind: str) -> OutboxMessage:
    [row] = h.outbox(kind)
    assert row.status == OutboxStatus.DONE, row.last_error
    return row


@pytest.fixture
def declared(harness: Harness) -> Harness:
    harness.declare("Checkout is failing", "SEV2")
    return harness


def test_a_channel_message_whose_answer_is_lost_is_posted_once(declared: Harness) -> None:
    h = declared
    channel = h.incident().channel_id
    said = "Severity changed from SEV2 to *SEV1*"
    lose_the_next_answer(h)
    with h.runtime.sessions.begin() as s:
        service.change_severity(
            s, get_incident(s, 1), severity="SEV1", by=ALICE, now=h.clock(), process=h.runtime.process
        )
    h.settle()
    wait_for(lambda: len(bot_messages(h, channel, said)) == 1, "Slack to post it after all")
    assert h.outbox(Effect.CHANNEL_MESSAGE)[0].status == OutboxStatus.PENDING
    h.later(MINUTE)
    h.later(5 * MINUTE)
    [posted] = bot_messages(h, channel, said)
    row = delivered_once(h, Effect.CHANNEL_MESSAGE)
    assert row.attempts == 1 and row.result["ts"] == posted.ts


def test_a_direct_message_whose_answer_is_lost_is_sent_once(declared: Harness) -> None:
    h = declared
    text = "Your export of INC-1 is ready."
    lose_the_next_answer(h)
    with h.runtime.sessions.begin() as s:
        direct_message(s, user_id=CAROL, text=text, key="test:export", now=h.clock())
    h.settle()
    wait_for(lambda: len([m for m in h.dms_to(CAROL) if m.text == text]) == 1, "Slack to send it after all")
    h.later(MINUTE)
    h.later(5 * MINUTE)
    [sent] = [m for m in h.dms_to(CAROL) if m.text == text]
    row = delivered_once(h, Effect.DIRECT_MESSAGE)
    assert row.attempts == 1 and row.result["ts"] == sent.ts and row.result["channel"] == sent.channel


def test_a_stakeholder_update_whose_answers_are_lost_is_posted_once_in_the_channel_and_once_in_the_thread(
    declared: Harness,
) -> None:
    h = declared
    incident = h.incident()
    said = "Stakeholder update for INC-1"
    lose_the_next_answer(h)  # in the incident channel
    with h.runtime.sessions.begin() as s:
        service.post_status_update(
            s,
            get_incident(s, 1),
            text="Rolled back the deploy",
            author_id=ALICE,
            now=h.clock(),
            process=h.runtime.process,
        )
    h.settle()
    wait_for(lambda: len(bot_messages(h, incident.channel_id, said)) == 1, "Slack to post it after all")
    lose_the_next_answer(h)  # under the announcement
    h.later(MINUTE)
    thread = incident.announcement_channel_id
    wait_for(lambda: len(replies(bot_messages(h, thread, said))) == 1, "Slack to post the reply after all")
    h.later(5 * MINUTE)
    [in_channel] = bot_messages(h, incident.channel_id, said)
    [reply] = replies(bot_messages(h, thread, said))
    assert reply.thread_ts == incident.announcement_ts
    assert top_level(bot_messages(h, thread, said)) == []
    row = delivered_once(h, Effect.POST_UPDATE)
    assert row.attempts == 2
    assert row.result["steps"]["channel"] == in_channel.ts and row.result["steps"]["thread"] == reply.ts


def test_a_role_briefing_whose_answer_is_lost_is_sent_once(declared: Harness) -> None:
    h = declared
    lose_the_next_answer(h)
    with h.runtime.sessions.begin() as s:
        service.assign_role(s, get_incident(s, 1), role=Role.COMMUNICATE, user_id=CAROL, by=ALICE, now=h.clock())
    h.settle()

    def briefings() -> list[Message]:
        return [m for m in h.dms_to(CAROL) if "role (communicate) in *INC-1*" in m.text]

    wait_for(lambda: len(briefings()) == 1, "Slack to send the briefing after all")
    h.later(MINUTE)
    h.later(5 * MINUTE)
    [briefing] = briefings()
    row = delivered_once(h, Effect.ROLE_BRIEFING)
    assert row.attempts == 1 and row.result["ts"] == briefing.ts
    assert CAROL in h.workspace.channel(h.incident().channel_id).members


def test_a_bot_that_dies_after_slack_answered_adopts_the_message_instead_of_posting_it_again(
    declared: Harness,
) -> None:
    """Slack answered, but the bot died before settling the outbox row: the next attempt finds the message."""
    h = declared
    channel = h.incident().channel_id
    handler = h.handlers[Effect.CHANNEL_MESSAGE]
    died: list[Any] = []

    def dies_after_posting(message: OutboxMessage) -> dict[str, Any]:
        result = handler(message)
        if not died:
            died.append(result)
            raise RuntimeError("killed before recording the answer")
        return result

    h.handlers[Effect.CHANNEL_MESSAGE] = dies_after_posting
    with h.runtime.sessions.begin() as s:
        service.change_severity(
            s, get_incident(s, 1), severity="SEV1", by=ALICE, now=h.clock(), process=h.runtime.process
        )
    h.settle()
    h.later(MINUTE)
    h.later(5 * MINUTE)
    [posted] = bot_messages(h, channel, "Severity changed from SEV2 to *SEV1*")
    row = delivered_once(h, Effect.CHANNEL_MESSAGE)
    assert died and row.attempts == 1 and row.result["ts"] == posted.ts == died[0]["ts"]
