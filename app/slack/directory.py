"""People and user groups as Slack knows them, for the ownership map: emails to user ids (users.lookupByEmail)
and user group handles to ids (usergroups.list), both cached for the process.

Only "nobody has it" is an answer; any other Slack failure is raised (and never cached), so that the outbox
retries the effect rather than reporting a person as unknown because Slack was briefly unavailable.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog
from cachetools import TTLCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.slack.errors import error_code
from incidents.owners import ResolvingDirectory
from incidents.owners.model import SLACK_USERGROUP_ID

logger = structlog.get_logger("app.slack.directory")
LIST = "usergroups.list"  # the one key of the user-group caches


class SlackUserDirectory:
    """`incidents.owners.UserDirectory` on Slack: users.lookupByEmail (scope `users:read.email`)."""

    def __init__(self, client: WebClient):
        self._client = client

    def lookup_by_email(self, email: str) -> str | None:
        try:
            user = self._client.users_lookupByEmail(email=email)["user"]
        except SlackApiError as exc:
            if error_code(exc) == "users_not_found":
                return None
            raise
        return None if user.get("deleted") else user["id"]


class SlackUsergroups:
    """User group handles (`@payments-oncall`) to ids (`S0123ABCD`) for mentions, from usergroups.list (scope
    `usergroups:read`). The list is kept `ttl` seconds; an unknown handle refetches it at most every `retry`
    seconds. Without the scope, every handle is unknown (the caller mentions the people instead)."""

    def __init__(
        self,
        client: WebClient,
        *,
        ttl: float = 3600.0,
        retry: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._client = client
        self._lock = threading.Lock()
        self._ids: TTLCache[str, dict[str, str]] = TTLCache(maxsize=1, ttl=ttl, timer=clock)  # handle -> id
        self._recent: TTLCache[str, bool] = TTLCache(maxsize=1, ttl=retry, timer=clock)  # fetched under `retry` ago

    def id_for(self, reference: str) -> str | None:
        """The id of a group given by id or handle (with or without `@`); None when Slack has no such group."""
        reference = reference.strip()
        if SLACK_USERGROUP_ID.match(reference):
            return reference
        handle = reference.lstrip("@").casefold()
        with self._lock:
            ids, recent = self._ids.get(LIST), LIST in self._recent
        if ids is None or (handle not in ids and not recent):
            ids = self._fetch()
        return ids.get(handle)

    def _fetch(self) -> dict[str, str]:
        try:
            groups = self._client.usergroups_list()["usergroups"]
        except SlackApiError as exc:
            if error_code(exc) != "missing_scope":
                raise
            logger.warning("usergroups_unavailable", error="missing_scope", needed="usergroups:read")
            groups = []
        ids = {str(group["handle"]).casefold(): group["id"] for group in groups if group.get("handle")}
        with self._lock:
            self._ids[LIST], self._recent[LIST] = ids, True
        return ids


class SlackPeople:
    """What the owner features ask Slack, cached once per process (`Deps.people`)."""

    def __init__(self, client: WebClient, *, clock: Callable[[], float] = time.monotonic):
        self.users = ResolvingDirectory(SlackUserDirectory(client), clock=clock)
        self.usergroups = SlackUsergroups(client, clock=clock)


class SlackDirectory:
    """Lazily fetched, cached Slack facts. Safe to share between threads."""

    def __init__(self, client: WebClient):
        self._client = client
        self._lock = threading.Lock()
        self._bot_user_id: str | None = None
        self._channel_ids: dict[str, str] = {}

    def bot_user_id(self) -> str:
        if self._bot_user_id is None:
            user_id = self._client.auth_test()["user_id"]
            with self._lock:
                self._bot_user_id = user_id
        return self._bot_user_id  # type: ignore[return-value]

    def channel_id(self, name_or_id: str) -> str | None:
        """A public channel's id from its name (`incidents` or `#incidents`); an id is returned as it is."""
        name = name_or_id.strip().lstrip("#")
        if _looks_like_id(name):
            return name
        with self._lock:
            if name in self._channel_ids:
                return self._channel_ids[name]
        # Iterating a SlackResponse follows `response_metadata.next_cursor` page by page.
        for page in self._client.conversations_list(types="public_channel", exclude_archived=True, limit=1000):
            for channel in page.get("channels", []):
                if channel.get("name") == name:
                    with self._lock:
                        self._channel_ids[name] = channel["id"]
                    return channel["id"]
        return None

    def forget_channel(self, name_or_id: str) -> None:
        with self._lock:
            self._channel_ids.pop(name_or_id.strip().lstrip("#"), None)


def _looks_like_id(value: str) -> bool:
    return len(value) >= 9 and value[0] in "CG" and value.isalnum() and value.upper() == value
