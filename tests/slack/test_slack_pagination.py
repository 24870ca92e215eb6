"""Lists longer than one page of Slack's answer are read to the end: the bot follows `response_metadata.next_cursor`
(by iterating slack_sdk's SlackResponse) against the workspace double, which pages with `limit` and `cursor` as
Slack does."""

from __future__ import annotations

from app.delivery.handlers.channel import find_channel_named
from app.delivery.handlers.posted import HISTORY_LIMIT, find_posted
from app.slack.listeners.capture import fetch_message
from tests.slack.slack_harness import ALICE, GENERAL, Harness


def test_a_reply_on_a_later_page_of_its_thread_is_found(harness: Harness) -> None:
    ws = harness.workspace
    parent = ws.post_message(GENERAL, user=ALICE, text="the thread")
    for n in range(2 * HISTORY_LIMIT + 20):
        ws.post_message(GENERAL, user=ALICE, text=f"reply {n}", thread_ts=parent.ts)
    ours = ws.post_message(
        GENERAL,
        user=ws.bot.id,
        text="the bot's reply",
        blocks=[{"type": "section", "block_id": "ours", "text": {"type": "mrkdwn", "text": "the bot's reply"}}],
        thread_ts=parent.ts,
    )

    found = find_posted(harness.deps, GENERAL, block_id="ours", ref=None, thread_ts=parent.ts)

    assert found == ours.ts
    assert len(harness.calls("conversations.replies")) == 3, "three pages of a 222-reply thread"


def test_a_captured_reply_deep_in_its_thread_is_fetched(harness: Harness) -> None:
    ws = harness.workspace
    parent = ws.post_message(GENERAL, user=ALICE, text="the thread")
    replies = [ws.post_message(GENERAL, user=ALICE, text=f"reply {n}", thread_ts=parent.ts) for n in range(450)]
    wanted = replies[-1]

    message = fetch_message(harness.deps.client, GENERAL, wanted.ts)

    assert message is not None and message["text"] == "reply 449"


def test_a_channel_past_the_first_page_of_the_channel_list_is_found(harness: Harness) -> None:
    ws = harness.workspace
    for n in range(1005):
        ws.create_channel(f"busy-{n}", creator=ALICE)

    channel = find_channel_named(harness.deps.client, "busy-1004")
    channel_id = harness.deps.directory.channel_id("#busy-1003")

    assert channel is not None and channel["id"] == ws.channel_by_name("busy-1004").id
    assert channel_id == ws.channel_by_name("busy-1003").id
    assert len(harness.calls("conversations.list")) == 4, "two pages for each look-up"
