"""What listeners and effect handlers are given: the runtime, the Slack client, a way to wake the outbox, and
slots that other features fill (the ownership map, ...). Built once per process by `app.http.server`, or by tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk import WebClient

from app.runtime import Runtime
from app.settings import Settings, SettingsError
from app.slack.directory import SlackPeople
from incidents.owners import OwnershipMapError, OwnershipStore


def _nothing() -> None:
    return None


@dataclass
class Deps:
    runtime: Runtime
    client: WebClient
    # Called after a listener's transaction commits: delivers its Slack effects now instead of at the next poll.
    wake_outbox: Callable[[], None] = _nothing
    # The service ownership map (`incidents.owners.store.OwnershipStore`); None when no map is configured.
    owners: Any = None
    # Prometheus metrics (`app.observability.metrics.Metrics`) when served; None in tests that do not look at them.
    metrics: Any = None
    # Slack facts learned once and kept: the bot's user id, channel ids by name.
    directory: SlackDirectory = field(init=False)
    # The ownership map's people and user groups as Slack knows them (emails -> user ids, handles -> ids), cached.
    people: SlackPeople = field(init=False)

    def __post_init__(self) -> None:
        self.directory = SlackDirectory(self.client)
        self.people = SlackPeople(self.client)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def now(self) -> datetime:
        return self.runtime.now()

    def service_names(self) -> list[str] | None:
        """The services of the ownership map, or None without a map (the declare modal then takes free text)."""
        if self.owners is None:
            return None
        try:
            return sorted(service.name for service in self.owners.current().services)
        except Exception:  # noqa: BLE001 - a broken map must not break declaring
            return None


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
        cursor = None
        while True:
            page = self._client.conversations_list(
                types="public_channel", exclude_archived=True, limit=1000, cursor=cursor
            )
            for channel in page.get("channels", []):
                if channel.get("name") == name:
                    with self._lock:
                        self._channel_ids[name] = channel["id"]
                    return channel["id"]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None

    def forget_channel(self, name_or_id: str) -> None:
        with self._lock:
            self._channel_ids.pop(name_or_id.strip().lstrip("#"), None)


def _looks_like_id(value: str) -> bool:
    return len(value) >= 9 and value[0] in "CG" and value.isalnum() and value.upper() == value


VARIABLE = "OWNERSHIP_MAP_PATH"


def load_ownership(settings: Settings) -> OwnershipStore | None:
    """The store, or None when no map is configured. An invalid map stops start-up: `SettingsError` lists every
    problem as `FILE:LINE: MESSAGE`, exactly as `incidents owners check` prints them."""
    if not settings.ownership_map_path:
        return None
    try:
        return OwnershipStore(settings.ownership_map_path)
    except OwnershipMapError as exc:
        count = len(exc.problems)
        raise SettingsError(
            [
                f"{VARIABLE}: the ownership map has {count} problem{'' if count == 1 else 's'}; fix them "
                f"(check with `incidents owners check`) or unset {VARIABLE}",
                *(str(problem) for problem in exc.problems),
            ]
        ) from None
