"""Paging the owning teams out of Slack: the pager port and the use cases that ask for pages.

A page is one team paged for one incident (the `pages` table, unique on (incident_id, team)); its dedup key is
made from both (`incident-<id>-<team>`), so the vendor folds a repeated trigger into the same alert too.
Use cases store the page, record PAGE_REQUESTED and enqueue PAGE_TRIGGER in the caller's transaction; resolving
the incident enqueues PAGE_RESOLVE for its pages, acknowledging it PAGE_ACKNOWLEDGE only when the process says
so (PAGER_ACKNOWLEDGE_FROM_SLACK). Which teams own the incident's services is the ownership map's business,
which only the app holds: `request_owners` asks for it with a PAGE_OWNERS effect, whose handler resolves the
teams and calls `request_page` for each. The adapters (app/integrations/pager) implement `Pager` and raise the
errors below; the delivery handlers record what came of each call (`record_*`). No I/O here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents import outbox
from incidents.db import dialect_insert
from incidents.effects import Effect
from incidents.errors import InvalidTransition
from incidents.models import Incident, Page, PageStatus, Status
from incidents.owners.lookup import OwnershipMap
from incidents.owners.model import Team
from incidents.process import Process
from incidents.queries import get_by_id
from incidents.timeline import EventKind, record, recorded

PAGERS = ("pagerduty", "opsgenie")
DECLARED = "declared"  # paged automatically on declare (or when the severity was raised into a paging one)
REQUESTED = "requested"  # someone asked (`/incident page`, the Page owners button)
OPEN = (PageStatus.REQUESTED.value, PageStatus.TRIGGERED.value, PageStatus.ACKNOWLEDGED.value)
ERROR_MAX = 2000


@dataclass(frozen=True)
class PageCall:
    """What a pager is asked to do for one page. `secret` is the team's routing key (PagerDuty) or API key
    (Opsgenie), read by the app from the environment variable the ownership map names; never stored or logged."""

    dedup_key: str
    secret: str = field(repr=False)
    summary: str
    severity: str  # ours: SEV1, SEV2, ... (each adapter maps it to its vendor's severity or priority)
    source: str
    details: Mapping[str, Any] = field(default_factory=dict)
    links: Sequence[tuple[str, str]] = ()  # (text, url)


class Pager(Protocol):
    """A paging vendor. Each call returns the vendor's answer (its JSON body) or raises PagerUnavailable /
    PagerRefused."""

    def trigger(self, call: PageCall) -> dict[str, Any]: ...

    def acknowledge(self, call: PageCall) -> dict[str, Any]: ...

    def resolve(self, call: PageCall) -> dict[str, Any]: ...


class PagerError(Exception):
    """A pager call failed; the message says why in plain words (never the secret)."""


class PagerUnavailable(PagerError):
    """The vendor is down, slow or rate-limiting (429, 5xx, timeouts): try again after `after` seconds if set."""

    def __init__(self, message: str, *, after: float | None = None):
        super().__init__(message)
        self.after = after


class PagerRefused(PagerError):
    """The vendor refused this call for good (a bad routing key, an invalid event): retrying cannot help."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def owning_teams(ownership: OwnershipMap, services: Sequence[str]) -> tuple[list[Team], list[str]]:
    """The distinct teams owning `services` (in order) and the service names the map does not know."""
    teams: dict[str, Team] = {}
    unknown: list[str] = []
    for name in services:
        match = ownership.find_service(name)
        if match is None:
            unknown.append(name)
        else:
            team = ownership.team_of(match.service)
            teams.setdefault(team.name, team)
    return list(teams.values()), unknown


def dedup_key(incident_id: int, team: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", team.casefold()).strip("-") or "team"
    return f"incident-{incident_id}-{slug}"[:255]


def find(session: Session, incident_id: int, team: str) -> Page | None:
    return session.scalar(select(Page).where(Page.incident_id == incident_id, Page.team == team))


def pages_of(session: Session, incident_id: int) -> list[Page]:
    return list(session.scalars(select(Page).where(Page.incident_id == incident_id).order_by(Page.id)))


@dataclass(frozen=True)
class Requested:
    page: Page
    created: bool  # False: the team had been paged for this incident already (the existing page)


def request_page(
    session: Session,
    incident: Incident,
    *,
    team: str,
    pager: str,
    by: str | None,
    now: datetime,
    message: str = "",
) -> Requested:
    """Page `team` (named as the ownership map spells it) through `pager`, once per incident while its page is
    open: a second request, also one arriving at the same moment on another replica, returns the first page."""
    if incident.status == Status.RESOLVED:
        raise InvalidTransition(f"{incident.ref} is resolved; reopen it before paging anyone.")
    if pager not in PAGERS:
        raise ValueError(f"unknown pager {pager!r}")
    inserted = session.execute(
        dialect_insert(session, Page)
        .values(
            incident_id=incident.id,
            team=team,
            pager=pager,
            dedup_key=dedup_key(incident.id, team),
            status=PageStatus.REQUESTED.value,
            requested_by=by,
            message=message.strip()[:1000],
            requested_at=now,
            updated_at=now,
            answer={},
        )
        .on_conflict_do_nothing(index_elements=["incident_id", "team"])
        .returning(Page.id)
    ).scalar()
    if inserted is not None:
        page = find(session, incident.id, team)
        assert page is not None
        _trigger(session, incident, page, by=by, now=now, round_key=str(page.id))
        return Requested(page, created=True)
    # The team was paged already (by this request's rival too: the row it committed). A page that is over
    # (resolved with an earlier resolution, or failed) pages again: the incident was reopened, or the first
    # trigger never got through. The row is locked, so two such requests at once page once.
    page = session.scalar(select(Page).where(Page.incident_id == incident.id, Page.team == team).with_for_update())
    assert page is not None
    if page.status not in (PageStatus.RESOLVED.value, PageStatus.FAILED.value):
        return Requested(page, created=False)
    page.status, page.pager, page.requested_by = PageStatus.REQUESTED.value, pager, by
    page.message, page.requested_at, page.updated_at, page.last_error = message.strip()[:1000], now, now, None
    _trigger(session, incident, page, by=by, now=now, round_key=f"{page.id}:{now.strftime('%Y%m%dT%H%M%S%f')}")
    return Requested(page, created=True)


def _trigger(
    session: Session, incident: Incident, page: Page, *, by: str | None, now: datetime, round_key: str
) -> None:
    """PAGE_REQUESTED on the timeline and the PAGE_TRIGGER effect, once per round of paging (`round_key`)."""
    record(
        session,
        incident,
        EventKind.PAGE_REQUESTED,
        "",
        now=now,
        actor_id=by,
        source_key=f"page:{round_key}",
        data={"team": page.team, "pager": page.pager, "message": page.message},
    )
    outbox.enqueue(
        session,
        kind=Effect.PAGE_TRIGGER,
        key=f"page_trigger:{round_key}",
        now=now,
        incident_id=incident.id,
        payload={"page_id": page.id, "by": by},
    )


def request_owners(
    session: Session,
    incident: Incident,
    *,
    by: str | None,
    now: datetime,
    trigger: str = REQUESTED,
    services: Sequence[str] | None = None,
    message: str = "",
) -> None:
    """Ask to page the teams owning the incident's services (or `services`); the PAGE_OWNERS handler looks
    them up in the ownership map. Automatic (declare) requests count once per incident."""
    if incident.status == Status.RESOLVED:
        raise InvalidTransition(f"{incident.ref} is resolved; reopen it before paging anyone.")
    key = f"page_owners:{incident.id}:{DECLARED}" if trigger == DECLARED else f"page_owners:{uuid.uuid4().hex}"
    outbox.enqueue(
        session,
        kind=Effect.PAGE_OWNERS,
        key=key,
        now=now,
        incident_id=incident.id,
        payload={
            "services": list(incident.services if services is None else services),
            "by": by,
            "trigger": trigger,
            "message": message,
        },
    )


def request_on_declare(session: Session, incident: Incident, *, now: datetime, process: Process) -> None:
    """Page the owners when the severity is one that pages on declare (PAGE_ON_DECLARE_SEVERITIES)."""
    if incident.severity in process.page_on_declare_severities and incident.services:
        request_owners(session, incident, by=None, now=now, trigger=DECLARED)


def on_severity_changed(session: Session, incident: Incident, *, old: str, now: datetime, process: Process) -> None:
    """Raised into a paging severity: page the owners as on declare (once per incident)."""
    paging = process.page_on_declare_severities
    if incident.severity in paging and old not in paging and incident.services:
        request_owners(session, incident, by=None, now=now, trigger=DECLARED)


def on_acknowledged(session: Session, incident: Incident, *, now: datetime, process: Process | None) -> None:
    """Acknowledging in Slack acknowledges the pages only when PAGER_ACKNOWLEDGE_FROM_SLACK says so."""
    if process is None or not process.pager_acknowledge_from_slack:
        return
    for page in pages_of(session, incident.id):
        if page.status in (PageStatus.REQUESTED.value, PageStatus.TRIGGERED.value):
            outbox.enqueue(
                session,
                kind=Effect.PAGE_ACKNOWLEDGE,
                key=f"page_acknowledge:{page.id}",
                now=now,
                incident_id=incident.id,
                payload={"page_id": page.id},
            )


def on_resolved(session: Session, incident: Incident, *, now: datetime) -> None:
    """Resolving the incident resolves its open pages (one PAGE_RESOLVE per page and resolution)."""
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    for page in pages_of(session, incident.id):
        if page.status in OPEN:
            outbox.enqueue(
                session,
                kind=Effect.PAGE_RESOLVE,
                key=f"page_resolve:{page.id}:{stamp}",
                now=now,
                incident_id=incident.id,
                payload={"page_id": page.id},
            )


# --- what came of a call (the delivery handlers, one transaction each) ----------------------------------------


def _page(session: Session, page_id: int) -> tuple[Page, Incident]:
    page = session.get(Page, page_id, with_for_update=True)
    if page is None:
        raise LookupError(f"page {page_id} does not exist")
    return page, get_by_id(session, page.incident_id)


def _once(session: Session, incident: Incident, key: str) -> bool:
    return not recorded(session, incident, key)


def record_sent(
    session: Session,
    page_id: int,
    *,
    answer: Mapping[str, Any],
    key: str,
    now: datetime,
    process: Process | None = None,
) -> Page:
    page, incident = _page(session, page_id)
    if page.status in (PageStatus.REQUESTED.value, PageStatus.FAILED.value):
        page.status = PageStatus.TRIGGERED.value
    page.answer, page.last_error, page.updated_at = dict(answer), None, now
    if _once(session, incident, key):
        data = {"team": page.team, "pager": page.pager, "answer": summarize(answer)}
        record(session, incident, EventKind.PAGE_SENT, "", now=now, source_key=key, data=data)
        _tell_channel(session, incident, EventKind.PAGE_SENT, key, now, by=page.requested_by, **data)
    _catch_up(session, page, incident, now=now, process=process)
    return page


def _catch_up(session: Session, page: Page, incident: Incident, *, now: datetime, process: Process | None) -> None:
    """What happened to the incident while the trigger was on its way (its PAGE_RESOLVE or PAGE_ACKNOWLEDGE found
    the page not triggered yet and did nothing): resolved, the page is resolved too; acknowledged, it is
    acknowledged when PAGER_ACKNOWLEDGE_FROM_SLACK says so."""
    if incident.status == Status.RESOLVED.value:
        kind, key = Effect.PAGE_RESOLVE, f"page_resolve:{page.id}:after_sent"
    elif incident.acknowledged_at is not None and process is not None and process.pager_acknowledge_from_slack:
        kind, key = Effect.PAGE_ACKNOWLEDGE, f"page_acknowledge:{page.id}:after_sent"
    else:
        return
    outbox.enqueue(session, kind=kind, key=key, now=now, incident_id=incident.id, payload={"page_id": page.id})


def record_acknowledged(session: Session, page_id: int, *, answer: Mapping[str, Any], key: str, now: datetime) -> Page:
    page, incident = _page(session, page_id)
    if page.status != PageStatus.RESOLVED.value:
        page.status = PageStatus.ACKNOWLEDGED.value
    page.answer, page.last_error, page.updated_at = dict(answer), None, now
    if _once(session, incident, key):
        data = {"team": page.team, "pager": page.pager}
        record(session, incident, EventKind.PAGE_ACKNOWLEDGED, "", now=now, source_key=key, data=data)
    return page


def record_resolved(session: Session, page_id: int, *, answer: Mapping[str, Any], key: str, now: datetime) -> Page:
    page, incident = _page(session, page_id)
    page.status = PageStatus.RESOLVED.value
    page.answer, page.last_error, page.updated_at = dict(answer), None, now
    if _once(session, incident, key):
        data = {"team": page.team, "pager": page.pager}
        record(session, incident, EventKind.PAGE_RESOLVED, "", now=now, source_key=key, data=data)
    return page


def record_error(session: Session, page_id: int, *, error: str, now: datetime) -> Page:
    """A failed attempt that will be retried: the page keeps its status, the error is kept for people to see."""
    page, _ = _page(session, page_id)
    page.last_error, page.updated_at = error[:ERROR_MAX], now
    return page


def record_failed(
    session: Session,
    page_id: int,
    *,
    error: str,
    key: str,
    now: datetime,
    action: str = "trigger",
    outbox_id: int | None = None,
) -> bool:
    """The page (its trigger, acknowledge or resolve: `action`) was refused or its delivery given up: a trigger's
    page is failed; PAGE_FAILED on the timeline and a channel message naming the outbox row to retry
    (`outbox_id`), once per `key`. Returns False when it was recorded already."""
    page, incident = _page(session, page_id)
    if action == "trigger" and page.status == PageStatus.REQUESTED.value:
        page.status = PageStatus.FAILED.value
    page.last_error, page.updated_at = error[:ERROR_MAX], now
    if not _once(session, incident, key):
        return False
    data = {"team": page.team, "pager": page.pager, "error": error[:ERROR_MAX]}
    if action != "trigger":
        data["action"] = action
    record(session, incident, EventKind.PAGE_FAILED, "", now=now, source_key=key, data=data)
    _tell_channel(session, incident, EventKind.PAGE_FAILED, key, now, by=page.requested_by, outbox_id=outbox_id, **data)
    return True


def _tell_channel(
    session: Session, incident: Incident, fact: EventKind, key: str, now: datetime, *, by: str | None, **fields: Any
) -> None:
    """A CHANNEL_MESSAGE with the fact (worded by the Slack layer), once per `key`."""
    outbox.enqueue(
        session,
        kind=Effect.CHANNEL_MESSAGE,
        key=f"say:{key}",
        now=now,
        incident_id=incident.id,
        payload={"fact": fact.value, "ref": incident.ref, "by": by} | fields,
    )


def summarize(answer: Mapping[str, Any]) -> str:
    """The vendor's answer in one short string for the timeline: its id or message."""
    for name in ("dedup_key", "requestId", "message", "result", "status"):
        value = answer.get(name)
        if isinstance(value, str) and value:
            return value[:200]
    return ""
