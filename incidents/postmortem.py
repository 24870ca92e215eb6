"""The facts of a post-mortem, gathered once from an incident: `build()` returns a `PostmortemData` that the
Markdown template and the JSON export (app/postmortem/render.py) both draw from. Facts, not words: the
renderer writes the sentences.

Blameless by construction: people appear as holders of duties and authors of updates, never as causes; the
prompts in the template ask about systems and decisions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from incidents import changes as change_events
from incidents import paging
from incidents import review as review_meeting
from incidents.durations import Durations, durations
from incidents.followups import list_followups
from incidents.models import Incident, Ticket
from incidents.process import DUTIES, Process
from incidents.tickets import tickets_of
from incidents.timeline import EventKind
from incidents.timeline_view import Entry, visible_events


@dataclass(frozen=True)
class ServiceOwner:
    """What the ownership map says about a service: its team and whom to reach."""

    team: str
    contacts: tuple[str, ...] = ()  # Slack user ids or emails, first contact first
    channel: str | None = None
    runbook: str | None = None


OwnersOf = Callable[[str], ServiceOwner | None]
NameOf = Callable[[str], str | None]
Mentions = Callable[[str], Iterable[str]]  # the user ids a person's text mentions


@dataclass(frozen=True)
class AffectedService:
    name: str
    owner: ServiceOwner | None


@dataclass(frozen=True)
class Milestone:
    name: str  # declared, acknowledged, mitigated, resolved
    at: datetime | None
    since_declared: timedelta | None


@dataclass(frozen=True)
class RoleSpell:
    """One person holding one duty for a while; a handover ends one spell and starts the next."""

    role: str
    title: str
    user_id: str
    assigned_by: str
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class Update:
    posted_at: datetime
    author_id: str
    text: str
    impact: str
    next_steps: str
    eta: str


@dataclass(frozen=True)
class Gap:
    """A communication gap: from the start of an update window (the last stakeholder update, the declaration or
    the reopening) to the next update or the resolution, during which an update fell due and none was posted
    (the reminders record UPDATE_MISSED when a window closes)."""

    started_at: datetime  # the last update before the miss, the declaration or the reopening
    due_at: datetime  # when the update was due (the first miss of this window)
    ended_at: datetime | None  # the next update, or the resolution if it came first; None when neither followed
    missed: Entry  # the UPDATE_MISSED event recorded when the window closed

    @property
    def length(self) -> timedelta | None:
        return None if self.ended_at is None else self.ended_at - self.started_at


@dataclass(frozen=True)
class Action:
    id: int
    text: str
    owner_id: str | None
    created_by: str
    created_at: datetime
    done: bool
    done_at: datetime | None
    # Its ticket (incidents.tickets), when one was asked for: key (OPS-12), link, and status (the tracker's word;
    # `ticket_state`: requested, open, done or failed).
    ticket_key: str | None = None
    ticket_url: str | None = None
    ticket_status: str | None = None
    ticket_state: str | None = None


CHANGES_BEFORE = timedelta(hours=24)  # "Changes in the 24 hours before the incident"
CHANGES_MAX = 100


@dataclass(frozen=True)
class ChangeBefore:
    """A change event recorded for one of the incident's services (or what they depend on) in the 24 hours
    before it was declared."""

    service: str
    kind: str
    summary: str
    who: str
    version: str
    link: str | None
    occurred_at: datetime
    before_declared: timedelta


@dataclass(frozen=True)
class PageSpell:
    """One team paged for the incident (the `pages` row and its PAGE_* events): who asked, when it went out, was
    acknowledged, resolved, the pager's last answer and the last failure."""

    team: str
    pager: str  # pagerduty | opsgenie
    status: str  # requested | triggered | acknowledged | resolved | failed
    requested_by: str | None  # None: paged automatically (declare, severity raised)
    requested_at: datetime
    message: str
    sent_at: datetime | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    answer: str  # the vendor's id or message
    failures: tuple[str, ...]  # each PAGE_FAILED's error, oldest first
    last_error: str | None


@dataclass(frozen=True)
class PostmortemData:
    ref: str
    number: int
    title: str
    summary: str
    severity: str
    severity_meaning: str
    declared_severity: str  # differs from `severity` when it changed during the incident
    status: str
    private: bool
    reporter_id: str
    channel_id: str | None
    channel_name: str | None
    services: tuple[AffectedService, ...]
    milestones: tuple[Milestone, ...]
    durations: Durations
    roles: tuple[RoleSpell, ...]
    updates: tuple[Update, ...]
    gaps: tuple[Gap, ...]
    timeline: tuple[Entry, ...]
    followups: tuple[Action, ...]
    timezone: str
    generated_at: datetime
    owners_known: bool = False  # an ownership map was consulted (so "no owner" means the map has none)
    people: dict[str, str] = field(default_factory=dict)  # Slack user id -> display name, when known
    # Change events in the 24 hours before the declaration, newest first, for `changes_services` (the services
    # named and what "What changed recently" added from the ownership map; empty: every service).
    changes: tuple[ChangeBefore, ...] = ()
    changes_services: tuple[str, ...] = ()
    pages: tuple[PageSpell, ...] = ()  # the teams paged, in the order they were asked for
    review: review_meeting.ReviewSummary | None = None  # the post-mortem review meeting, once asked for

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def spans_days(self) -> bool:
        """True when the incident's moments fall on more than one local date: then every time shows its date."""
        tz = self.tz
        moments = [m.at for m in self.milestones if m.at] + [e.occurred_at for e in self.timeline]
        return len({m.astimezone(tz).date() for m in moments}) > 1


def build(
    session: Session,
    incident: Incident,
    *,
    now: datetime,
    timezone: str = "UTC",
    process: Process | None = None,
    owners_of: OwnersOf | None = None,
    name_of: NameOf | None = None,
    mentions: Mentions | None = None,
) -> PostmortemData:
    """Gather everything the draft needs. `owners_of(service)` looks a service up in the ownership map;
    `name_of(user_id)` gives a display name (the Slack layer resolves them; without it ids are shown) for
    everyone the facts name and, with `mentions(text)`, everyone people's texts mention."""
    ZoneInfo(timezone)  # fail early on a bad name
    timeline = visible_events(session, incident)
    d = durations(incident)
    milestones = (
        Milestone("declared", incident.declared_at, timedelta(0)),
        Milestone("acknowledged", incident.acknowledged_at, d.to_acknowledge),
        Milestone("mitigated", incident.mitigated_at, d.to_mitigate),
        Milestone("resolved", incident.resolved_at, d.to_resolve),
    )
    roles = tuple(
        RoleSpell(
            role=a.role,
            title=_duty_title(a.role),
            user_id=a.user_id,
            assigned_by=a.assigned_by,
            started_at=a.assigned_at,
            ended_at=a.ended_at,
        )
        for a in sorted(incident.roles, key=lambda a: (_role_order(a.role), a.assigned_at, a.id))
    )
    updates = tuple(Update(u.posted_at, u.author_id, u.text, u.impact, u.next_steps, u.eta) for u in incident.updates)
    gaps = communication_gaps(incident, timeline)
    ticket_of = tickets_of(session, incident.id)
    actions = tuple(
        Action(
            f.id,
            f.text,
            f.owner_id,
            f.created_by,
            f.created_at,
            f.done,
            f.done_at,
            *_ticket_fields(ticket_of.get(f.id)),
        )
        for f in list_followups(session, incident)
    )
    services = tuple(AffectedService(name, owners_of(name) if owners_of else None) for name in incident.services)
    changed_services = _changes_services(incident, timeline)
    severity_meaning = ""
    if process is not None:
        severity_meaning = next((s.meaning for s in process.severities if s.name == incident.severity), "")
    data = PostmortemData(
        ref=incident.ref,
        number=incident.number,
        title=incident.title,
        summary=incident.summary,
        severity=incident.severity,
        severity_meaning=severity_meaning,
        declared_severity=next(
            (e.data.get("severity") or incident.severity for e in timeline if e.kind == EventKind.DECLARED),
            incident.severity,
        ),
        status=incident.status,
        private=incident.private,
        reporter_id=incident.reporter_id,
        channel_id=incident.channel_id,
        channel_name=incident.channel_name,
        services=services,
        milestones=milestones,
        durations=d,
        roles=roles,
        updates=updates,
        gaps=gaps,
        timeline=tuple(timeline),
        followups=actions,
        timezone=timezone,
        generated_at=now,
        owners_known=owners_of is not None,
        changes_services=changed_services,
        changes=changes_before(session, incident, changed_services, timeline),
        pages=pages_of(session, incident, timeline),
        review=review_meeting.summary(session, incident),
    )
    if name_of is not None:
        data.people.update(_names(people_in(data, mentions), name_of))
    return data


def _ticket_fields(ticket: Ticket | None) -> tuple[str | None, str | None, str | None, str | None]:
    if ticket is None:
        return None, None, None, None
    return ticket.key, ticket.url, ticket.remote_status, ticket.status


def pages_of(session: Session, incident: Incident, timeline: Iterable[Entry]) -> tuple[PageSpell, ...]:
    """The incident's pages with the times their PAGE_* events say (the first of each)."""
    entries = list(timeline)

    def first(kind: EventKind, team: str) -> datetime | None:
        return next((e.occurred_at for e in entries if e.kind == kind and e.data.get("team") == team), None)

    spells = []
    for page in paging.pages_of(session, incident.id):
        failures = tuple(
            str(e.data.get("error") or "")
            for e in entries
            if e.kind == EventKind.PAGE_FAILED and e.data.get("team") == page.team
        )
        spells.append(
            PageSpell(
                team=page.team,
                pager=page.pager,
                status=page.status,
                requested_by=page.requested_by,
                requested_at=page.requested_at,
                message=page.message,
                sent_at=first(EventKind.PAGE_SENT, page.team),
                acknowledged_at=first(EventKind.PAGE_ACKNOWLEDGED, page.team),
                resolved_at=first(EventKind.PAGE_RESOLVED, page.team),
                answer=paging.summarize(page.answer or {}),
                failures=failures,
                last_error=page.last_error,
            )
        )
    return tuple(spells)


def _changes_services(incident: Incident, timeline: Iterable[Entry]) -> tuple[str, ...]:
    """The services named, and those "What changed recently" showed (their dependencies, from the map)."""
    names = dict.fromkeys(incident.services)
    for entry in timeline:
        if entry.kind == EventKind.CHANGES_SHOWN:
            names.update(dict.fromkeys(entry.data.get("services") or ()))
    return tuple(names)


def changes_before(
    session: Session, incident: Incident, services: tuple[str, ...], timeline: Iterable[Entry] = ()
) -> tuple[ChangeBefore, ...]:
    """The change events for `services` (every service when empty) in the 24 hours before the declaration,
    newest first (at most CHANGES_MAX): those still stored, and those the timeline kept when "What changed
    recently" showed them (so pruning after CHANGE_RETENTION_DAYS does not empty an old incident's section)."""
    declared = incident.declared_at
    since = declared - CHANGES_BEFORE
    found = change_events.recent(session, services or None, since=since, until=declared, limit=CHANGES_MAX)
    rows = {(c.service, c.kind, c.summary, c.version, c.occurred_at): (c.who, c.link) for c in found.changes}
    for entry in timeline:
        if entry.kind != EventKind.CHANGES_SHOWN:
            continue
        for kept in entry.data.get("changes") or ():
            occurred = _moment(kept.get("occurred_at")) if isinstance(kept, dict) else None
            if occurred is None or not since <= occurred <= declared:
                continue
            if services and kept.get("service") not in services:
                continue
            key = (
                str(kept.get("service") or ""),
                str(kept.get("kind") or ""),
                str(kept.get("summary") or ""),
                str(kept.get("version") or ""),
                occurred,
            )
            rows.setdefault(key, (str(kept.get("who") or ""), kept.get("link") or None))
    newest = sorted(rows.items(), key=lambda item: item[0][4], reverse=True)[:CHANGES_MAX]
    return tuple(
        ChangeBefore(service, kind, summary, who, version, link, occurred, declared - occurred)
        for (service, kind, summary, version, occurred), (who, link) in newest
    )


def communication_gaps(incident: Incident, timeline: Iterable[Entry]) -> tuple[Gap, ...]:
    """One gap per update window in which at least one UPDATE_MISSED was recorded (reminders may record
    several for one window as they escalate). A gap starts where its window did (the declaration, the last update
    or the reopening) and ends at the next update, or at the resolution if that came first: never across a
    stretch during which the incident was resolved."""
    entries = list(timeline)
    posted = sorted(u.posted_at for u in incident.updates)
    reopened = sorted(e.occurred_at for e in entries if e.kind == EventKind.REOPENED)
    resolved = sorted(e.occurred_at for e in entries if e.kind == EventKind.RESOLVED)
    gaps: dict[datetime, Gap] = {}
    for entry in entries:
        if entry.kind != EventKind.UPDATE_MISSED:
            continue
        due = _moment(entry.data.get("due_at")) or entry.occurred_at
        began = [incident.declared_at] + [m for m in posted + reopened if m <= entry.occurred_at]
        started = _moment(entry.data.get("since")) or max(began)
        ends = [next((m for m in moments if m > entry.occurred_at), None) for moments in (posted, resolved)]
        ended = min((m for m in ends if m is not None), default=None)
        if started not in gaps:
            gaps[started] = Gap(started, due, ended, entry)
    return tuple(gaps.values())


# The fields of an event's data that name people (Slack user ids), by kind.
PEOPLE_FIELDS: dict[str, tuple[str, ...]] = {
    EventKind.ROLE_ASSIGNED: ("to",),
    EventKind.ROLE_HANDOVER: ("from", "to"),
    EventKind.REMINDER_SENT: ("target_id",),
    EventKind.FOLLOWUP_ADDED: ("owner_id",),
    EventKind.MESSAGE: ("author_id",),
    EventKind.OWNERS_ENGAGED: ("invited", "present"),
    EventKind.REVIEW_REMINDED: ("lead",),
}


def people_in(data: PostmortemData, mentions: Mentions | None = None) -> list[str]:
    """Every Slack user id the draft names, in order of first appearance: in its facts and, with
    `mentions(text)` (the edge reads the markup), in what people wrote."""
    ids: dict[str, None] = {data.reporter_id: None}
    for spell in data.roles:
        ids.update({spell.user_id: None, spell.assigned_by: None})
    for u in data.updates:
        ids[u.author_id] = None
    for a in data.followups:
        ids[a.created_by] = None
        if a.owner_id:
            ids[a.owner_id] = None
    for e in data.timeline:
        if e.actor_id:
            ids[e.actor_id] = None
        for name in PEOPLE_FIELDS.get(e.kind, ()):
            value = e.data.get(name)
            ids.update(dict.fromkeys([value] if isinstance(value, str) else value or ()))
        if mentions is not None:
            ids.update(dict.fromkeys(mentions(e.text)))
    return [i for i in ids if i]


def _names(ids: Iterable[str], name_of: NameOf) -> dict[str, str]:
    names = {}
    for user_id in ids:
        name = name_of(user_id)
        if name:
            names[user_id] = name
    return names


def _duty_title(role: str) -> str:
    for duty, (title, _) in DUTIES.items():
        if duty.value == role:
            return title
    return role.capitalize()


def _role_order(role: str) -> int:
    order = [duty.value for duty in DUTIES]
    return order.index(role) if role in order else len(order)


def _moment(value: object) -> datetime | None:
    """A time stored in an event's data (an ISO string), as an aware datetime; naive values are UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def owners_from_map(ownership_map: Any) -> OwnersOf:
    """Adapt the ownership map (incidents.owners.OwnershipMap) to `owners_of`."""

    def owners_of(name: str) -> ServiceOwner | None:
        match = ownership_map.find_service(name)
        if match is None:
            return None
        team = ownership_map.team_of(match.service)
        return ServiceOwner(
            team=team.name,
            contacts=tuple(ownership_map.first_contacts(team)),
            channel=team.channel,
            runbook=match.service.runbook,
        )

    return owners_of
