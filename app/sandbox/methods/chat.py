"""chat.*: postMessage, update, postEphemeral, getPermalink, delete."""

from __future__ import annotations

from app.sandbox.errors import ApiError, Err
from app.sandbox.methods.base import Handler, Request, message_content, visible_channel, writable_channel
from app.sandbox.models import JSON
from app.sandbox.shapes import message_json


def post_message(req: Request) -> JSON:
    reference = req.args.require("channel")
    found = req.ws.find_channel(reference)  # Slack also takes "#name" here
    if found is None and req.ws.find_user(reference) is not None:
        found = req.ws.direct_channel(reference)  # a user id: the bot's DM with that person
    channel = writable_channel(req, found.id if found else reference)
    text, blocks = message_content(req.args)
    message = req.ws.post_message(
        channel.id,
        user=req.caller.id,
        text=text or "",
        blocks=blocks,
        thread_ts=req.args.get("thread_ts"),
        reply_broadcast=req.args.flag("reply_broadcast"),
    )
    return {"channel": channel.id, "ts": message.ts, "message": message_json(req.ws, message)}


def update(req: Request) -> JSON:
    channel = visible_channel(req, req.args.require("channel"))
    message = req.ws.message(channel.id, req.args.require("ts"))
    if message.user != req.caller.id:
        raise ApiError(Err.CANT_UPDATE_MESSAGE)
    if channel.is_archived:
        raise ApiError(Err.IS_ARCHIVED)
    text, blocks = message_content(req.args, required=False)
    if text is None and blocks is None:
        raise ApiError(Err.NO_TEXT)
    message = req.ws.update_message(channel.id, message.ts, text=text, blocks=blocks, editor=req.caller.id)
    return {"channel": channel.id, "ts": message.ts, "text": message.text, "message": message_json(req.ws, message)}


def post_ephemeral(req: Request) -> JSON:
    channel = writable_channel(req, req.args.require("channel"))
    user = req.args.require("user")
    if user not in channel.members:
        raise ApiError(Err.USER_NOT_IN_CHANNEL)
    text, blocks = message_content(req.args)
    ephemeral = req.ws.post_ephemeral(
        channel.id, user, text=text or "", blocks=blocks, thread_ts=req.args.get("thread_ts")
    )
    return {"message_ts": ephemeral.ts}


def get_permalink(req: Request) -> JSON:
    channel = visible_channel(req, req.args.require("channel"))
    return {"channel": channel.id, "permalink": req.ws.permalink(channel.id, req.args.require("message_ts"))}


def delete(req: Request) -> JSON:
    channel = visible_channel(req, req.args.require("channel"))
    message = req.ws.message(channel.id, req.args.require("ts"))
    if message.user != req.caller.id:
        raise ApiError(Err.CANT_DELETE_MESSAGE)
    req.ws.delete_message(channel.id, message.ts)
    return {"channel": channel.id, "ts": message.ts}


METHODS: dict[str, Handler] = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
    "chat.delete": delete,
}
