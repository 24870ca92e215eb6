"""What changed in production: deploys, config changes, feature flags, migrations, infrastructure.

Change events come in from CI pipelines, PagerDuty change events and GitHub deployments (the adapters are in
`app.integrations.changes`); here they are validated, stored once per `external_id` (a redelivered webhook
stores nothing new), read back for a set of services newest first, and pruned after the retention.

Showing them in an incident is an effect (SHOW_CHANGES, asked for on declare or by `/incident changes`); what was
shown is put on the timeline (CHANGES_SHOWN) once per effect. No Slack here.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from incidents import outbox
from incidents.db import dialect_insert
from incidents.effects import Effect
from incidents.errors import InvalidInput
from incidents.models import ChangeEvent, ChangeKind, Incident
from incidents.owners import OwnershipMap
from incidents.queries import get_by_id
from incidents.timeline import EventKind, recorded
from incidents.timeline import record as record_event

# The columns' lengths (incidents.models.ChangeEvent).
LIMITS = {
    "service": 200,
    "summary": 1024,
    "who": 200,
    "version": 200,
    "link": 2000,
    "source": 60,
    "external_id": 255,
}
FUTURE_SLACK = timedelta(hours=1)  # a sender's clock may run a little ahead; more is a mistake
DECLARED = "declared"  # shown when the incident was declared
REQUESTED = "requested"  # someone asked (`/incident changes`)
SOURCE_KEY_MAX = 200  # timeline_events.source_key
MAX_SINCE = timedelta(days=3650)  # CHANGE_RETENTION_DAYS at most


@dataclass(frozen=True)
class NewChange:
    """A change event as a sender describes it; `record` checks it."""

    service: str
    kind: str
    summary: str
    who: str = ""
    version: str = ""
    link: str | None = None
    source: str = "api"
    external_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: datetime | None = None  # None: when it was received


@dataclass(frozen=True)
class Recorded:
    change: ChangeEvent
    created: bool  # False: an event with this external_id was stored already (nothing new was stored)


def kinds() -> list[str]:
    return [k.value for k in ChangeKind]


def parse_kind(value: str) -> ChangeKind:
    """`deploy`, `feature-flag`, `Feature Flag` ... -> ChangeKind; InvalidInput naming the kinds otherwise."""
    key = "_".join((value or "").strip().lower().replace("-", " ").split())
    try:
        return ChangeKind(key)
    except ValueError:
        raise InvalidInput(f"kind {value!r} is not one of {', '.join(kinds())}") from None


def check(change: NewChange, *, now: datetime) -> dict[str, Any]:
    """The row's values, or InvalidInput saying every problem (`summary: is empty; link: ...`)."""
    problems: list[str] = []

    def text(name: str, value: str | None, *, required: bool = False) -> str:
        value = " ".join((value or "").split()) if name != "summary" else (value or "").strip()
        if required and not value:
            problems.append(f"{name}: is empty")
        elif len(value) > LIMITS[name]:
            problems.append(f"{name}: is {len(value)} characters; at most {LIMITS[name]}")
        elif not storable(value):
            problems.append(f"{name}: has a NUL character or half of a UTF-16 surrogate pair; send plain text")
        return value

    values: dict[str, Any] = {
        "service": text("service", change.service, required=True),
        "summary": text("summary", change.summary, required=True),
        "who": text("who", change.who),
        "version": text("version", change.version),
        "source": text("source", change.source, required=True),
    }
    try:
        values["kind"] = parse_kind(change.kind).value
    except InvalidInput as exc:
        problems.append(str(exc))
    link = text("link", change.link) or None
    if link is not None and (not link.lower().startswith(("http://", "https://")) or " " in link):
        problems.append(f"link: {link[:80]!r} is not an http:// or https:// URL")
    values["link"] = link
    values["external_id"] = text("external_id", change.external_id) or None
    occurred = change.occurred_at or now
    if occurred.tzinfo is None:
        occurred = occurred.replace(tzinfo=UTC)
    try:
        occurred = occurred.astimezone(UTC)
    except OverflowError:
        problems.append(f"occurred_at: {occurred.isoformat()} is out of range")
        occurred = now
    if occurred > now + FUTURE_SLACK:
        problems.append(f"occurred_at: {occurred.isoformat()} is in the future")
    values["occurred_at"] = occurred
    values["details"] = dict(change.details or {})
    try:
        details = json.dumps(values["details"], allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        problems.append("details: must be a JSON object (no NaN or Infinity, not nested too deeply)")
    else:
        if not storable(details.replace("\\u0000", "\x00")):
            problems.append("details: has a NUL character or half of a UTF-16 surrogate pair; send plain text")
    if problems:
        raise InvalidInput("; ".join(problems))
    return values


def storable(text: str) -> bool:
    """Text every database takes: no NUL (PostgreSQL refuses it), no lone surrogate (not UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def record(session: Session, change: NewChange, *, now: datetime) -> Recorded:
    """Store one change event. The same `external_id` again stores nothing and returns the stored one (also
    when two deliveries race: the insert does nothing on the unique key)."""
    values = check(change, now=now)
    values["recorded_at"] = now
    external_id = values["external_id"]
    if external_id is None:
        event = ChangeEvent(**values)
        session.add(event)
        session.flush()
        return Recorded(event, created=True)
    inserted = session.execute(
        dialect_insert(session, ChangeEvent)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["external_id"])
        .returning(ChangeEvent.id)
    ).scalar()
    stored = session.scalar(select(ChangeEvent).where(ChangeEvent.external_id == external_id))
    assert stored is not None
    return Recorded(stored, created=inserted is not None)


def record_all(session: Session, changes: Sequence[NewChange], *, now: datetime) -> list[Recorded]:
    """Several at once, all or none: every problem of every item is reported (`[2] summary: is empty`)."""
    problems = []
    for index, change in enumerate(changes):
        try:
            check(change, now=now)
        except InvalidInput as exc:
            problems.append(f"[{index}] {exc}" if len(changes) > 1 else str(exc))
    if problems:
        raise InvalidInput("; ".join(problems))
    return [record(session, change, now=now) for change in changes]


@dataclass(frozen=True)
class Recent:
    changes: tuple[ChangeEvent, ...]  # newest first, at most the limit asked for
    total: int  # how many there are in the window


def recent(
    session: Session,
    services: Collection[str] | None,
    *,
    since: datetime,
    until: datetime | None = None,
    limit: int = 50,
) -> Recent:
    """The changes to `services` (case does not matter; None: every service) since `since`, newest first."""
    where = [ChangeEvent.occurred_at >= since]
    if until is not None:
        where.append(ChangeEvent.occurred_at <= until)
    if services is not None:
        names = sorted({s.strip().lower() for s in services if s.strip()})
        if not names:
            return Recent((), 0)
        where.append(func.lower(ChangeEvent.service).in_(names))
    rows = session.scalars(
        select(ChangeEvent).where(*where).order_by(ChangeEvent.occurred_at.desc(), ChangeEvent.id.desc()).limit(limit)
    ).all()
    total = session.scalar(select(func.count()).select_from(ChangeEvent).where(*where)) or 0
    return Recent(tuple(rows), int(total))


def prune(session: Session, *, now: datetime, retention: timedelta) -> int:
    """Delete the change events that happened more than `retention` ago; how many went."""
    result = session.execute(delete(ChangeEvent).where(ChangeEvent.occurred_at < now - retention))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def as_data(change: ChangeEvent) -> dict[str, Any]:
    """A change as the timeline's CHANGES_SHOWN and the post-mortem keep it."""
    return {
        "service": change.service,
        "kind": change.kind,
        "summary": change.summary,
        "who": change.who,
        "version": change.version,
        "link": change.link,
        "occurred_at": change.occurred_at.isoformat(),
    }


# --- showing them in an incident ---------------------------------------------------------------------------


def request_on_declare(session: Session, incident: Incident, *, now: datetime) -> None:
    """Ask to post "What changed recently" in the new incident's channel (its services and what they depend
    on; every service when none was named). Once per incident."""
    outbox.enqueue(
        session,
        kind=Effect.SHOW_CHANGES,
        key=f"show_changes:{incident.id}:{DECLARED}",
        now=now,
        incident_id=incident.id,
        payload={"services": list(incident.services), "expand": True, "trigger": DECLARED, "by": None},
    )


def request(
    session: Session,
    incident: Incident,
    *,
    by: str,
    now: datetime,
    services: Sequence[str] | None,
    since: datetime,
) -> None:
    """Ask to post the changes to `services` (None: the incident's own and their dependencies) since `since`."""
    outbox.enqueue(
        session,
        kind=Effect.SHOW_CHANGES,
        key=f"show_changes:{incident.id}:{uuid.uuid4().hex}",
        now=now,
        incident_id=incident.id,
        payload={
            "services": list(services) if services is not None else list(incident.services),
            "expand": services is None,
            "since": since.isoformat(),
            "trigger": REQUESTED,
            "by": by,
        },
    )


def record_shown(
    session: Session,
    incident_id: int,
    *,
    services: Sequence[str],
    since: datetime,
    changes: Sequence[Mapping[str, Any]],
    by: str | None,
    key: str,
    now: datetime,
) -> bool:
    """Put the changes shown on the timeline (CHANGES_SHOWN), once per `key`. False when it was there already."""
    incident = get_by_id(session, incident_id, for_update=True)
    key = key[:SOURCE_KEY_MAX]
    if recorded(session, incident, key):
        return False
    record_event(
        session,
        incident,
        EventKind.CHANGES_SHOWN,
        "",
        now=now,
        actor_id=by,
        source_key=key,
        data={"services": list(services), "since": since.isoformat(), "changes": [dict(c) for c in changes]},
    )
    return True


_SPAN = re.compile(r"(\d+)\s*([wdhm])")
_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}


def parse_since(text: str) -> timedelta:
    """`6h`, `30m`, `2d`, `1w`, `1h30m` -> a timedelta; InvalidInput saying how to write one otherwise."""
    value = (text or "").strip().lower().replace(" ", "")
    if not value or _SPAN.sub("", value) or not _SPAN.search(value):
        raise InvalidInput(f"{(text or '').strip()[:40]!r} is not a duration: write it like 30m, 6h, 2d or 1h30m")
    try:
        span = sum((int(n) * _UNITS[unit] for n, unit in _SPAN.findall(value)), timedelta())
    except OverflowError:
        span = MAX_SINCE + timedelta(days=1)
    if span <= timedelta(0):
        raise InvalidInput("the duration must be longer than zero, like 30m or 6h")
    if span > MAX_SINCE:
        raise InvalidInput(f"the duration is longer than {MAX_SINCE.days} days; nothing older is kept")
    return span


@dataclass(frozen=True)
class Scope:
    """Which services to show changes for: those named (as the map names them) and what they depend on."""

    services: tuple[str, ...]
    dependencies: tuple[str, ...] = ()

    @property
    def every_service(self) -> bool:
        return not self.services

    @property
    def names(self) -> tuple[str, ...] | None:
        """The services to read, or None for every service (nothing named)."""
        return None if self.every_service else (*self.services, *self.dependencies)


def scope(services: Sequence[str], ownership: OwnershipMap | None, *, expand: bool = True) -> Scope:
    """The services named, each under its name in the map (kept as written when the map does not know it), and,
    with `expand`, the services they depend on (`depends_on`, one level) that were not named themselves."""
    named: dict[str, None] = {}
    deps: dict[str, None] = {}
    for name in services:
        match = ownership.find_service(name) if ownership is not None else None
        named[match.service.name if match else name.strip()] = None
        if match is not None and expand:
            for dependency in match.service.depends_on:
                found = ownership.find_service(dependency) if ownership is not None else None
                deps[found.service.name if found else dependency] = None
    named.pop("", None)
    return Scope(tuple(named), tuple(d for d in deps if d not in named))


def snapshot(session: Session, where: Scope, *, since: datetime, now: datetime, limit: int) -> dict[str, Any]:
    """The changes to show, as read now: what is posted and what CHANGES_SHOWN records are both drawn from it."""
    found = recent(session, where.names, since=since, limit=limit)
    return {
        "services": list(where.services),
        "dependencies": list(where.dependencies),
        "since": since.isoformat(),
        "as_of": now.isoformat(),
        "changes": [as_data(c) for c in found.changes],
        "total": found.total,
    }
