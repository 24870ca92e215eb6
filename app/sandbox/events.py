"""Events API shapes: the `event_callback` envelope and the inner events the sandbox sends."""

from __future__ import annotations

from app.sandbox.models import JSON, Message, Pin
from app.sandbox.shapes import message_json
from app.sandbox.workspace import Workspace


def envelope(ws: Workspace, event: JSON, *, event_id: str, event_time: int, token: str) -> JSON:
    return {
        "token": token,
        "team_id": ws.team_id,
        "context_team_id": ws.team_id,
        "api_app_id": ws.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ws.team_id,
                "user_id": ws.bot.id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{event_id}",
    }


def message_event(ws: Workspace, message: Message) -> JSON:
    event = {
        **message_json(ws, message),
        "channel": message.channel,
        "event_ts": message.ts,
        "channel_type": "group" if ws.channel(message.channel).is_private else "channel",
    }
    if message.user and not message.bot_id:
        event["client_msg_id"] = f"{ws.ids.token(8)}-{ws.ids.token(4)}-{ws.ids.token(4)}-{ws.ids.token(12)}"
    return event


def reaction_event(ws: Workspace, kind: str, *, user: str, message: Message, name: str, event_ts: str) -> JSON:
    """`reaction_added` / `reaction_removed`."""
    return {
        "type": kind,
        "user": user,
        "reaction": name,
        "item_user": message.user,
        "item": {"type": "message", "channel": message.channel, "ts": message.ts},
        "event_ts": event_ts,
    }


def pin_event(ws: Workspace, kind: str, *, user: str, message: Message, pin: Pin, event_ts: str) -> JSON:
    """`pin_added` / `pin_removed` (the latter with `has_pins`)."""
    channel = ws.channel(message.channel)
    event: JSON = {
        "type": kind,
        "user": user,
        "channel_id": channel.id,
        "item": {
            "type": "message",
            "created": pin.created,
            "created_by": pin.created_by,
            "channel": channel.id,
            "message": message_json(ws, message),
        },
        "item_user": message.user,
        "pin_count": str(len(channel.pins)),
        "pinned_info": {"channel": channel.id, "pinned_by": pin.created_by, "pinned_ts": pin.created},
        "event_ts": event_ts,
    }
    if kind == "pin_removed":
        event["has_pins"] = bool(channel.pins)
    return event
