"""Messages: in the incident channel, to one person, stakeholder updates, role briefings.

Each is posted once even when Slack's answer is lost or the bot dies before recording it: every post goes
through `post_once` (the step is marked `<step>_sent` before the call; a retry adopts the message it finds by its
block id instead of posting it again). A plain message's block id names its outbox row, an update's the update.
Direct messages go into the conversation's id (conversations.open), not the user's: a retry reads its history.
"""

from __future__ import annotations

from typing import Any

from app.delivery.handlers.channel import blocks_json, invite
from app.delivery.handlers.common import load, require_channel, setup_gave_up
from app.delivery.handlers.posted import post_once
from app.delivery.handlers.progress import Progress
from app.slack.blocks.facts import message_mrkdwn
from app.slack.blocks.messages import (
    briefing_text,
    message_block_id,
    text_blocks,
    update_block_id,
    update_blocks,
    update_text,
)
from app.slack.deps import Deps
from app.slack.errors import slack_step
from incidents.effects import Effect
from incidents.models import OutboxMessage, Role
from incidents.outbox import Handler, NotReady, PermanentFailure


def handlers(deps: Deps) -> dict[str, Handler]:
    sessions = deps.runtime.sessions
    client = deps.client

    def post_text(
        message: OutboxMessage, progress: Progress, step: str, channel_id: str, text: str, ref: str | None
    ) -> str:
        """Post `text` once into `channel_id` as the message of outbox row `message`; its ts."""
        block_id = message_block_id(message.id)
        blocks = blocks_json(text_blocks(text, block_id))
        return post_once(
            deps,
            progress,
            f"{step}_sent",
            channel_id=channel_id,
            block_id=block_id,
            ref=ref,
            post=lambda: client.chat_postMessage(channel=channel_id, text=text, blocks=blocks)["ts"],
        )

    def channel_message(message: OutboxMessage) -> dict[str, Any]:
        incident = load(sessions, message)
        channel_id = require_channel(sessions, incident)
        progress = Progress(sessions, message)
        with slack_step("post in the incident channel"):
            ts = post_text(message, progress, "message", channel_id, message_mrkdwn(message.payload), None)
        return progress.result(ts=ts)

    def direct_message(message: OutboxMessage) -> dict[str, Any]:
        user_id = message.payload.get("user_id")
        if not user_id:
            raise PermanentFailure("a direct message without a user_id")
        progress = Progress(sessions, message)
        with slack_step("send a direct message"):
            channel_id = client.conversations_open(users=user_id)["channel"]["id"]
            ts = post_text(message, progress, "message", channel_id, message.payload["text"], None)
        return progress.result(channel=channel_id, ts=ts)

    def post_update(message: OutboxMessage) -> dict[str, Any]:
        """In the channel, then (public incidents only) as a reply under the announcement."""
        incident = load(sessions, message)
        update = next((u for u in incident.updates if u.id == message.payload.get("update_id")), None)
        if update is None:
            raise PermanentFailure(f"status update {message.payload.get('update_id')} not found")
        progress = Progress(sessions, message)
        text, blocks = update_text(incident, update), blocks_json(update_blocks(incident, update))
        block_id = update_block_id(update)
        if not progress.done("channel"):
            channel_id = require_channel(sessions, incident)
            with slack_step("post the update in the incident channel"):
                ts = post_once(
                    deps,
                    progress,
                    "channel_sent",
                    channel_id=channel_id,
                    block_id=block_id,
                    ref=incident.ref,
                    post=lambda: client.chat_postMessage(channel=channel_id, text=text, blocks=blocks)["ts"],
                )
            progress.mark("channel", ts)
        if incident.private or progress.done("thread"):
            return progress.result()
        if not incident.announcement_ts:
            if setup_gave_up(sessions, incident.id):
                return progress.result(thread="no announcement")
            raise NotReady(f"{incident.ref} is not announced yet")
        announcement_channel, announcement_ts = incident.announcement_channel_id, incident.announcement_ts
        with slack_step("reply under the announcement"):
            ts = post_once(
                deps,
                progress,
                "thread_sent",
                channel_id=announcement_channel,
                block_id=block_id,
                ref=incident.ref,
                thread_ts=announcement_ts,
                post=lambda: client.chat_postMessage(
                    channel=announcement_channel, thread_ts=announcement_ts, text=text, blocks=blocks
                )["ts"],
            )
        progress.mark("thread", ts)
        return progress.result()

    def role_briefing(message: OutboxMessage) -> dict[str, Any]:
        """Bring the person into the channel and tell them what their duty means and what to do first."""
        incident = load(sessions, message)
        channel_id = require_channel(sessions, incident)
        user_id, role = message.payload["user_id"], Role(message.payload["role"])
        progress = Progress(sessions, message)
        if not progress.done("invited"):
            with slack_step("invite the role holder"):
                invite(client, channel_id, user_id)
            progress.mark("invited")
        with slack_step("send the role briefing"):
            text = briefing_text(incident, role, by=message.payload.get("by"), user_id=user_id)
            direct_id = client.conversations_open(users=user_id)["channel"]["id"]
            ts = post_text(message, progress, "briefing", direct_id, text, incident.ref)
        return progress.result(ts=ts)

    return {
        Effect.CHANNEL_MESSAGE: channel_message,
        Effect.DIRECT_MESSAGE: direct_message,
        Effect.POST_UPDATE: post_update,
        Effect.ROLE_BRIEFING: role_briefing,
    }
