"""Posting a message once, even when the bot dies mid-call.

`chat.postMessage` has no idempotency key: if the process is killed after Slack posted the message but before
the bot recorded its ts, the retry would post it again. So a step marks "sent" on the outbox row *before* the
call; a retry that finds the mark (the outcome of that call is unknown) first looks for the bot's message in
the channel's recent history, or in the thread for a reply (by its block id and, when given, the incident
reference), and adopts it when found."""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import islice
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError

from app.delivery.handlers.progress import Progress
from app.slack.deps import Deps
from app.slack.errors import error_code

logger = structlog.get_logger("app.delivery.handlers")
HISTORY_LIMIT = 100
THREAD_PAGES = 10  # a thread is read oldest first: up to this many pages of HISTORY_LIMIT replies


def post_once(
    deps: Deps,
    progress: Progress,
    step: str,
    *,
    channel_id: str,
    block_id: str,
    ref: str | None,
    post: Callable[[], str],
    thread_ts: str | None = None,
) -> str:
    """The ts of the message `post()` sends: sent now, or found from an attempt that did not finish.

    `block_id` must single this message out among the bot's messages about `ref` in that channel (the card's
    header is unique; a reminder's block id names its window and stage); with `ref` None, among all the bot's
    messages there (a block id naming the outbox row). A reply (`thread_ts`) is looked for in that thread."""
    if progress.done(step):
        ts = find_posted(deps, channel_id, block_id=block_id, ref=ref, thread_ts=thread_ts)
        if ts is not None:
            logger.info("message_adopted", step=step, block=block_id, channel=channel_id)
            return ts
    progress.mark(step)
    return post()


def find_posted(
    deps: Deps, channel_id: str, *, block_id: str, ref: str | None, thread_ts: str | None = None
) -> str | None:
    """The newest message of the bot in `channel_id` (or in the thread `thread_ts`) with a block `block_id`
    that names `ref` (INC-1, not INC-12) when one is given."""
    try:
        messages = _thread(deps, channel_id, thread_ts) if thread_ts else _history(deps, channel_id)
    except SlackApiError as exc:  # not a member, no history scope: post (a duplicate beats a loss)
        logger.warning("history_unavailable", channel=channel_id, error=error_code(exc))
        return None
    bot = deps.directory.bot_user_id()
    named = re.compile(rf"(?<![\w-]){re.escape(ref)}(?![\w-])") if ref else None
    for message in messages:
        if message.get("user") != bot or not _has_block(message, block_id):
            continue
        if named is None or named.search(message.get("text") or ""):
            return message.get("ts")
    return None


def _history(deps: Deps, channel_id: str) -> list[dict[str, Any]]:
    """The channel's recent messages, newest first."""
    return list(deps.client.conversations_history(channel=channel_id, limit=HISTORY_LIMIT).get("messages") or [])


def _thread(deps: Deps, channel_id: str, thread_ts: str) -> list[dict[str, Any]]:
    """The thread's replies, newest first (Slack pages them oldest first)."""
    messages: list[dict[str, Any]] = []
    pages = deps.client.conversations_replies(channel=channel_id, ts=thread_ts, limit=HISTORY_LIMIT)
    for page in islice(pages, THREAD_PAGES):  # iterating a SlackResponse follows its next_cursor
        messages.extend(page.get("messages") or [])
    return [m for m in reversed(messages) if m.get("ts") != thread_ts]


def _has_block(message: dict[str, Any], block_id: str) -> bool:
    return any(isinstance(b, dict) and b.get("block_id") == block_id for b in message.get("blocks") or [])
