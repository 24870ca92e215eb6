"""An in-memory Slack workspace: people, channels, messages, views, files, and every Web API call made to it.

One RLock guards everything: the Web API double serves requests from many threads, the test or the sandbox
UI reads and acts from another. Records are returned live; read them under `workspace.lock` when racing."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

from app.sandbox.blockkit import with_generated_ids
from app.sandbox.errors import ApiError, Err
from app.sandbox.faults import Faults
from app.sandbox.ids import IdFactory
from app.sandbox.modals import Modals
from app.sandbox.models import (
    JSON,
    Bookmark,
    Call,
    Channel,
    Ephemeral,
    Message,
    Pin,
    ResponsePost,
    ResponseUrl,
    User,
    UserGroup,
    View,
)
from app.sandbox.uploads import Uploads

TEAM_ID = "T0SANDBOX"
APP_ID = "A0SANDBOX"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
INCIDENTS_CHANNEL_ID = "C0INCIDENTS"

DEFAULT_PEOPLE = (("alice", "Alice Adams"), ("bob", "Bob Brown"), ("carol", "Carol Chen"), ("dan", "Dan Diaz"))

CHANNEL_NAME_MAX = 80
_CHANNEL_NAME = re.compile(r"[a-z0-9_-]+")
_PUNCTUATION_ONLY = re.compile(r"[_-]+")

RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60
RESPONSE_PATH = "response/"


def check_channel_name(name: str | None) -> str:
    """Slack's rules: lowercase letters, digits, `-` and `_`, at most 80 characters, not only punctuation."""
    if not name:
        raise ApiError(Err.INVALID_NAME_REQUIRED)
    if len(name) > CHANNEL_NAME_MAX:
        raise ApiError(Err.INVALID_NAME_MAXLENGTH)
    if not _CHANNEL_NAME.fullmatch(name):
        raise ApiError(Err.INVALID_NAME_SPECIALS)
    if _PUNCTUATION_ONLY.fullmatch(name):
        raise ApiError(Err.INVALID_NAME_PUNCTUATION)
    return name


class Workspace:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        team_id: str = TEAM_ID,
        team_name: str = "Sandbox",
        domain: str = "sandbox",
        app_id: str = APP_ID,
        bot_name: str = "incident-bot",
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.ids = IdFactory(wall_clock)
        self.faults = Faults()
        self.team_id, self.team_name, self.domain, self.app_id = team_id, team_name, domain, app_id
        self.server_url = "http://localhost/"  # where the Web API double is served; serve_in_thread sets it
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.usergroups: dict[str, UserGroup] = {}
        self.ephemerals: list[Ephemeral] = []
        self.response_urls: dict[str, ResponseUrl] = {}
        self.response_posts: list[ResponsePost] = []
        self.calls: list[Call] = []
        self.modals = Modals(self.lock, self.ids, clock)
        self.files = Uploads(self.lock, self.ids)
        self._messages: dict[str, list[Message]] = {}
        self.bot = self.add_user(bot_name, "Incident Bot", user_id=BOT_USER_ID, is_bot=True, bot_id=BOT_ID)

    @property
    def url(self) -> str:
        return f"https://{self.domain}.slack.local/"

    @property
    def latency(self) -> float:
        return self.faults.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self.faults.latency = seconds

    def seed_default(self) -> Workspace:
        """Alice, Bob, Carol and Dan, the bot, #incidents (Alice, Bob and the bot in it) and @oncall."""
        with self.lock:
            for name, real_name in DEFAULT_PEOPLE:
                self.add_user(name, real_name, email=f"{name}@example.com")
            self.create_channel(
                "incidents", creator="U01ALICE", channel_id=INCIDENTS_CHANNEL_ID, members=["U01BOB", BOT_USER_ID]
            )
            self.add_usergroup("oncall", "On-call", ["U01ALICE", "U01BOB"], group_id="S0ONCALL")
        return self

    # people

    def add_user(
        self,
        name: str,
        real_name: str,
        email: str | None = None,
        *,
        user_id: str | None = None,
        is_bot: bool = False,
        bot_id: str | None = None,
    ) -> User:
        with self.lock:
            user = User(user_id or f"U01{name.upper()}", name, real_name, email, is_bot=is_bot, bot_id=bot_id)
            self.users[user.id] = user
            return user

    def find_user(self, user_id: str) -> User | None:
        with self.lock:
            return self.users.get(user_id)

    def user(self, user_id: str) -> User:
        if (user := self.find_user(user_id)) is None or user.deleted:
            raise ApiError(Err.USER_NOT_FOUND)
        return user

    def user_by_email(self, email: str) -> User | None:
        with self.lock:
            return next((u for u in self.users.values() if u.email and u.email.lower() == email.lower()), None)

    def user_by_name(self, name: str) -> User | None:
        with self.lock:
            return next((u for u in self.users.values() if u.name == name.lstrip("@")), None)

    def add_usergroup(self, handle: str, name: str, users: list[str], *, group_id: str | None = None) -> UserGroup:
        with self.lock:
            group = UserGroup(group_id or self.ids.new("S"), handle, name, list(users), created=self.ids.now())
            self.usergroups[group.id] = group
            return group

    # channels

    def create_channel(
        self,
        name: str,
        *,
        creator: str,
        is_private: bool = False,
        channel_id: str | None = None,
        members: list[str] | None = None,
    ) -> Channel:
        with self.lock:
            check_channel_name(name)
            if self.channel_by_name(name) is not None:
                raise ApiError(Err.NAME_TAKEN)
            channel = Channel(channel_id or self.ids.new("C"), name, is_private, creator, self.ids.now())
            channel.members = [creator, *(m for m in members or [] if m != creator)]
            self.channels[channel.id] = channel
            self._messages[channel.id] = []
            return channel

    def direct_channel(self, user_id: str) -> Channel:
        """The bot's direct-message channel with a person (created on first use, as Slack does when the bot
        posts to a user id); found by id or by the person's user id."""
        with self.lock:
            existing = self.channel_by_name(user_id)
            if existing is not None and existing.is_im:
                return existing
            self.user(user_id)
            channel = Channel(
                self.ids.new("D"),
                user_id,
                True,
                self.bot.id,
                self.ids.now(),
                members=[self.bot.id, user_id],
                is_im=True,
            )
            self.channels[channel.id] = channel
            self._messages[channel.id] = []
            return channel

    def channel_by_name(self, name: str) -> Channel | None:
        with self.lock:
            return next((c for c in self.channels.values() if c.name == name.lstrip("#")), None)

    def find_channel(self, ref: str) -> Channel | None:
        """By id, or by name with or without `#`."""
        with self.lock:
            return self.channels.get(ref) or self.channel_by_name(ref)

    def channel(self, ref: str) -> Channel:
        if (channel := self.find_channel(ref)) is None:
            raise ApiError(Err.CHANNEL_NOT_FOUND)
        return channel

    def join(self, channel_ref: str, user_id: str) -> Channel:
        with self.lock:
            channel = self.channel(channel_ref)
            if user_id not in channel.members:
                channel.members.append(user_id)
            return channel

    def is_member(self, channel_ref: str, user_id: str) -> bool:
        with self.lock:
            return user_id in self.channel(channel_ref).members

    # messages

    def post_message(
        self,
        channel_ref: str,
        *,
        user: str,
        text: str = "",
        blocks: list[JSON] | None = None,
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
        files: list[str] | None = None,
    ) -> Message:
        with self.lock:
            channel = self.channel(channel_ref)
            if thread_ts is not None:
                parent = self.find_message(channel.id, thread_ts)
                if parent is None:
                    raise ApiError(Err.INVALID_THREAD_TS)
                thread_ts = parent.thread_ts or parent.ts
            author = self.find_user(user)
            message = Message(
                channel=channel.id,
                ts=self.ids.ts(),
                text=text,
                user=user,
                bot_id=author.bot_id if author else None,
                blocks=with_generated_ids(blocks or [], self.ids.short),
                thread_ts=thread_ts,
                reply_broadcast=bool(thread_ts and reply_broadcast),
                files=list(files or []),
            )
            if message.reply_broadcast:
                message.subtype = "thread_broadcast"
            self._messages[channel.id].append(message)
            return message

    def post_user_message(self, user: str, channel: str, text: str, thread_ts: str | None = None) -> Message:
        """A person writes in a channel (they join it if needed, as posting from the UI implies)."""
        with self.lock:
            if self.channel(channel).is_archived:
                raise ApiError(Err.IS_ARCHIVED)
            self.join(channel, self.user(user).id)
            return self.post_message(channel, user=user, text=text, thread_ts=thread_ts)

    def find_message(self, channel_ref: str, ts: str) -> Message | None:
        with self.lock:
            channel = self.find_channel(channel_ref)
            messages = self._messages.get(channel.id, []) if channel else []
            return next((m for m in messages if m.ts == ts), None)

    def message(self, channel_ref: str, ts: str) -> Message:
        with self.lock:
            self.channel(channel_ref)
            if (message := self.find_message(channel_ref, ts)) is None:
                raise ApiError(Err.MESSAGE_NOT_FOUND)
            return message

    def messages(self, channel_ref: str) -> list[Message]:
        """Every message of the channel, thread replies included, oldest first."""
        with self.lock:
            return list(self._messages[self.channel(channel_ref).id])

    def history(self, channel_ref: str) -> list[Message]:
        """What the channel shows: top-level messages and broadcast replies, oldest first."""
        return [m for m in self.messages(channel_ref) if not m.is_reply or m.reply_broadcast]

    def replies(self, channel_ref: str, thread_ts: str) -> list[Message]:
        """The thread's parent then its replies, oldest first."""
        return [m for m in self.messages(channel_ref) if thread_ts in (m.ts, m.thread_ts)]

    def update_message(
        self, channel_ref: str, ts: str, *, text: str | None, blocks: list[JSON] | None, editor: str | None = None
    ) -> Message:
        with self.lock:
            message = self.message(channel_ref, ts)
            if text is not None:
                message.text = text
            if blocks is not None:
                message.blocks = with_generated_ids(blocks, self.ids.short)
            if editor is not None:
                message.edited = {"user": editor, "ts": self.ids.ts()}
            return message

    def delete_message(self, channel_ref: str, ts: str) -> None:
        with self.lock:
            message = self.message(channel_ref, ts)
            self._messages[message.channel].remove(message)

    def post_ephemeral(
        self,
        channel_ref: str,
        user: str,
        *,
        text: str = "",
        blocks: list[JSON] | None = None,
        thread_ts: str | None = None,
    ) -> Ephemeral:
        with self.lock:
            ephemeral = Ephemeral(
                self.channel(channel_ref).id,
                user,
                self.ids.ts(),
                text,
                with_generated_ids(blocks or [], self.ids.short),
                thread_ts,
            )
            self.ephemerals.append(ephemeral)
            return ephemeral

    def ephemerals_for(self, user: str, channel_ref: str | None = None) -> list[Ephemeral]:
        with self.lock:
            channel_id = self.channel(channel_ref).id if channel_ref else None
            return [e for e in self.ephemerals if e.user == user and not e.deleted and channel_id in (None, e.channel)]

    def find_ephemeral(self, channel_ref: str, user: str, ts: str) -> Ephemeral | None:
        return next((e for e in self.ephemerals_for(user, channel_ref) if e.ts == ts), None)

    # reactions, pins, bookmarks

    def add_reaction(self, channel_ref: str, ts: str, name: str, user: str) -> Message:
        with self.lock:
            message = self.message(channel_ref, ts)
            users = message.reactions.setdefault(name, [])
            if user in users:
                raise ApiError(Err.ALREADY_REACTED)
            users.append(user)
            return message

    def remove_reaction(self, channel_ref: str, ts: str, name: str, user: str) -> Message:
        with self.lock:
            message = self.message(channel_ref, ts)
            users = message.reactions.get(name, [])
            if user not in users:
                raise ApiError(Err.NO_REACTION)
            users.remove(user)
            if not users:
                del message.reactions[name]
            return message

    def pin(self, channel_ref: str, ts: str, user: str) -> Pin:
        with self.lock:
            channel, message = self.channel(channel_ref), self.message(channel_ref, ts)
            if any(p.ts == message.ts for p in channel.pins):
                raise ApiError(Err.ALREADY_PINNED)
            pin = Pin(message.ts, self.ids.now(), user)
            channel.pins.append(pin)
            return pin

    def unpin(self, channel_ref: str, ts: str) -> Pin:
        with self.lock:
            channel, message = self.channel(channel_ref), self.message(channel_ref, ts)
            pin = next((p for p in channel.pins if p.ts == message.ts), None)
            if pin is None:
                raise ApiError(Err.NO_PIN)
            channel.pins.remove(pin)
            return pin

    def add_bookmark(self, channel_ref: str, *, title: str, link: str, user: str, emoji: str | None = None) -> Bookmark:
        with self.lock:
            channel = self.channel(channel_ref)
            bookmark = Bookmark(self.ids.new("Bk"), channel.id, title, link, "link", self.ids.now(), user, emoji)
            channel.bookmarks.append(bookmark)
            return bookmark

    # permalinks, triggers, views

    def permalink(self, channel_ref: str, ts: str) -> str:
        message = self.message(channel_ref, ts)
        link = f"{self.url}archives/{message.channel}/p{ts.replace('.', '')}"
        if message.is_reply:
            link += f"?thread_ts={message.thread_ts}&cid={message.channel}"
        return link

    def issue_trigger_id(self, user_id: str) -> str:
        """A trigger id as an interaction carries one: single use, expires 3 seconds after issue."""
        return self.modals.issue_trigger_id(user_id)

    def open_views(self, user_id: str) -> list[View]:
        """The user's open modal stack, root first."""
        return self.modals.stack(user_id)

    # response_url

    def new_response_url(self, channel: str, user: str, *, message_ts: str | None = None) -> str:
        with self.lock:
            url = ResponseUrl(self.ids.token(32), self.channel(channel).id, user, self.clock(), message_ts)
            self.response_urls[url.id] = url
            return f"{self.server_url}{RESPONSE_PATH}{url.id}"

    def respond(self, response_url_id: str, payload: JSON) -> None:
        """A post to a response_url: up to 5 of them within 30 minutes."""
        with self.lock:
            url = self.response_urls.get(response_url_id)
            if url is None or self.clock() - url.issued_at > RESPONSE_URL_TTL_SECONDS:
                raise ApiError(Err.EXPIRED_URL)
            if url.uses >= RESPONSE_URL_MAX_USES:
                raise ApiError(Err.USED_URL)
            url.uses += 1
            self.response_posts.append(ResponsePost(url.id, url.channel, url.user, payload, self.clock()))
            self.apply_response(url.channel, url.user, payload, message_ts=url.message_ts)

    def apply_response(self, channel: str, user: str, payload: JSON, *, message_ts: str | None = None) -> None:
        """What Slack does with a response body (response_url post, or a slash command's synchronous answer)."""
        with self.lock:
            original: Message | Ephemeral | None = None
            if message_ts is not None:
                original = self.find_ephemeral(channel, user, message_ts) or self.find_message(channel, message_ts)
            text, blocks = payload.get("text", ""), payload.get("blocks")
            if payload.get("delete_original") and original is not None:
                self._delete(original)
            elif payload.get("replace_original") and original is not None:
                original.text = text
                original.blocks = with_generated_ids(blocks or [], self.ids.short)
            elif payload.get("response_type") == "in_channel":
                self.post_message(
                    channel, user=self.bot.id, text=text, blocks=blocks, thread_ts=payload.get("thread_ts")
                )
            else:
                self.post_ephemeral(channel, user, text=text, blocks=blocks, thread_ts=payload.get("thread_ts"))

    def _delete(self, original: Message | Ephemeral) -> None:
        if isinstance(original, Ephemeral):
            original.deleted = True
        else:
            self.delete_message(original.channel, original.ts)

    # Web API calls

    def record_call(
        self, method: str, args: dict[str, Any], *, ok: bool, error: str | None, http_status: int = 200
    ) -> Call:
        with self.lock:
            call = Call(method, args, ok, error, self.clock(), http_status)
            self.calls.append(call)
            return call

    def calls_to(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method]
