"""The records a sandbox workspace holds. Plain mutable dataclasses, guarded by the workspace's lock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass
class User:
    id: str
    name: str
    real_name: str
    email: str | None = None
    is_bot: bool = False
    bot_id: str | None = None
    is_admin: bool = False
    deleted: bool = False
    tz: str = "Europe/London"


@dataclass
class Subject:
    """A channel's topic or purpose."""

    value: str = ""
    creator: str = ""
    last_set: int = 0


@dataclass
class Pin:
    ts: str
    created: int
    created_by: str


@dataclass
class Bookmark:
    id: str
    channel_id: str
    title: str
    link: str
    type: str
    created: int
    created_by: str
    emoji: str | None = None


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool
    creator: str
    created: int
    members: list[str] = field(default_factory=list)
    topic: Subject = field(default_factory=Subject)
    purpose: Subject = field(default_factory=Subject)
    is_archived: bool = False
    is_general: bool = False
    pins: list[Pin] = field(default_factory=list)
    bookmarks: list[Bookmark] = field(default_factory=list)
    is_im: bool = False  # a direct message between the bot and one person; its name is their user id


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    user: str | None = None
    bot_id: str | None = None
    blocks: list[JSON] = field(default_factory=list)
    thread_ts: str | None = None
    reply_broadcast: bool = False
    reactions: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    edited: JSON | None = None
    subtype: str | None = None

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts


@dataclass
class Ephemeral:
    """Seen only by `user`; Slack never stores it, the sandbox keeps it so tests and the UI can show it."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JSON] = field(default_factory=list)
    thread_ts: str | None = None
    deleted: bool = False


@dataclass
class Trigger:
    id: str
    user: str
    issued_at: float
    used: bool = False


@dataclass
class View:
    """A modal or App Home view as stored: `body` is what the app sent (with generated ids filled in)."""

    id: str
    user: str
    body: JSON
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    external_id: str = ""
    state: dict[str, dict[str, JSON]] = field(default_factory=dict)
    is_open: bool = True

    @property
    def type(self) -> str:
        return str(self.body.get("type", "modal"))


@dataclass
class UserGroup:
    id: str
    handle: str
    name: str
    users: list[str] = field(default_factory=list)
    description: str = ""
    created: int = 0


@dataclass
class File:
    id: str
    name: str
    length: int
    user: str
    created: int
    title: str = ""
    content: bytes | None = None
    channels: list[str] = field(default_factory=list)
    completed: bool = False


@dataclass
class ResponseUrl:
    id: str
    channel: str
    user: str
    issued_at: float
    message_ts: str | None = None
    uses: int = 0


@dataclass(frozen=True)
class ResponsePost:
    """One post to a response_url, as received."""

    response_url_id: str
    channel: str
    user: str
    payload: JSON
    time: float


@dataclass(frozen=True)
class Call:
    """One Web API call, as answered."""

    method: str
    args: JSON
    ok: bool
    error: str | None
    time: float
    http_status: int = 200
