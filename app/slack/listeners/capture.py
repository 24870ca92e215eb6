"""Messages marked as important in an incident channel land on its timeline: `pin_added` / `pin_removed`, and
`reaction_added` / `reaction_removed` with the capture emoji (CAPTURE_REACTION, default :pushpin:).

Bolt acks events at once; the Slack reads (the message, its permalink) happen after, then one transaction,
holding the incident's row lock (so that a pin and its unpin handled at once are applied one after the
other), records the mark and the event id. A retried event (X-Slack-Retry-Num) whose first delivery was handled is
skipped, so a late retry cannot undo a later unmark.
"""

from __future__ import annotations

from datetime import datetime
from itertools import islice
from typing import Any

import structlog
from pydantic import BaseModel, ValidationError
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.observability import request_log
from app.slack.deps import Deps
from app.slack.errors import error_code
from app.slack.listeners.common import incident_for_channel
from incidents import capture, queries
from incidents.errors import IncidentError

logger = structlog.get_logger("app.slack.listeners.capture")
REPLY_PAGES = 10


class MarkEvent(BaseModel):
    """What a pin or reaction event tells us: who marked which message, and how."""

    event_id: str
    marker: str
    channel: str
    ts: str
    at: datetime | None = None  # when the mark was made or removed (event_ts)
    message: dict[str, Any] | None = None  # pin events carry the message itself


def register(app: App, deps: Deps) -> None:
    emoji = deps.settings.capture_reaction

    @app.event("pin_added")
    def on_pin_added(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        if (mark := _pin(body, event)) is not None:
            _marked(deps, client, mark, capture.PIN)

    @app.event("pin_removed")
    def on_pin_removed(body: dict[str, Any], event: dict[str, Any]) -> None:
        if (mark := _pin(body, event)) is not None:
            _unmarked(deps, mark, capture.PIN)

    @app.event("reaction_added")
    def on_reaction_added(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        if (mark := _reaction(body, event, emoji)) is not None:
            _marked(deps, client, mark, capture.reaction_mark(mark.marker, emoji))

    @app.event("reaction_removed")
    def on_reaction_removed(body: dict[str, Any], event: dict[str, Any]) -> None:
        if (mark := _reaction(body, event, emoji)) is not None:
            _unmarked(deps, mark, capture.reaction_mark(mark.marker, emoji))


# --- parsing the events -------------------------------------------------------------------------------------


def _pin(body: dict[str, Any], event: dict[str, Any]) -> MarkEvent | None:
    item = event.get("item") or {}
    message = item.get("message") or {}
    if item.get("type") != "message":
        return _ignore(f"a pinned {item.get('type') or 'item'}, not a message")
    return _parse(
        event_id=body.get("event_id"),
        marker=event.get("user"),
        channel=event.get("channel_id") or item.get("channel"),
        ts=message.get("ts") or item.get("ts"),
        at=_when(event.get("event_ts")),
        message=message or None,
    )


def _reaction(body: dict[str, Any], event: dict[str, Any], emoji: str) -> MarkEvent | None:
    if (event.get("reaction") or "").split("::")[0] != emoji.split("::")[0]:
        return _ignore("not the capture emoji")
    item = event.get("item") or {}
    if item.get("type") != "message":
        return _ignore(f"a reaction to a {item.get('type') or 'item'}, not a message")
    return _parse(
        event_id=body.get("event_id"),
        marker=event.get("user"),
        channel=item.get("channel"),
        ts=item.get("ts"),
        at=_when(event.get("event_ts")),
    )


def _when(event_ts: Any) -> datetime | None:
    try:
        return capture.message_time(str(event_ts)) if event_ts else None
    except IncidentError:
        return None


def _parse(**fields: Any) -> MarkEvent | None:
    try:
        return MarkEvent(**fields)
    except ValidationError:
        return _ignore("an event without its channel, message or user")


def _ignore(reason: str) -> None:
    request_log.set_outcome("ignored", reason)
    return None


# --- acting on them -----------------------------------------------------------------------------------------


def _in_incident_channel(deps: Deps, mark: MarkEvent) -> bool:
    incident = incident_for_channel(deps, mark.channel)
    if incident is None:
        _ignore("not an incident channel")
        return False
    request_log.bind_incident(incident)
    if mark.marker == deps.directory.bot_user_id():
        _ignore("marked by the bot itself")  # the bot pins its own incident card
        return False
    return True


def _marked(deps: Deps, client: WebClient, mark: MarkEvent, how: str) -> None:
    if not _in_incident_channel(deps, mark):
        return
    message = mark.message if mark.message and "text" in mark.message else fetch_message(client, mark.channel, mark.ts)
    if message is None:
        _ignore("the message is gone or unreadable")
        return
    permalink = message.get("permalink") or _permalink(client, mark.channel, mark.ts)
    with deps.runtime.sessions.begin() as session:
        incident = queries.incident_for_channel(session, mark.channel, for_update=True)
        if incident is None or not capture.first_delivery(session, f"event:{mark.event_id}", now=deps.now()):
            request_log.set_outcome("duplicate")
            return
        capture.mark_message(
            session,
            incident,
            channel=mark.channel,
            ts=mark.ts,
            thread_ts=message.get("thread_ts"),
            author_id=message.get("user") or message.get("bot_id"),
            text=message_text(message),
            permalink=permalink,
            mark=how,
            now=deps.now(),
            marked_at=mark.at,
        )


def _unmarked(deps: Deps, mark: MarkEvent, how: str) -> None:
    if not _in_incident_channel(deps, mark):
        return
    with deps.runtime.sessions.begin() as session:
        incident = queries.incident_for_channel(session, mark.channel, for_update=True)
        if incident is None or not capture.first_delivery(session, f"event:{mark.event_id}", now=deps.now()):
            request_log.set_outcome("duplicate")
            return
        capture.unmark_message(
            session, incident, channel=mark.channel, ts=mark.ts, mark=how, now=deps.now(), unmarked_at=mark.at
        )


def message_text(message: dict[str, Any]) -> str:
    text = (message.get("text") or "").strip()
    if text:
        return text
    names = [f.get("name") or f.get("title") or "a file" for f in message.get("files") or []]
    return f"[{', '.join(names)}]" if names else "(a message without text)"


def fetch_message(client: WebClient, channel: str, ts: str) -> dict[str, Any] | None:
    """One message by its ts: from the channel's history, or, for a reply in a thread (which the history does not
    hold), from its thread."""
    try:
        history = client.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)
        for message in history.get("messages") or []:
            if message.get("ts") == ts:
                return message
        replies = client.conversations_replies(channel=channel, ts=ts, oldest=ts, inclusive=True, limit=200)
        for page in islice(replies, REPLY_PAGES):  # iterating a SlackResponse follows its next_cursor
            for message in page.get("messages") or []:
                if message.get("ts") == ts:
                    return message
    except SlackApiError as exc:
        logger.warning("capture_fetch_failed", error=error_code(exc), channel=channel)
    return None


def _permalink(client: WebClient, channel: str, ts: str) -> str | None:
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except SlackApiError as exc:
        logger.warning("capture_permalink_failed", error=error_code(exc), channel=channel)
        return None
