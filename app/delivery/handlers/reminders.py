"""REMINDER and ESCALATION: nag for a stakeholder update; say in public that one is overdue.

`incidents.reminders` decided who, how long and which stage (the payload); these handlers render and post.
Resumable: each message posted is kept on the outbox row (`Progress`), so a retry posts only what is missing.
Posted once even when Slack's answer is lost (a read timeout after Slack posted): each post goes through
`post_once`, which marks the step before the call and, on a retry, adopts the message found in the channel by
its window marker (`app.slack.blocks.reminders.marker`) rather than posting it again.
A reminder delivered late, after an update, a snooze or the resolution, is moot: it is skipped, not sent.
The outbox retries these two kinds until they are delivered or moot (`RetryPolicy.retry_until_delivered`).
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError

from app.delivery.handlers.channel import blocks_json
from app.delivery.handlers.common import load, require_channel
from app.delivery.handlers.posted import post_once
from app.delivery.handlers.progress import Progress
from app.slack.blocks.reminders import (
    escalation_blocks,
    escalation_text,
    marker,
    overdue_announcement,
    overdue_blocks,
    reminder_blocks,
    reminder_text,
)
from app.slack.deps import Deps
from app.slack.errors import is_error, slack_step
from incidents import reminders
from incidents.effects import Effect
from incidents.models import Incident, OutboxMessage
from incidents.outbox import Handler, RetryLater

MOOT = "moot: an update was posted, the reminder snoozed or the incident resolved before it could be sent"


def handlers(deps: Deps) -> dict[str, Handler]:
    sessions = deps.runtime.sessions
    client = deps.client

    def reminder(message: OutboxMessage) -> dict[str, Any]:
        """A mention in the incident channel, and a direct message to the person nagged (if anyone)."""
        incident = load(sessions, message)
        payload = message.payload
        if not reminders.still_due(incident, payload):
            return {"skipped": MOOT}
        progress = Progress(sessions, message)
        text = reminder_text(incident, payload)
        if not progress.done("channel"):
            channel_id = require_channel(sessions, incident)
            blocks = blocks_json(reminder_blocks(incident, payload))
            with slack_step("post the reminder in the incident channel"):
                ts = post_step(deps, progress, "channel", incident, payload, channel_id, text, blocks)
            progress.mark("channel", ts)
        target = payload.get("target_id")
        if target and not progress.done("direct"):
            blocks = blocks_json(reminder_blocks(incident, payload, direct=True))
            with slack_step("send the reminder as a direct message"):
                # Into the conversation's id, not the user's: a retry reads its history to find a lost post.
                channel_id = client.conversations_open(users=target)["channel"]["id"]
                ts = post_step(deps, progress, "direct", incident, payload, channel_id, text, blocks)
            progress.mark("direct", ts)
        return progress.result()

    def escalation(message: OutboxMessage) -> dict[str, Any]:
        """Every role holder mentioned in the incident channel; the announcements channel told it is overdue."""
        incident = load(sessions, message)
        payload = message.payload
        if not reminders.still_due(incident, payload):
            return {"skipped": MOOT}
        progress = Progress(sessions, message)
        if not progress.done("channel"):
            channel_id = require_channel(sessions, incident)
            text, blocks = escalation_text(incident, payload), blocks_json(escalation_blocks(incident, payload))
            with slack_step("post the escalation in the incident channel"):
                ts = post_step(deps, progress, "channel", incident, payload, channel_id, text, blocks)
            progress.mark("channel", ts)
        if not progress.done("announcement"):
            progress.mark("announcement", announce_overdue(deps, incident, payload, progress))
        return progress.result()

    return {Effect.REMINDER: reminder, Effect.ESCALATION: escalation}


def post_step(
    deps: Deps,
    progress: Progress,
    step: str,
    incident: Incident,
    payload: dict[str, Any],
    channel_id: str,
    text: str,
    blocks: list[dict[str, Any]],
    *,
    join: bool = False,
) -> str:
    """Post the message of `step` once: the attempt is marked `<step>_sent` first, and a retry adopts the
    message it finds in the channel (by the window marker and the incident reference) instead of posting again.
    With `join`, a public channel the bot is not in is joined first."""

    def post() -> str:
        try:
            return deps.client.chat_postMessage(channel=channel_id, text=text, blocks=blocks)["ts"]
        except SlackApiError as exc:
            if not join or not is_error(exc, "not_in_channel"):
                raise
            deps.client.conversations_join(channel=channel_id)
            return deps.client.chat_postMessage(channel=channel_id, text=text, blocks=blocks)["ts"]

    return post_once(
        deps, progress, f"{step}_sent", channel_id=channel_id, block_id=marker(payload), ref=incident.ref, post=post
    )


def announce_overdue(deps: Deps, incident: Incident, payload: dict[str, Any], progress: Progress) -> str:
    """Post in the channel the incident was announced in (else the configured one), joining it if need be;
    returns the message ts."""
    target = deps.settings.announcements_channel
    with slack_step("find the announcements channel"):
        channel_id = incident.announcement_channel_id or deps.directory.channel_id(target)
    if channel_id is None:
        raise RetryLater(
            f"say the update is overdue: there is no public channel #{target.lstrip('#')}; "
            "create it or set ANNOUNCEMENTS_CHANNEL"
        )
    text, blocks = overdue_announcement(incident, payload), blocks_json(overdue_blocks(incident, payload))
    with slack_step("say in the announcements channel that the update is overdue"):
        return post_step(deps, progress, "announcement", incident, payload, channel_id, text, blocks, join=True)
