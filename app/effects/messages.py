"""Messages: in the incident channel, to one person, stakeholder updates, role briefings."""

from __future__ import annotations

from typing import Any

from app.blocks.messages import briefing_text, update_blocks, update_text
from app.deps import Deps
from app.effects.channel import blocks_json, invite
from app.effects.common import load, require_channel, setup_gave_up
from app.effects.progress import Progress
from app.effects.slack_errors import slack_step
from incidents.effects import Effect
from incidents.models import OutboxMessage, Role
from incidents.outbox import Handler, NotReady, PermanentFailure


def handlers(deps: Deps) -> dict[str, Handler]:
    sessions = deps.runtime.sessions
    client = deps.client

    def channel_message(message: OutboxMessage) -> dict[str, Any]:
        incident = load(sessions, message)
        channel_id = require_channel(sessions, incident)
        with slack_step("post in the incident channel"):
            ts = client.chat_postMessage(channel=channel_id, text=message.payload["text"])["ts"]
        return {"ts": ts}

    def direct_message(message: OutboxMessage) -> dict[str, Any]:
        user_id = message.payload.get("user_id")
        if not user_id:
            raise PermanentFailure("a direct message without a user_id")
        with slack_step("send a direct message"):
            response = client.chat_postMessage(channel=user_id, text=message.payload["text"])
        return {"channel": response["channel"], "ts": response["ts"]}

    def post_update(message: OutboxMessage) -> dict[str, Any]:
        """In the channel, then (public incidents only) as a reply under the announcement."""
        incident = load(sessions, message)
        update = next((u for u in incident.updates if u.id == message.payload.get("update_id")), None)
        if update is None:
            raise PermanentFailure(f"status update {message.payload.get('update_id')} not found")
        progress = Progress(sessions, message)
        text, blocks = update_text(incident, update), blocks_json(update_blocks(incident, update))
        if not progress.done("channel"):
            channel_id = require_channel(sessions, incident)
            with slack_step("post the update in the incident channel"):
                ts = client.chat_postMessage(channel=channel_id, text=text, blocks=blocks)["ts"]
            progress.mark("channel", ts)
        if incident.private or progress.done("thread"):
            return progress.result()
        if not incident.announcement_ts:
            if setup_gave_up(sessions, incident.id):
                return progress.result(thread="no announcement")
            raise NotReady(f"{incident.ref} is not announced yet")
        with slack_step("reply under the announcement"):
            ts = client.chat_postMessage(
                channel=incident.announcement_channel_id, thread_ts=incident.announcement_ts, text=text, blocks=blocks
            )["ts"]
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
            ts = client.chat_postMessage(channel=user_id, text=text)["ts"]
        return progress.result(ts=ts)

    return {
        Effect.CHANNEL_MESSAGE: channel_message,
        Effect.DIRECT_MESSAGE: direct_message,
        Effect.POST_UPDATE: post_update,
        Effect.ROLE_BRIEFING: role_briefing,
    }
