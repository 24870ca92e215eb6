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
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from incidents.owners import ResolvingDirectory
from incidents.owners.model import SLACK_USERGROUP_ID

logger = structlog.get_logger("app.slack.directory")


def error_code(exc: SlackApiError) -> str:
    data = exc.response.data if exc.response is not None else None
    return str(data.get("error", "")) if isinstance(data, dict) else ""


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
        self._ttl = ttl
        self._retry = retry
        self._clock = clock
        self._lock = threading.Lock()
        self._ids: dict[str, str] = {}
        self._fetched_at: float | None = None

    def id_for(self, reference: str) -> str | None:
        """The id of a group given by id or handle (with or without `@`); None when Slack has no such group."""
        reference = reference.strip()
        if SLACK_USERGROUP_ID.match(reference):
            return reference
        handle = reference.lstrip("@").casefold()
        with self._lock:
            ids, fetched_at = self._ids, self._fetched_at
        age = None if fetched_at is None else self._clock() - fetched_at
        if age is None or age >= self._ttl or (handle not in ids and age >= self._retry):
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
            self._ids, self._fetched_at = ids, self._clock()
        return ids


class SlackPeople:
    """What the owner features ask Slack, cached once per process (`Deps.people`)."""

    def __init__(self, client: WebClient, *, clock: Callable[[], float] = time.monotonic):
        self.users = ResolvingDirectory(SlackUserDirectory(client), clock=clock)
        self.usergroups = SlackUsergroups(client, clock=clock)
