"""The message shortcut "Declare incident from this message": the declare form, prefilled from the message."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from app.slack.apology import tell
from app.slack.blocks.modals import TEXT_MAX, TITLE_MAX, declare_modal
from app.slack.blocks.text import cut, first_line
from app.slack.deps import Deps
from app.slack.ids import Callback
from app.slack.listeners.common import open_modal

_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def register(app: App, deps: Deps) -> None:
    @app.shortcut(Callback.DECLARE_FROM_MESSAGE)
    def on_declare_from_message(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
        ack()
        message = body.get("message") or {}
        text = unescape(message.get("text") or "")
        channel_id = (body.get("channel") or {}).get("id") or ""
        source = {"channel": channel_id, "ts": message.get("ts", ""), "user": message.get("user") or ""}
        view = declare_modal(
            deps.runtime.process,
            services=deps.service_names(),
            title=cut(first_line(text), TITLE_MAX),
            impact=cut(text, TEXT_MAX),
            source=source if source["ts"] and channel_id else None,
            origin_channel=channel_id,
        )
        open_modal(client, body["trigger_id"], view, tell=lambda t: tell(context, body, t))


def unescape(text: str) -> str:
    """Message text as typed: Slack's `&lt;` `&gt;` `&amp;` back to characters (mentions stay mentions)."""
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text
