"""What listeners and effect handlers are given, built once and completely by `app.bootstrap` (or by a test) and
never changed after: the runtime, the Slack client, the cached Slack look-ups, the ownership map, the outbox's
bell, the metrics, the pagers and the alert routing rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk import WebClient

from app.observability.metrics import Metrics
from app.runtime import Runtime
from app.settings import Settings
from app.slack.directory import SlackDirectory, SlackPeople
from incidents.owners import OwnershipStore

if TYPE_CHECKING:
    from incidents.alert_rules import AlertRules
    from incidents.paging import Pager
    from incidents.tickets import Tracker


@dataclass(frozen=True, kw_only=True)
class Deps:
    runtime: Runtime
    client: WebClient
    # The service ownership map; None when no map is configured.
    owners: OwnershipStore | None
    # Slack facts learned once and kept: the bot's user id, channel ids by name.
    directory: SlackDirectory
    # The ownership map's people and user groups as Slack knows them (emails -> user ids, handles -> ids), cached.
    people: SlackPeople
    # Called after a listener's transaction commits: the outbox delivers its Slack effects now, not at the next
    # poll (the outbox worker's bell, `app.delivery.bell.Bell.ring`).
    wake_outbox: Callable[[], None]
    # Prometheus metrics when served; None where nothing reads them.
    metrics: Metrics | None = None
    # The pagers by vendor name (the port is `incidents.paging.Pager`, the adapters are in
    # `app.integrations.pager`); a team names its pager in the ownership map.
    pagers: Mapping[str, Pager] = field(default_factory=dict)
    # The alert routing rules (`incidents.alert_rules`); None when ALERT_RULES_PATH is unset.
    alert_rules: AlertRules | None = None
    # The issue trackers by name (jira, github) that are configured (the port is `incidents.tickets.Tracker`,
    # the adapters are in `app.integrations.tracker`); a team names its tracker in the ownership map.
    trackers: Mapping[str, Tracker] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        runtime: Runtime,
        client: WebClient,
        *,
        owners: OwnershipStore | None = None,
        metrics: Metrics | None = None,
        wake_outbox: Callable[[], None] = lambda: None,
        pagers: Mapping[str, Pager] | None = None,
        alert_rules: AlertRules | None = None,
        trackers: Mapping[str, Tracker] | None = None,
    ) -> Deps:
        return cls(
            runtime=runtime,
            client=client,
            owners=owners,
            directory=SlackDirectory(client),
            people=SlackPeople(client),
            wake_outbox=wake_outbox,
            metrics=metrics,
            pagers=dict(pagers or {}),
            alert_rules=alert_rules,
            trackers=dict(trackers or {}),
        )

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
