"""The incident process as configured: severities, the stakeholder-update cadence, the four duties."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from incidents.errors import InvalidInput
from incidents.models import Role
from incidents.severity import DEFAULT_SEVERITIES, Severity

DUTIES: Mapping[Role, tuple[str, str]] = {
    Role.ACKNOWLEDGE: (
        "Incident lead",
        'You said "I am looking into it". Coordinate the response: make sure someone holds each role, '
        "keep the channel focused, and decide when the incident is mitigated and resolved.",
    ),
    Role.MITIGATE: (
        "Mitigation",
        "Restore service first, root cause later: roll back, fail over, scale up or switch the feature off. "
        "Say in the channel what you try and what happened.",
    ),
    Role.INVESTIGATE: (
        "Investigation",
        "Find the root cause once service is back: collect evidence (graphs, logs, deploys), pin what matters "
        "so it lands on the timeline, and note the follow-up actions.",
    ),
    Role.COMMUNICATE: (
        "Communication",
        "Keep stakeholders informed: post a stakeholder update now and at every reminder, with what is "
        "happening, the impact, the next steps and an ETA if you have one.",
    ),
}


@dataclass(frozen=True)
class Process:
    severities: tuple[Severity, ...] = DEFAULT_SEVERITIES
    update_interval: timedelta = timedelta(minutes=30)
    interval_by_severity: Mapping[str, timedelta] = field(default_factory=dict)
    # Who may change severity or resolve: "anyone" or "role_holders".
    restrict_changes_to_role_holders: bool = False
    # Paging (incidents.paging): the severities that page the owners on declare, and whether acknowledging in
    # Slack acknowledges the pages too.
    page_on_declare_severities: frozenset[str] = frozenset()
    pager_acknowledge_from_slack: bool = False
    # "What changed recently" on declare (incidents.changes): only on a bot that takes change events.
    show_changes_on_declare: bool = False
    # Tickets (incidents.tickets): resolving an incident makes a ticket of each follow-up without one.
    tickets_on_resolve: bool = False
    # The post-mortem review (incidents.review): asked for on resolve, to be scheduled within this many working
    # days (Mon-Fri in `timezone`; 0: never asked), lasting `review_minutes`.
    review_within_working_days: int = 5
    review_minutes: int = 60
    timezone: str = "UTC"

    def severity(self, name: str) -> Severity:
        wanted = name.strip().upper()
        for severity in self.severities:
            if severity.name == wanted:
                return severity
        names = ", ".join(s.name for s in self.severities)
        raise InvalidInput(f"Unknown severity {name!r}. Use one of: {names}.")

    def interval_for(self, severity: str) -> timedelta:
        return self.interval_by_severity.get(severity, self.update_interval)

    @property
    def severity_names(self) -> list[str]:
        return [s.name for s in self.severities]
