"""Things attached to messages and channels: pins.*, reactions.*, bookmarks.*."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from app.sandbox.errors import ApiError, Err
from app.sandbox.methods.base import Handler, Request, visible_channel, writable_channel
from app.sandbox.models import JSON
from app.sandbox.shapes import bookmark_json, message_json

_EMOJI_NAME = re.compile(r"[a-z0-9_+'\-]+(::skin-tone-[2-6])?")
LINK = "link"


def _reaction_args(req: Request) -> tuple[str, str, str]:
    channel = visible_channel(req, req.args.require("channel"))
    name = req.args.require("name").strip(":")
    if not _EMOJI_NAME.fullmatch(name):
        raise ApiError(Err.INVALID_NAME)
    return channel.id, req.args.require("timestamp"), name


def reactions_add(req: Request) -> JSON:
    channel, ts, name = _reaction_args(req)
    req.ws.add_reaction(channel, ts, name, req.caller.id)
    return {}


def reactions_remove(req: Request) -> JSON:
    channel, ts, name = _reaction_args(req)
    req.ws.remove_reaction(channel, ts, name, req.caller.id)
    return {}


def pins_add(req: Request) -> JSON:
    channel = visible_channel(req, req.args.require("channel"))
    req.ws.pin(channel.id, req.args.require("timestamp"), req.caller.id)
    return {}


def pins_remove(req: Request) -> JSON:
    channel = visible_channel(req, req.args.require("channel"))
    req.ws.unpin(channel.id, req.args.require("timestamp"))
    return {}


def pins_list(req: Request) -> JSON:
    channel = visible_channel(req, req.args.require("channel"))
    items = [
        {
            "type": "message",
            "created": pin.created,
            "created_by": pin.created_by,
            "channel": channel.id,
            "message": message_json(req.ws, req.ws.message(channel.id, pin.ts)),
        }
        for pin in reversed(channel.pins)
    ]
    return {"items": items}


def bookmarks_add(req: Request) -> JSON:
    channel = writable_channel(req, req.args.require("channel_id"))
    title = req.args.require("title")
    if req.args.require("type") != LINK:
        raise ApiError(Err.INVALID_BOOKMARK_TYPE)
    link = req.args.require("link")
    if urlparse(link).scheme not in ("http", "https"):
        raise ApiError(Err.INVALID_LINK)
    bookmark = req.ws.add_bookmark(channel.id, title=title, link=link, user=req.caller.id, emoji=req.args.get("emoji"))
    return {"bookmark": bookmark_json(req.ws, bookmark)}


def bookmarks_list(req: Request) -> JSON:
    channel = visible_channel(req, req.args.require("channel_id"))
    return {"bookmarks": [bookmark_json(req.ws, b) for b in channel.bookmarks]}


METHODS: dict[str, Handler] = {
    "reactions.add": reactions_add,
    "reactions.remove": reactions_remove,
    "pins.add": pins_add,
    "pins.remove": pins_remove,
    "pins.list": pins_list,
    "bookmarks.add": bookmarks_add,
    "bookmarks.list": bookmarks_list,
}
