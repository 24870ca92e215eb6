"""Alerts in: the use case behind `POST /alerts/<source>`. One call per request, in the request's transaction.

Each normalized alert (`IncomingAlert`) is, in order:
- deduplicated: the same source and dedup key while it fires is one `alerts` row; the same payload again
  changes nothing (no row, no timeline fact, no effect);
- grouped: an alert for a service whose open incident was declared, or got an alert, within the grouping window
  joins that incident (ALERT_ATTACHED on its timeline) instead of declaring another;
- routed by the rules (`incidents.alert_rules`): declare an incident (no person declared it: its reporter is
  empty, nobody is invited for it, the owners of its service are), post it to the triage channel
  (TRIAGE_ALERT), or store it as ignored (so a redelivery is still a no-op).
A resolved alert marks its row resolved and, when it is attached, says so on the timeline and in the incident
channel; a triaged one has its triage message redrawn to say it stopped firing. The incident itself is never
resolved here: that stays a person's decision.

Storms: requests for one service are serialized inside their transactions: on PostgreSQL by a transaction-scoped
advisory lock named after the service (`pg_advisory_xact_lock`, held until commit; taken in a fixed order, so
two requests never wait for each other crosswise); SQLite has one writer at a time already. A thousand
concurrent alerts for one service make one incident. (An advisory lock rather than an upsert on a `counters`
row: that row would get a new version per alert, and a storm would leave a chain of dead versions to walk.)"""

from __future__ import annotations

import hashlib
from collections import Counter as Tally
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incidents import outbox, service
from incidents.alert_rules import AlertRules
from incidents.db import dialect_insert
from incidents.effects import Effect
from incidents.errors import InvalidTransition
from incidents.models import Alert, AlertAction, AlertStatus, Incident, Status
from incidents.process import Process
from incidents.timeline import EventKind, record

# An incident declared from an alert has no person as its reporter: nobody is invited for it, and the card says
# it was declared from an alert.
NO_REPORTER = ""
TITLE_MAX = service.TITLE_MAX
COUNTS = ("received", "declared", "attached", "triaged", "ignored", "duplicates", "resolved")

ServiceFinder = Callable[[str], str | None]  # a label value -> the ownership map's service name


@dataclass(frozen=True)
class IncomingAlert:
    """One alert as a source sent it, in our terms (the adapters in app/integrations/alerts build these)."""

    source: str
    dedup_key: str
    status: str  # firing | resolved
    title: str
    severity: str | None  # the label's value as sent (critical), mapped by the rules
    labels: Mapping[str, str] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)  # annotations, or the generic format's details
    link: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None


def receive(
    session: Session,
    alerts: Sequence[IncomingAlert],
    *,
    rules: AlertRules,
    find_service: ServiceFinder | None,
    now: datetime,
    process: Process,
) -> dict[str, int]:
    """Take a request's alerts; returns how many were received, declared, attached, triaged, ignored,
    duplicates and resolved."""
    counts = Tally({name: 0 for name in COUNTS})
    counts["received"] = len(alerts)
    services = {id(alert): _service_of(alert, rules, find_service) for alert in alerts}
    for key in sorted({_group_key(alert, services[id(alert)]) for alert in alerts if alert.status == "firing"}):
        _lock_group(session, key)
    for alert in alerts:
        if alert.status == AlertStatus.RESOLVED:
            counts[_resolve(session, alert, now=now)] += 1
        else:
            counts[_fire(session, alert, services[id(alert)], rules=rules, now=now, process=process)] += 1
    return dict(counts)


def _service_of(alert: IncomingAlert, rules: AlertRules, find_service: ServiceFinder | None) -> str | None:
    value = (alert.labels.get(rules.service_label) or "").strip()
    if not value or find_service is None:
        return None
    return find_service(value)


def _group_key(alert: IncomingAlert, service_name: str | None) -> int:
    """Alerts of one group are serialized: one service, or (no service known) one source and title. The key is a
    64-bit number (what PostgreSQL's advisory locks take) from the group's name."""
    name = f"alert_group:{service_name}" if service_name else f"alert_group:?{alert.source}:{_title(alert)}"
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _lock_group(session: Session, key: int) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(key)))
    # SQLite: the transaction began with BEGIN IMMEDIATE, so it is the only writer already.


def _fire(
    session: Session,
    alert: IncomingAlert,
    service_name: str | None,
    *,
    rules: AlertRules,
    now: datetime,
    process: Process,
) -> str:
    action = rules.action_for(alert.labels)
    values = {
        "source": alert.source,
        "dedup_key": alert.dedup_key,
        "status": AlertStatus.FIRING.value,
        "action": AlertAction.IGNORED.value if action == "ignore" else AlertAction.TRIAGE.value,
        "title": _title(alert),
        "severity": rules.severity_for(alert.severity),
        "service": service_name,
        "link": alert.link,
        "labels": dict(alert.labels),
        "details": dict(alert.details),
        "starts_at": alert.starts_at or now,
        "received_at": now,
        "last_received_at": now,
    }
    incident = None if action == "ignore" else _open_incident_for(session, values, rules=rules, now=now)
    if incident is not None:
        values |= {"incident_id": incident.id, "action": AlertAction.ATTACHED.value}
    # One statement: stored, or (the same alert firing already, however concurrently) nothing at all.
    table = Alert.__table__
    insert = dialect_insert(session, table).values(**values)  # a Core insert: no ORM bookkeeping per row
    insert = insert.on_conflict_do_nothing(
        index_elements=[table.c.source, table.c.dedup_key], index_where=table.c.resolved_at.is_(None)
    )
    alert_id = session.scalar(insert.returning(table.c.id))
    if alert_id is None:
        return "duplicates"
    if action == "ignore":
        return "ignored"
    if incident is not None:
        _record_attached(session, incident, alert_id, values, now=now, declared=False)
        return "attached"
    if action == "declare":
        row = session.get(Alert, alert_id)
        assert row is not None
        declare_for(session, row, now=now, process=process, summary=_summary(alert))
        return "declared"
    outbox.enqueue(
        session, kind=Effect.TRIAGE_ALERT, key=f"triage_alert:{alert_id}", now=now, payload={"alert_id": alert_id}
    )
    return "triaged"


def _title(alert: IncomingAlert) -> str:
    title = " ".join((alert.title or "").split()) or alert.labels.get("alertname") or f"Alert {alert.dedup_key}"
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…"


def _summary(alert: IncomingAlert) -> str:
    text = str(alert.details.get("description") or "")
    return text[: service.TEXT_MAX]


def _open_incident_for(
    session: Session, alert: Mapping[str, Any], *, rules: AlertRules, now: datetime
) -> Incident | None:
    """The open incident of the alert's group that was declared, or got an alert, within the grouping window."""
    since = now - rules.group_window
    recent = (
        select(Incident)
        .join(Alert, Alert.incident_id == Incident.id)
        .where(Alert.received_at >= since, Incident.status != Status.RESOLVED.value)
        .order_by(Alert.received_at.desc())  # ix_alerts_service_received read backwards: one row, however many
        .limit(1)
    )
    if alert["service"]:
        recent = recent.where(Alert.service == alert["service"])
    else:
        recent = recent.where(Alert.service.is_(None), Alert.source == alert["source"], Alert.title == alert["title"])
    incident = session.scalar(recent)
    if incident is None and alert["service"]:
        declared = session.scalars(
            select(Incident)
            .where(Incident.status != Status.RESOLVED.value, Incident.declared_at >= since)
            .order_by(Incident.declared_at.desc())
        )
        incident = next((i for i in declared if alert["service"] in (i.services or [])), None)
    return incident


def declare_key(row: Alert) -> str:
    """One incident per alert row: a retried request is already one row (the insert does nothing on the firing
    key), and the same alert firing again after it resolved is a new row, so a new incident, even with the same
    startsAt (Prometheus restores its alerts' start times after a restart)."""
    return f"alert:{row.id}"


def declare_for(session: Session, row: Alert, *, now: datetime, process: Process, summary: str = "") -> Incident:
    """Declare the incident this alert asks for (severity, service and title from the alert) and attach it."""
    incident = service.declare(
        session,
        title=row.title,
        severity=row.severity or process.severities[-1].name,
        reporter_id=NO_REPORTER,
        now=now,
        process=process,
        summary=summary,
        services=[row.service] if row.service else [],
        declare_key=declare_key(row),
    )
    attach(session, row, incident, now=now, declared=True)
    return incident


def attach(session: Session, row: Alert, incident: Incident, *, now: datetime, declared: bool = False) -> None:
    """The alert joins the incident; on its timeline with its link."""
    row.incident_id = incident.id
    row.action = AlertAction.DECLARED.value if declared else AlertAction.ATTACHED.value
    fields = {c: getattr(row, c) for c in ("source", "service", "severity", "link", "title", "starts_at")}
    _record_attached(session, incident, row.id, fields, now=now, declared=declared)


def _record_attached(
    session: Session, incident: Incident, alert_id: int, alert: Mapping[str, Any], *, now: datetime, declared: bool
) -> None:
    starts_at = alert["starts_at"]
    record(
        session,
        incident,
        EventKind.ALERT_ATTACHED,
        alert["title"],
        now=now,
        occurred_at=starts_at if starts_at <= now else now,
        source="alert",
        source_key=f"alert:{alert_id}",
        data={
            "source": alert["source"],
            "alert_id": alert_id,
            "service": alert["service"],
            "severity": alert["severity"],
            "link": alert["link"],
            "declared": declared,
        },
    )


def _resolve(session: Session, alert: IncomingAlert, *, now: datetime) -> str:
    # Locked: the same "resolved" delivered twice at once (a sender retrying while the first request runs) waits
    # here, then finds the row resolved (PostgreSQL checks the condition again) and changes nothing.
    row = session.scalar(
        select(Alert)
        .where(Alert.source == alert.source, Alert.dedup_key == alert.dedup_key, Alert.resolved_at.is_(None))
        .with_for_update()
    )
    if row is None:  # resolved already, or never seen firing: nothing to change
        return "duplicates"
    row.status = AlertStatus.RESOLVED.value
    row.resolved_at = now
    row.ends_at = alert.ends_at or now
    row.last_received_at = now
    if row.incident_id is None and row.action == AlertAction.TRIAGE.value:  # its triage message says so
        outbox.enqueue(
            session,
            kind=Effect.TRIAGE_ALERT,
            key=f"triage_alert:{row.id}:resolved",
            now=now,
            payload={"alert_id": row.id, "resolved": True},
        )
    if row.incident_id is not None:
        incident = session.get(Incident, row.incident_id)
        if incident is not None:
            fields = {"source": row.source, "alert_id": row.id, "link": row.link}
            record(session, incident, EventKind.ALERT_RESOLVED, row.title, now=now, data=fields)
            outbox.enqueue(
                session,
                kind=Effect.CHANNEL_MESSAGE,
                key=f"say:alert_resolved:{row.id}",
                now=now,
                incident_id=incident.id,
                payload={"fact": EventKind.ALERT_RESOLVED.value, "ref": incident.ref, "title": row.title} | fields,
            )
    return "resolved"


# --- the triage channel's Declare incident button ----------------------------------------------------------


def get_alert(session: Session, alert_id: int) -> Alert | None:
    return session.get(Alert, alert_id)


def refuse_if_declared(session: Session, alert_id: int, *, declare_key: str) -> None:
    """A second form opened from the same triage message: the alert is already another incident's."""
    row = session.get(Alert, alert_id, with_for_update=True)  # two forms at once: the second waits, then refuses
    if row is None or row.incident_id is None:
        return
    incident = session.get(Incident, row.incident_id)
    if incident is not None and incident.declare_key != declare_key:
        raise InvalidTransition(f"This alert is already {incident.ref}; join its channel instead.")


def attach_declared(session: Session, alert_id: int, incident: Incident, *, now: datetime) -> Alert | None:
    """A person declared `incident` from the triage message of this alert: the alert joins it (once)."""
    row = session.get(Alert, alert_id, with_for_update=True)
    if row is None or row.incident_id is not None:
        return row
    attach(session, row, incident, now=now, declared=True)
    if row.triage_ts or row.action == AlertAction.DECLARED:  # the triage message says which incident it became
        outbox.enqueue(
            session,
            kind=Effect.TRIAGE_ALERT,
            key=f"triage_alert:{row.id}:declared",
            now=now,
            incident_id=incident.id,
            payload={"alert_id": row.id, "declared": True},
        )
    return row
