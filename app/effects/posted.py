"""Posting a message once, even when the bot dies mid-call.

`chat.postMessage` has no idempotency key: if the process is killed after Slack posted the message but before
the bot recorded its ts, the retry would post it again. So a step marks "sent" on the outbox row *before* the
call; a retry that finds the mark (the outcome of that call is unknown) first looks for the bot's message in
the channel's recent history (by its block id and the incident reference) and adopts it when found."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError

from app.deps import Deps
from app.effects.progress import Progress

logger = structlog.get_logger("app.effects")
HISTORY_LIMIT = 100


def post_once(
    deps: Deps, progress: Progress, step: str, *, channel_id: str, block_id: str, ref: str, post: Callable[[], str]
) -> str:
    """The ts of the message `post()` sends: sent now, or found from an attempt that did not finish.

    `block_id` must single this message out among the bot's messages about `ref` in that channel (the card's
    header is unique; a reminder's block id names its window and stage)."""
    if progress.done(step):
        ts = find_posted(deps, channel_id, block_id=block_id, ref=ref)
        if ts is not None:
            logger.info("message_adopted", step=step, incident=ref, channel=channel_id)
            return ts
    progress.mark(step)
    return post()


def find_posted(deps: Deps, channel_id: str, *, block_id: str, ref: str) -> str | None:
    """The newest message of the bot in `channel_id` with a block `block_id` that names `ref` (INC-1, not INC-12)."""
    try:
        page = deps.client.conversations_history(channel=channel_id, limit=HISTORY_LIMIT)
    except SlackApiError as exc:  # not a member, no history scope: post (a duplicate beats a loss)
        logger.warning("history_unavailable", channel=channel_id, error=exc.response.get("error"))
        return None
    bot = deps.directory.bot_user_id()
    named = re.compile(rf"(?<![\w-]){re.escape(ref)}(?![\w-])")
    for message in page.get("messages") or []:
        if message.get("user") != bot or not _has_block(message, block_id):
            continue
        if named.search(message.get("text") or ""):
            return message.get("ts")
    return None


def _has_block(message: dict[str, Any], block_id: str) -> bool:
    return any(isinstance(b, dict) and b.get("block_id") == block_id for b in message.get("blocks") or [])
