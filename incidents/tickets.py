"""Follow-ups become tickets: the issue-tracker port and the use cases around a follow-up's ticket.

A ticket is one follow-up's issue in a tracker (the `tickets` table, unique on the follow-up): Jira Cloud (a
project) or GitHub Issues (a repository). Where it goes (a `Destination`) is the app's business: the team owning
the incident's services names its tracker in the ownership map, else the TICKET_DEFAULT setting; the app works it
out and calls `request_ticket`, which stores the ticket, records TICKET_REQUESTED and enqueues TICKET_CREATE in
the caller's transaction. Resolving an incident with TICKETS_ON_RESOLVE asks for a ticket for every follow-up
without one (TICKET_FOLLOWUPS, whose handler routes each), unless the incident is private.

The ticket's status follows the tracker's: `claim_due` (the scheduler, exactly once across replicas: the rows
are claimed with FOR UPDATE SKIP LOCKED and moved on in the same transaction) enqueues a TICKET_SYNC per open
ticket due, whose handler makes a conditional request; the GitHub `issues` webhook tells it at once. Either way
`record_seen` applies it: a ticket done in its tracker (Jira's status category "done", a closed issue) marks the
follow-up done; reopened there, the follow-up is open again. Marking a follow-up done in Slack leaves the ticket
as it is (its tracker's workflow decides; the list says the ticket is still open there).

The adapters (app/integrations/tracker) implement `Tracker` and raise the errors below; the delivery handlers
record what came of each call (`record_*`). No I/O here, and no words: the ticket's body is written by the app
and rendered by each adapter in its tracker's format.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incidents import home, outbox
from incidents.db import dialect_insert
from incidents.effects import Effect
from incidents.errors import NotFound
from incidents.followups import get_followup
from incidents.models import FollowUp, Incident, Ticket, TicketStatus
from incidents.owners.lookup import OwnershipMap
from incidents.process import Process
from incidents.queries import get_by_id
from incidents.timeline import EventKind, record, recorded

TRACKERS = ("jira", "github")
ERROR_MAX = 2000
_JIRA_PROJECT = re.compile(r"^[A-Z][A-Z0-9_]{0,254}$")
_GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")


# --- the port -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A piece of a paragraph: plain text, or a link when `href` is set."""

    text: str
    href: str | None = None


Paragraph = tuple[Span, ...]


@dataclass(frozen=True)
class NewTicket:
    """What a tracker is asked to create. `project` is a Jira project key or a GitHub `owner/name`; `body` is
    paragraphs of spans, which each adapter renders in its own format (Atlassian Document Format, Markdown)."""

    project: str
    title: str
    body: tuple[Paragraph, ...]
    labels: tuple[str, ...] = ()
    issue_type: str | None = None  # Jira only
    assignee: str | None = None  # a GitHub login, a Jira Cloud account id, a Jira Data Center user name


@dataclass(frozen=True)
class TicketRef:
    """A ticket the tracker created: its key (OPS-12, acme/payments#12) and its id at the tracker (Jira's issue
    id, the GitHub issue number)."""

    project: str
    key: str
    external_id: str


@dataclass(frozen=True)
class Seen:
    """A ticket as its tracker shows it: its status in the tracker's words and whether that means done."""

    key: str
    external_id: str
    url: str
    status: str
    done: bool
    etag: str | None = None


class Tracker(Protocol):
    """An issue tracker. `create` returns the new ticket as seen; `read` returns it, or None when it did not
    change since `etag` (a 304). Both raise TrackerUnavailable / TrackerRefused."""

    def create(self, ticket: NewTicket) -> Seen: ...

    def read(self, ref: TicketRef, *, etag: str | None = None) -> Seen | None: ...


class TrackerError(Exception):
    """A tracker call failed; the message says why in plain words (never the token)."""


class TrackerUnavailable(TrackerError):
    """The tracker is down, slow or rate-limiting (429, 5xx, timeouts): try again after `after` seconds if set."""

    def __init__(self, message: str, *, after: float | None = None):
        super().__init__(message)
        self.after = after


class TrackerRefused(TrackerError):
    """The tracker refused this call for good (an unknown project, a missing field, no permission). `status` is
    the HTTP status it answered (None: an answer we could not use); `gone` (404, 410) says the ticket is not
    there any more, where a 401 or 403 may be credentials or permissions someone will fix."""

    def __init__(self, reason: str, *, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status

    @property
    def gone(self) -> bool:
        return self.status in (404, 410)


# --- where a ticket goes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Destination:
    tracker: str  # jira | github
    project: str  # a Jira project key, or a GitHub owner/name
    issue_type: str | None = None
    labels: tuple[str, ...] = ()
    assignee: str | None = None
    team: str | None = None  # the ownership map's team it came from; None: the default

    @classmethod
    def parse(cls, text: str) -> Destination:
        """`jira:OPS` or `github:acme/incidents` (the TICKET_DEFAULT setting); ValueError saying what is wrong."""
        tracker, sep, project = (text or "").strip().partition(":")
        tracker, project = tracker.strip().lower(), project.strip()
        if not sep or tracker not in TRACKERS:
            raise ValueError(f"{text!r} is not TRACKER:PROJECT; write jira:OPS or github:acme/incidents")
        check_project(tracker, project)
        return cls(tracker=tracker, project=project)


def check_project(tracker: str, project: str) -> None:
    if tracker == "jira" and not _JIRA_PROJECT.match(project):
        raise ValueError(f"{project!r} is not a Jira project key (capital letters and digits, like OPS)")
    if tracker == "github" and not _GITHUB_REPOSITORY.match(project):
        raise ValueError(f"{project!r} is not a GitHub repository; write owner/name, like acme/incidents")


def route(
    ownership: OwnershipMap | None,
    services: Sequence[str],
    *,
    default: Destination | None,
    labels: Sequence[str] = (),
    issue_type: str | None = None,
) -> Destination | None:
    """Where an incident's follow-up tickets go: the tracker of the first team owning one of its `services`
    (in the incident's order) that names one, else `default` (None: nowhere). `labels` (the settings') come
    first, then the team's; Jira's issue type is the team's, else `issue_type`."""
    team = None
    if ownership is not None:
        for name in services:
            match = ownership.find_service(name)
            if match is not None and ownership.team_of(match.service).tracker is not None:
                team = ownership.team_of(match.service)
                break
    if team is not None and team.tracker is not None:
        ref = team.tracker
        return Destination(
            tracker=ref.service,
            project=ref.destination,
            issue_type=(ref.issue_type or issue_type) if ref.service == "jira" else None,
            labels=tuple(dict.fromkeys([*labels, *ref.labels])),
            assignee=ref.assignee,
            team=team.name,
        )
    if default is None:
        return None
    return Destination(
        tracker=default.tracker,
        project=default.project,
        issue_type=issue_type if default.tracker == "jira" else None,
        labels=tuple(dict.fromkeys(labels)),
    )


# --- asking for tickets ---------------------------------------------------------------------------------------


def find(session: Session, followup_id: int) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.followup_id == followup_id))


def tickets_of(session: Session, incident_id: int) -> dict[int, Ticket]:
    """The incident's tickets by follow-up id."""
    rows = session.scalars(select(Ticket).where(Ticket.incident_id == incident_id))
    return {t.followup_id: t for t in rows}


@dataclass(frozen=True)
class Requested:
    ticket: Ticket
    created: bool  # False: the follow-up has a ticket already (or one on its way)
    resumed: bool = False  # its ticket had stopped being polled (gone from the tracker): it is read again now


def request_ticket(
    session: Session,
    incident: Incident,
    *,
    followup_id: int,
    destination: Destination,
    by: str | None,
    now: datetime,
) -> Requested:
    """A ticket for the follow-up, once: a second request (also one arriving at the same moment on another
    replica) returns the first. A ticket the tracker refused may be asked for again (the map or the setting may
    have been fixed meanwhile): it goes to `destination` this time. Asked for a ticket that stopped being polled
    (the tracker said it was gone), it is polled again from now (`resumed`): it may have been restored or moved
    back."""
    if destination.tracker not in TRACKERS:
        raise ValueError(f"unknown tracker {destination.tracker!r}")
    followup = get_followup(session, incident, followup_id)
    values = {
        "tracker": destination.tracker,
        "project": destination.project,
        "issue_type": destination.issue_type,
        "labels": list(destination.labels),
        "assignee": destination.assignee,
        "team": destination.team,
        "status": TicketStatus.REQUESTED.value,
        "requested_by": by,
        "requested_at": now,
        "updated_at": now,
    }
    inserted = session.execute(
        dialect_insert(session, Ticket)
        .values(followup_id=followup.id, incident_id=incident.id, **values)
        .on_conflict_do_nothing(index_elements=["followup_id"])
        .returning(Ticket.id)
    ).scalar()
    ticket = session.scalar(select(Ticket).where(Ticket.followup_id == followup.id).with_for_update())
    assert ticket is not None
    if inserted is None:
        if ticket.status == TicketStatus.OPEN.value and ticket.key and ticket.next_sync_at is None:
            ticket.next_sync_at, ticket.updated_at = now, now
            return Requested(ticket, created=False, resumed=True)
        if ticket.status != TicketStatus.FAILED.value:
            return Requested(ticket, created=False)
        for name, value in values.items():  # asked again after a refusal
            setattr(ticket, name, value)
        ticket.last_error = None
    stamp = "first" if inserted is not None else uuid.uuid4().hex  # asked again: a new effect
    record(
        session,
        incident,
        EventKind.TICKET_REQUESTED,
        followup.text,
        now=now,
        actor_id=by,
        source_key=f"ticket:{ticket.id}:{stamp}",
        data={"followup_id": followup.id, "tracker": destination.tracker, "project": destination.project},
    )
    outbox.enqueue(
        session,
        kind=Effect.TICKET_CREATE,
        key=f"ticket_create:{ticket.id}:{stamp}",
        now=now,
        incident_id=incident.id,
        payload={"ticket_id": ticket.id, "by": by},
    )
    return Requested(ticket, created=True)


def request_all(session: Session, incident: Incident, *, by: str | None, now: datetime) -> None:
    """Ask for a ticket for every follow-up of the incident without one (the TICKET_FOLLOWUPS handler routes
    each, since only the app holds the ownership map)."""
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    outbox.enqueue(
        session,
        kind=Effect.TICKET_FOLLOWUPS,
        key=f"ticket_followups:{incident.id}:{stamp}",
        now=now,
        incident_id=incident.id,
        payload={"by": by},
    )


def on_resolved(session: Session, incident: Incident, *, now: datetime, process: Process | None) -> None:
    """Resolving the incident makes tickets of its follow-ups when TICKETS_ON_RESOLVE says so, except a private
    incident's: a tracker is read by more people than its channel, so only someone in it files one (Create
    ticket, `--ticket`), knowing what the ticket will say."""
    if process is not None and process.tickets_on_resolve and incident.followups and not incident.private:
        request_all(session, incident, by=None, now=now)


def without_ticket(session: Session, incident: Incident) -> list[FollowUp]:
    """The follow-ups with no ticket, or only a failed one, oldest first."""
    tickets = tickets_of(session, incident.id)
    followups = session.scalars(select(FollowUp).where(FollowUp.incident_id == incident.id).order_by(FollowUp.id))
    return [f for f in followups if f.id not in tickets or tickets[f.id].status == TicketStatus.FAILED.value]


# --- what came of a call (the delivery handlers, one transaction each) ----------------------------------------


def _ticket(session: Session, ticket_id: int) -> tuple[Ticket, Incident]:
    ticket = session.get(Ticket, ticket_id, with_for_update=True)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} does not exist")
    return ticket, get_by_id(session, ticket.incident_id)


def record_created(
    session: Session, ticket_id: int, *, seen: Seen, key: str, now: datetime, sync_every: timedelta
) -> Ticket:
    """The tracker created it: its key and link, TICKET_CREATED on the timeline and in the channel, once."""
    ticket, incident = _ticket(session, ticket_id)
    ticket.key, ticket.external_id, ticket.url = seen.key[:255], seen.external_id[:100], seen.url[:2000]
    ticket.remote_status, ticket.etag = seen.status[:200] or None, seen.etag  # None: not known yet (Jira)
    ticket.status = (TicketStatus.DONE if seen.done else TicketStatus.OPEN).value
    ticket.last_error, ticket.updated_at, ticket.synced_at = None, now, now
    ticket.next_sync_at = now + sync_every
    if not recorded(session, incident, key):
        followup = session.get(FollowUp, ticket.followup_id)
        data = {
            "followup_id": ticket.followup_id,
            "tracker": ticket.tracker,
            "project": ticket.project,
            "key": ticket.key,
            "url": ticket.url,
        }
        record(
            session,
            incident,
            EventKind.TICKET_CREATED,
            followup.text if followup else "",
            now=now,
            source_key=key,
            data=data,
        )
        _tell_channel(session, incident, EventKind.TICKET_CREATED, key, now, by=ticket.requested_by, **data)
    return ticket


def record_error(session: Session, ticket_id: int, *, error: str, now: datetime) -> Ticket:
    """A failed attempt that will be retried: the ticket keeps its status, the error is kept for people to see."""
    ticket, _ = _ticket(session, ticket_id)
    ticket.last_error, ticket.updated_at = error[:ERROR_MAX], now
    return ticket


def record_failed(session: Session, ticket_id: int, *, error: str, key: str, now: datetime) -> bool:
    """Refused, or delivery given up: the ticket failed, TICKET_FAILED on the timeline, once per `key`. Returns
    False when it was recorded already (the caller tells the person who asked only once)."""
    ticket, incident = _ticket(session, ticket_id)
    if ticket.status == TicketStatus.REQUESTED.value:
        ticket.status = TicketStatus.FAILED.value
    ticket.last_error, ticket.updated_at = error[:ERROR_MAX], now
    if recorded(session, incident, key):
        return False
    followup = session.get(FollowUp, ticket.followup_id)
    data = {
        "followup_id": ticket.followup_id,
        "tracker": ticket.tracker,
        "project": ticket.project,
        "error": error[:ERROR_MAX],
    }
    record(
        session,
        incident,
        EventKind.TICKET_FAILED,
        followup.text if followup else "",
        now=now,
        source_key=key,
        data=data,
    )
    return True


def record_seen(
    session: Session, ticket_id: int, *, seen: Seen | None, now: datetime, sync_every: timedelta, by: str = "poll"
) -> Ticket:
    """What the tracker says now (None: unchanged since the last read). A status that changed is recorded
    (TICKET_STATUS); done there, the follow-up is done (FOLLOWUP_DONE naming the ticket); reopened there, the
    follow-up is open again. `by`: poll or webhook (in the event's data). The first status learnt of a ticket
    created without one (Jira) is no change: TICKET_STATUS only if it is done already."""
    ticket, incident = _ticket(session, ticket_id)
    ticket.synced_at, ticket.last_error = now, None
    if ticket.status in (TicketStatus.OPEN.value, TicketStatus.DONE.value):
        ticket.next_sync_at = now + sync_every
    if seen is None:
        return ticket
    if seen.etag:
        ticket.etag = seen.etag[:255]
    if seen.url:
        ticket.url = seen.url[:2000]
    was_done = ticket.status == TicketStatus.DONE.value
    before = ticket.remote_status
    ticket.remote_status = seen.status[:200]
    ticket.status = (TicketStatus.DONE if seen.done else TicketStatus.OPEN).value
    ticket.updated_at = now
    if before == ticket.remote_status and was_done == seen.done:
        return ticket
    followup = session.get(FollowUp, ticket.followup_id, with_for_update=True)
    text = followup.text if followup else ""
    reopened = was_done and not seen.done
    if before or was_done != seen.done:
        record(
            session,
            incident,
            EventKind.TICKET_STATUS,
            text,
            now=now,
            data={
                "followup_id": ticket.followup_id,
                "tracker": ticket.tracker,
                "key": ticket.key,
                "from": before,
                "to": ticket.remote_status,
                "done": seen.done,
                "reopened": reopened,
                "via": by,
            },
        )
    if followup is None:
        return ticket
    if seen.done and not followup.done:
        followup.done, followup.done_at = True, now
        record(
            session,
            incident,
            EventKind.FOLLOWUP_DONE,
            text,
            now=now,
            data={"followup_id": followup.id, "ticket": ticket.key},
        )
    elif reopened and followup.done:
        followup.done, followup.done_at = False, None
    else:
        return ticket
    home.request_refresh(session, [followup.owner_id] if followup.owner_id else [], now=now)  # their Home lists it
    return ticket


def record_unreadable(session: Session, ticket_id: int, *, error: str, now: datetime) -> Ticket:
    """The tracker says the ticket is gone (404, 410: deleted, or hidden from the bot): it is not polled again
    until a Create ticket on its follow-up (`request_ticket`) or the webhook brings it back; the error stays for
    people to see."""
    ticket, _ = _ticket(session, ticket_id)
    ticket.last_error, ticket.updated_at, ticket.next_sync_at = error[:ERROR_MAX], now, None
    return ticket


def find_by_key(session: Session, tracker: str, key: str) -> Ticket | None:
    """GitHub's owner and repository names are case-insensitive (`Acme/Search#1` is `acme/search#1`)."""
    same = func.lower(Ticket.key) == key.lower() if tracker == "github" else Ticket.key == key
    return session.scalar(select(Ticket).where(Ticket.tracker == tracker, same).order_by(Ticket.id).limit(1))


def claim_due(session: Session, *, now: datetime, sync_every: timedelta, limit: int = 100) -> int:
    """Enqueue a TICKET_SYNC for each open ticket due (`next_sync_at` passed), claimed with FOR UPDATE SKIP
    LOCKED and moved on to its next sync in this transaction: across replicas each is synced once per period
    (the outbox key, made from the sync time, stores a repeat once too)."""
    due = session.scalars(
        select(Ticket)
        .where(Ticket.next_sync_at <= now, Ticket.status == TicketStatus.OPEN.value)
        .order_by(Ticket.next_sync_at, Ticket.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for ticket in due:
        stamp = ticket.next_sync_at.strftime("%Y%m%dT%H%M%S%f")  # type: ignore[union-attr]
        outbox.enqueue(
            session,
            kind=Effect.TICKET_SYNC,
            key=f"ticket_sync:{ticket.id}:{stamp}",
            now=now,
            incident_id=ticket.incident_id,
            payload={"ticket_id": ticket.id},
        )
        ticket.next_sync_at = now + sync_every
    return len(due)


def _tell_channel(
    session: Session, incident: Incident, fact: EventKind, once: str, now: datetime, *, by: str | None, **fields: object
) -> None:
    """A CHANNEL_MESSAGE with the fact (worded by the Slack layer), once per `key`."""
    outbox.enqueue(
        session,
        kind=Effect.CHANNEL_MESSAGE,
        key=f"say:{once}",
        now=now,
        incident_id=incident.id,
        payload={"fact": fact.value, "ref": incident.ref, "by": by} | fields,
    )
