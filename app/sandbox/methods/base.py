"""What every Web API method handler gets: the workspace, the caller, typed access to arguments; and the
access rules shared by many methods (channel visibility and membership, cursors, message content)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from app.sandbox.blockkit import MESSAGE_MAX_TEXT, check_message_blocks
from app.sandbox.errors import ApiError, Err
from app.sandbox.models import JSON, Channel, User
from app.sandbox.workspace import Workspace

T = TypeVar("T")
_TRUE = {"1", "true", "yes"}


class Args:
    """Arguments as sent: strings from a form or query, typed values from a JSON body."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = {k: v for k, v in values.items() if k != "token"}

    def raw(self, name: str) -> Any:
        value = self._values.get(name)
        return None if value == "" else value

    def get(self, name: str) -> str | None:
        value = self.raw(name)
        return None if value is None else str(value)

    def require(self, name: str) -> str:
        if (value := self.get(name)) is None:
            raise ApiError.invalid_arguments(f"missing required field: {name}")
        return value

    def flag(self, name: str) -> bool:
        value = self.raw(name)
        return value is True or (isinstance(value, str | int) and str(value).lower() in _TRUE)

    def number(self, name: str, default: int) -> int:
        value = self.raw(name)
        try:
            return default if value is None else int(value)
        except (TypeError, ValueError):
            raise ApiError.invalid_arguments(f"{name} must be an integer") from None

    def json(self, name: str) -> Any:
        """A JSON-encoded argument (blocks, view, files), or its value when the body was JSON already."""
        value = self.raw(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            messages = [f"[ERROR] invalid json: {name}"]
            raise ApiError(Err.INVALID_JSON, response_metadata={"messages": messages}) from None

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)


@dataclass(frozen=True)
class Request:
    ws: Workspace
    args: Args
    caller: User
    base_url: str  # "http://host:port/", from the request's Host header


Handler = Callable[[Request], JSON]


def visible_channel(req: Request, channel_id: str) -> Channel:
    """A channel the caller can see: any public one, a private one only as a member."""
    channel = req.ws.channels.get(channel_id)
    if channel is None or (channel.is_private and req.caller.id not in channel.members):
        raise ApiError(Err.CHANNEL_NOT_FOUND)
    return channel


def member_channel(req: Request, channel_id: str) -> Channel:
    channel = visible_channel(req, channel_id)
    if req.caller.id not in channel.members:
        raise ApiError(Err.NOT_IN_CHANNEL)
    return channel


def writable_channel(req: Request, channel_id: str) -> Channel:
    channel = visible_channel(req, channel_id)
    if channel.is_archived:
        raise ApiError(Err.IS_ARCHIVED)
    if req.caller.id not in channel.members:
        raise ApiError(Err.NOT_IN_CHANNEL)
    return channel


def message_content(args: Args, *, required: bool = True) -> tuple[str | None, list[JSON] | None]:
    """`text` and `blocks` of a message: `no_text`, `msg_too_long`, `invalid_blocks` as Slack answers."""
    text = args.get("text")
    raw_blocks = args.json("blocks")
    blocks = check_message_blocks(raw_blocks) if raw_blocks is not None else None
    if required and not text and not blocks and not args.raw("attachments"):
        raise ApiError(Err.NO_TEXT)
    if text is not None and len(text) > MESSAGE_MAX_TEXT:
        raise ApiError(Err.MSG_TOO_LONG)
    return text, blocks


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def paginate(
    items: Sequence[T], args: Args, *, default_limit: int = 100, max_limit: int = 1000
) -> tuple[list[T], JSON]:
    """A page of `items` and Slack's `response_metadata` with `next_cursor` ("" on the last page)."""
    limit = min(max(args.number("limit", default_limit), 1), max_limit)
    offset = 0
    if cursor := args.get("cursor"):
        try:
            kind, _, number = base64.b64decode(cursor, validate=True).decode().partition(":")
            offset = int(number)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ApiError(Err.INVALID_CURSOR) from None
        if kind != "offset" or offset < 0:
            raise ApiError(Err.INVALID_CURSOR)
    page = list(items[offset : offset + limit])
    following = offset + limit
    return page, {"next_cursor": _cursor(following) if following < len(items) else ""}
