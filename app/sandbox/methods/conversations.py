"""conversations.*: create, invite, open, join, info, list, members, history, replies, setTopic, setPurpose,
archive."""

from __future__ import annotations

from app.sandbox.errors import ApiError, Err
from app.sandbox.methods.base import Handler, Request, member_channel, paginate, visible_channel, writable_channel
from app.sandbox.models import JSON, Subject
from app.sandbox.shapes import channel_json, message_json

SUBJECT_MAX = 250
PUBLIC, PRIVATE = "public_channel", "private_channel"


def _channel(req: Request, channel_id: str) -> JSON:
    return channel_json(req.ws.channels[channel_id], viewer=req.caller.id)


def create(req: Request) -> JSON:
    channel = req.ws.create_channel(
        req.args.get("name") or "", creator=req.caller.id, is_private=req.args.flag("is_private")
    )
    return {"channel": _channel(req, channel.id)}


def invite(req: Request) -> JSON:
    """All or nothing unless `force`: any per-user failure answers ok:false with Slack's `errors` array."""
    channel = visible_channel(req, req.args.require("channel"))
    if channel.is_archived:
        raise ApiError(Err.IS_ARCHIVED)
    if req.caller.id not in channel.members:
        raise ApiError(Err.NOT_IN_CHANNEL)
    user_ids = [u.strip() for u in (req.args.get("users") or "").split(",") if u.strip()]
    if not user_ids:
        raise ApiError(Err.NO_USER)
    errors, valid = [], []
    for user_id in dict.fromkeys(user_ids):
        error = _invite_error(req, user_id, channel.members)
        if error is None:
            valid.append(user_id)
        else:
            errors.append({"user": user_id, "ok": False, "error": error.value})
    if not errors or req.args.flag("force"):
        for user_id in valid:
            req.ws.join(channel.id, user_id)
    if errors:
        raise ApiError(Err(errors[0]["error"]), errors=errors)
    return {"channel": _channel(req, channel.id)}


def _invite_error(req: Request, user_id: str, members: list[str]) -> Err | None:
    if user_id == req.caller.id:
        return Err.CANT_INVITE_SELF
    user = req.ws.find_user(user_id)
    if user is None or user.deleted:
        return Err.USER_NOT_FOUND
    if user_id in members:
        return Err.ALREADY_IN_CHANNEL
    return None


def open_(req: Request) -> JSON:
    """The bot's direct-message conversation with one person (group DMs are not modelled)."""
    user_ids = [u.strip() for u in (req.args.get("users") or "").split(",") if u.strip()]
    if not user_ids:
        raise ApiError(Err.USERS_LIST_NOT_SUPPLIED)
    if len(user_ids) > 1:
        raise ApiError.invalid_arguments("the double opens direct messages with one person only")
    req.ws.user(user_ids[0])  # user_not_found
    existing = req.ws.channel_by_name(user_ids[0])
    already = existing is not None and existing.is_im
    channel = req.ws.direct_channel(user_ids[0])
    body = _channel(req, channel.id) if req.args.flag("return_im") else {"id": channel.id}
    return {"channel": body} | ({"no_op": True, "already_open": True} if already else {})


def join(req: Request) -> JSON:
    channel = visible_channel(req, req.args.require("channel"))
    if channel.is_private:
        raise ApiError(Err.METHOD_NOT_SUPPORTED_FOR_CHANNEL_TYPE)
    if channel.is_archived:
        raise ApiError(Err.IS_ARCHIVED)
    if req.caller.id in channel.members:
        warning = Err.ALREADY_IN_CHANNEL.value
        return {"channel": _channel(req, channel.id), "warning": warning, "response_metadata": {"warnings": [warning]}}
    req.ws.join(channel.id, req.caller.id)
    return {"channel": _channel(req, channel.id)}


def info(req: Request) -> JSON:
    channel = visible_channel(req, req.args.require("channel"))
    return {"channel": channel_json(channel, viewer=req.caller.id, num_members=req.args.flag("include_num_members"))}


def list_(req: Request) -> JSON:
    types = set((req.args.get("types") or PUBLIC).split(","))
    channels = [
        c
        for c in req.ws.channels.values()
        if ((PRIVATE if c.is_private else PUBLIC) in types)
        and (not c.is_private or req.caller.id in c.members)
        and not (c.is_archived and req.args.flag("exclude_archived"))
    ]
    page, metadata = paginate(channels, req.args)
    return {"channels": [channel_json(c, viewer=req.caller.id) for c in page], "response_metadata": metadata}


def members(req: Request) -> JSON:
    channel = visible_channel(req, req.args.require("channel"))
    page, metadata = paginate(channel.members, req.args)
    return {"members": page, "response_metadata": metadata}


def history(req: Request) -> JSON:
    """Newest first, `oldest`/`latest` bounds (exclusive unless `inclusive`), `limit` and cursors."""
    channel = member_channel(req, req.args.require("channel"))
    inclusive = req.args.flag("inclusive")
    oldest = _ts_bound(req.args.get("oldest"), 0.0, Err.INVALID_TS_OLDEST)
    latest = _ts_bound(req.args.get("latest"), float("inf"), Err.INVALID_TS_LATEST)

    def within(ts: str) -> bool:
        t = float(ts)
        return (oldest <= t <= latest) if inclusive else (oldest < t < latest)

    messages = [m for m in reversed(req.ws.history(channel.id)) if within(m.ts)]
    page, metadata = paginate(messages, req.args, max_limit=999)
    return {
        "messages": [message_json(req.ws, m) for m in page],
        "has_more": bool(metadata["next_cursor"]),
        "pin_count": len(channel.pins),
        "response_metadata": metadata,
    }


def _ts_bound(value: str | None, default: float, error: Err) -> float:
    try:
        return default if value is None else float(value)
    except ValueError:
        raise ApiError(error) from None


def replies(req: Request) -> JSON:
    channel = member_channel(req, req.args.require("channel"))
    ts = req.args.require("ts")
    parent = req.ws.find_message(channel.id, ts)
    if parent is None:
        raise ApiError(Err.THREAD_NOT_FOUND)
    thread = req.ws.replies(channel.id, parent.thread_ts or parent.ts)
    page, metadata = paginate(thread, req.args)
    return {
        "messages": [message_json(req.ws, m) for m in page],
        "has_more": bool(metadata["next_cursor"]),
        "response_metadata": metadata,
    }


def _set_subject(attribute: str, argument: str) -> Handler:
    def handler(req: Request) -> JSON:
        channel = writable_channel(req, req.args.require("channel"))
        value = req.args.get(argument) or ""
        if len(value) > SUBJECT_MAX:
            raise ApiError(Err.TOO_LONG)
        setattr(channel, attribute, Subject(value, req.caller.id, req.ws.ids.now()))
        return {"channel": _channel(req, channel.id)}

    return handler


def archive(req: Request) -> JSON:
    channel = visible_channel(req, req.args.require("channel"))
    if channel.is_archived:
        raise ApiError(Err.ALREADY_ARCHIVED)
    if channel.is_general:
        raise ApiError(Err.CANT_ARCHIVE_GENERAL)
    if req.caller.id not in channel.members:
        raise ApiError(Err.NOT_IN_CHANNEL)
    channel.is_archived = True
    return {}


METHODS: dict[str, Handler] = {
    "conversations.create": create,
    "conversations.invite": invite,
    "conversations.join": join,
    "conversations.open": open_,
    "conversations.info": info,
    "conversations.list": list_,
    "conversations.members": members,
    "conversations.history": history,
    "conversations.replies": replies,
    "conversations.setTopic": _set_subject("topic", "topic"),
    "conversations.setPurpose": _set_subject("purpose", "purpose"),
    "conversations.archive": archive,
}
