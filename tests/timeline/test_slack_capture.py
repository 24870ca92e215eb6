"""Pins and capture-emoji reactions in an incident channel, as Slack sends them (signed Events API requests)."""

from __future__ import annotations

import pytest

from app.sandbox.events import pin_event
from app.slack.listeners.capture import MarkEvent, _reaction, message_text
from incidents.capture import message_time
from tests.slack.slack_harness import ALICE, BOB, CAROL, DAN, GENERAL, Harness


@pytest.fixture
def channel(harness: Harness) -> str:
    return harness.declare().channel_id


def say(harness: Harness, text: str, *, user: str = BOB, channel: str, thread_ts: str | None = None) -> str:
    return harness.workspace.post_user_message(user, channel, text, thread_ts).ts


def messages(harness: Harness) -> list:
    return [e for e in harness.events(kind="message") if e.removed_at is None]


def test_a_pinned_message_lands_on_the_timeline_with_its_author_text_time_and_permalink(harness, channel):
    ts = say(harness, "payments-api error rate is 31% since the 14:58 deploy", channel=channel)
    harness.slack.pin(CAROL, channel, ts)
    harness.settle()
    [event] = messages(harness)
    assert event.text == "payments-api error rate is 31% since the 14:58 deploy"
    assert event.actor_id == BOB, "the author, not the person who pinned it"
    assert event.occurred_at == message_time(ts), "the message's own time, not the time it was pinned"
    assert event.source == harness.workspace.permalink(channel, ts)


def test_a_reaction_with_the_capture_emoji_lands_on_the_timeline(harness, channel):
    ts = say(harness, "rolling back now", channel=channel)
    harness.slack.react(CAROL, channel, ts, "pushpin")
    harness.settle()
    assert [e.text for e in messages(harness)] == ["rolling back now"]
    assert harness.calls("conversations.history"), "the text is read from Slack: reaction events do not carry it"


def test_other_reactions_are_ignored(harness, channel):
    ts = say(harness, "lunch?", channel=channel)
    harness.slack.react(CAROL, channel, ts, "eyes")
    harness.settle()
    assert messages(harness) == []


def test_pins_outside_incident_channels_are_ignored(harness, channel):
    ts = say(harness, "unrelated", channel=GENERAL)
    harness.slack.pin(CAROL, GENERAL, ts)
    harness.settle()
    assert harness.events(kind="message") == []


def test_a_message_pinned_and_reacted_to_by_several_people_is_stored_once(harness, channel):
    ts = say(harness, "the queue is backing up", channel=channel)
    harness.slack.pin(CAROL, channel, ts)
    harness.slack.react(DAN, channel, ts, "pushpin")
    harness.slack.react(ALICE, channel, ts, "pushpin")
    harness.settle()
    assert len(messages(harness)) == 1


def test_removing_the_last_mark_takes_the_message_off_the_timeline(harness, channel):
    ts = say(harness, "maybe DNS?", channel=channel)
    harness.slack.pin(CAROL, channel, ts)
    harness.slack.react(DAN, channel, ts, "pushpin")
    harness.settle()
    harness.slack.unpin(CAROL, channel, ts)
    harness.settle()
    assert len(messages(harness)) == 1, "Dan's reaction still marks it"
    harness.slack.unreact(DAN, channel, ts, "pushpin")
    harness.settle()
    assert messages(harness) == []


def test_a_thread_reply_is_captured_with_its_thread(harness, channel):
    parent = say(harness, "what changed at 14:58?", channel=channel)
    reply = say(harness, "deploy 2026.11.21-3 of payments-api", user=DAN, channel=channel, thread_ts=parent)
    harness.slack.react(CAROL, channel, reply, "pushpin")
    harness.settle()
    [event] = messages(harness)
    assert event.text == "deploy 2026.11.21-3 of payments-api"
    assert event.actor_id == DAN
    assert event.data["thread_ts"] == parent
    assert event.occurred_at == message_time(reply)


def test_a_retried_event_is_not_applied_twice(harness, channel):
    ts = say(harness, "error rate back under 1%", channel=channel)
    first = harness.slack.react(CAROL, channel, ts, "pushpin")
    harness.settle()
    event_id = list(harness.slack.sent_events)[-1]
    assert first.status == 200
    harness.slack.unreact(CAROL, channel, ts, "pushpin")
    harness.settle()
    retry = harness.slack.event({}, retry_num=1, event_id=event_id)  # Slack's late retry of reaction_added
    harness.settle()
    assert retry.status == 200
    assert messages(harness) == [], "the late retry must not put back a mark that was removed since"


def test_the_bots_own_pin_of_the_card_is_not_captured(harness, channel):
    """Opening the channel pins the card; Slack tells the app about that pin too."""
    ws = harness.workspace
    card = ws.message(channel, harness.incident().card_ts)
    [pin] = [p for p in ws.channel(channel).pins if p.ts == card.ts]
    harness.slack.event(pin_event(ws, "pin_added", user=ws.bot.id, message=card, pin=pin, event_ts="1.0"))
    harness.settle()
    assert harness.events(kind="message") == []


def test_only_the_configured_emoji_counts():
    body = {"event_id": "Ev1"}
    event = {"reaction": "bookmark", "user": "U1", "item": {"type": "message", "channel": "C1", "ts": "1.0"}}
    assert _reaction(body, event, "bookmark") == MarkEvent(event_id="Ev1", marker="U1", channel="C1", ts="1.0")
    assert _reaction(body, event, "pushpin") is None
    skin_tone = event | {"reaction": "+1::skin-tone-3"}
    assert _reaction(body, skin_tone, "+1") is not None


def test_a_message_with_only_files_is_described_by_their_names():
    assert message_text({"text": "", "files": [{"name": "graph.png"}, {"title": "logs"}]}) == "[graph.png, logs]"
