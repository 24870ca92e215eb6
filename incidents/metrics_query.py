"""The rows behind the metrics (`incidents.metrics`), read with six bulk selects whatever the number of incidents:
the incidents declared in the period; the facts with fields (milestones skipped, update windows missed); how many
times each was reopened; and, only for the incidents with a missed window, the instants that bound their gaps
(updates, reopenings, resolutions); the follow-ups. Each filters on the same incidents through a subquery (no
list of ids is sent). A seventh reads the follow-ups still open past the overdue cutoff, whenever their incident
was declared."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from incidents.metrics import FollowUpRow, IncidentRow, Report, Rows, TeamOf, report
from incidents.models import FollowUp, Incident, StatusUpdate, TimelineEvent
from incidents.timeline import EventKind


def _moment(value: object) -> datetime | None:
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def fetch(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    service: str | None = None,
    severity: str | None = None,
    overdue_before: datetime | None = None,
) -> Rows:
    """The incidents declared in [since, until), of `severity` and naming `service` (case-insensitive) if given;
    with `overdue_before`, also the follow-ups not done opened before it, of any incident of that severity and
    service."""
    wanted = service.strip().lower() if service else None

    def names_service(services: list[str] | None) -> bool:
        return wanted is None or any(s.lower() == wanted for s in (services or []))

    of_severity: list[Any] = [Incident.severity == severity] if severity else []
    where: list[Any] = [Incident.declared_at >= since, Incident.declared_at < until, *of_severity]
    ids: Select[Any] = select(Incident.id).where(*where)
    conn = session.connection()  # Core rows: no ORM loading for tens of thousands of plain tuples
    incident_rows = conn.execute(
        select(
            Incident.id,
            Incident.number,
            Incident.title,
            Incident.severity,
            Incident.services,
            Incident.status,
            Incident.declared_at,
            Incident.acknowledged_at,
            Incident.mitigated_at,
            Incident.resolved_at,
            Incident.private,
        )
        .where(*where)
        .order_by(Incident.number)
    ).all()
    if wanted:
        incident_rows = [r for r in incident_rows if names_service(r.services)]
    live = (TimelineEvent.incident_id.in_(ids), TimelineEvent.removed_at.is_(None))
    facts: dict[int, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    # The two kinds whose fields count: the milestones skipped, the update windows missed.
    for incident_id, kind, occurred_at, data in conn.execute(
        select(TimelineEvent.incident_id, TimelineEvent.kind, TimelineEvent.occurred_at, TimelineEvent.data).where(
            *live, TimelineEvent.kind.in_([EventKind.MILESTONES_FILLED.value, EventKind.UPDATE_MISSED.value])
        )
    ):
        facts[incident_id][kind].append((occurred_at, data or {}))
    reopened: dict[int, int] = dict(
        conn.execute(  # type: ignore[arg-type]
            select(TimelineEvent.incident_id, func.count())
            .where(*live, TimelineEvent.kind == EventKind.REOPENED.value)
            .group_by(TimelineEvent.incident_id)
        ).all()
    )
    # Where a gap ends (the next update, a resolution) and begins (a reopening) matters only to the incidents
    # with a missed window: only theirs are read.
    missed = select(TimelineEvent.incident_id).where(*live, TimelineEvent.kind == EventKind.UPDATE_MISSED.value)
    cycles: dict[int, dict[str, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    for incident_id, kind, occurred_at in conn.execute(
        select(TimelineEvent.incident_id, TimelineEvent.kind, TimelineEvent.occurred_at).where(
            TimelineEvent.incident_id.in_(missed),
            TimelineEvent.removed_at.is_(None),
            TimelineEvent.kind.in_([EventKind.REOPENED.value, EventKind.RESOLVED.value]),
        )
    ):
        cycles[incident_id][kind].append(occurred_at)
    updates: dict[int, list[datetime]] = defaultdict(list)
    for incident_id, posted_at in conn.execute(
        select(StatusUpdate.incident_id, StatusUpdate.posted_at).where(StatusUpdate.incident_id.in_(missed))
    ):
        updates[incident_id].append(posted_at)
    followups = tuple(
        FollowUpRow(f.id, f.incident_id, f.text, f.owner_id, f.created_at, bool(f.done))
        for f in conn.execute(
            select(
                FollowUp.id, FollowUp.incident_id, FollowUp.text, FollowUp.owner_id, FollowUp.created_at, FollowUp.done
            ).where(FollowUp.incident_id.in_(ids))
        )
    )
    overdue = None
    if overdue_before is not None:
        overdue = tuple(
            FollowUpRow(f.id, f.incident_id, f.text, f.owner_id, f.created_at, False, f.number, bool(f.private))
            for f in conn.execute(
                select(
                    FollowUp.id,
                    FollowUp.incident_id,
                    FollowUp.text,
                    FollowUp.owner_id,
                    FollowUp.created_at,
                    Incident.number,
                    Incident.private,
                    Incident.services,
                )
                .join(Incident, Incident.id == FollowUp.incident_id)
                .where(FollowUp.done.is_(False), FollowUp.created_at < overdue_before, *of_severity)
            )
            if names_service(f.services)
        )
    rows = []
    nothing: dict[str, list[Any]] = {}
    for r in incident_rows:
        fact = facts.get(r.id, nothing)
        cycle = cycles.get(r.id, nothing)
        filled = frozenset(
            name for _, data in fact.get(EventKind.MILESTONES_FILLED.value, ()) for name in data.get("filled", ())
        )
        rows.append(
            IncidentRow(
                id=r.id,
                number=r.number,
                title=r.title,
                severity=r.severity,
                services=tuple(r.services or ()),
                status=r.status,
                declared_at=r.declared_at,
                acknowledged_at=r.acknowledged_at,
                mitigated_at=r.mitigated_at,
                resolved_at=r.resolved_at,
                filled=filled,
                reopened=reopened.get(r.id, 0),
                updates=tuple(sorted(updates.get(r.id, ()))),
                reopens=tuple(sorted(cycle.get(EventKind.REOPENED.value, ()))),
                resolutions=tuple(sorted(cycle.get(EventKind.RESOLVED.value, ()))),
                misses=tuple(
                    (at, _moment(data.get("since"))) for at, data in fact.get(EventKind.UPDATE_MISSED.value, ())
                ),
                private=bool(r.private),
            )
        )
    return Rows(since, until, tuple(rows), followups, service=service, severity=severity, overdue=overdue)


def build_report(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    timezone: str = "UTC",
    team_of: TeamOf | None = None,
    followup_due: timedelta = timedelta(days=30),
    service: str | None = None,
    severity: str | None = None,
    private_details: bool = False,
) -> Report:
    """The report; a private incident is blanked (`incidents.metrics.report`) unless `private_details` (the CLI)."""
    rows = fetch(
        session, since=since, until=until, service=service, severity=severity, overdue_before=now - followup_due
    )
    return report(
        rows,
        now=now,
        timezone=timezone,
        followup_due=followup_due,
        private_details=private_details,
        **({"team_of": team_of} if team_of else {}),
    )


def teams_from_map(ownership: Any) -> TeamOf:
    """A service's team as the ownership map (`incidents.owners.OwnershipMap`, or None) names it."""
    cache: dict[str, str | None] = {}

    def team_of(name: str) -> str | None:
        if ownership is None:
            return None
        if name not in cache:
            match = ownership.find_service(name)
            cache[name] = None if match is None else ownership.team_of(match.service).name
        return cache[name]

    return team_of
