"""The App Home as the domain sees it: what one person is shown (facts, no words), who may see a private
incident, who keeps a Home open, and asking for Homes to be redrawn.

What one person sees (`build`): the open incidents where they hold a role, with the stakeholder update due from
them (the communicator's, or the lead's when nobody communicates: whom the reminders nag); the open incidents
they may see, most severe first; their open follow-ups; the latest resolved incidents and whether a post-mortem
draft was uploaded. Only what is shown is read (open incidents, this person's roles and follow-ups, a few
resolved ones), with the counts of what did not fit.

A private incident is shown only to its members as the bot knows them: the reporter, whoever holds or held one
of its roles, and the owners of its follow-ups (the people brought into its channel by the bot).

Redraws (`request_refresh`, `request_refresh_for`): a change reaches the Homes of the people it concerns (role
holders, follow-up owners, a private incident's members) who opened theirs within `ACTIVE_FOR`, and, for a public
incident's place in everyone's lists, of whoever opened theirs within `WATCHING_FOR` (opening a Home redraws it
anyway: this keeps a Home on someone's screen current without publishing to every Home there ever was on each
change). A change is coalesced with the others of its `DEBOUNCE` window: one REFRESH_HOME
per person and window (its outbox key names the window), delivered when the window closes and drawn from the
database then. Someone a public incident's change does not concern (they merely watch the lists) is redrawn
per `WATCH_DEBOUNCE` window instead, so that a busy incident costs each watcher at most one publish per five
minutes. Opening the Home draws it at once (`opened`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from incidents import outbox
from incidents.db import dialect_insert
from incidents.effects import Effect
from incidents.models import (
    FollowUp,
    HomeView,
    Incident,
    OutboxStatus,
    Role,
    RoleAssignment,
    Status,
    TimelineEvent,
)
from incidents.process import Process
from incidents.timeline import EventKind

ACTIVE_FOR = timedelta(days=14)  # a Home opened within this is redrawn when what concerns its person changes
WATCHING_FOR = timedelta(hours=24)  # ... and when the lists everyone sees change
DEBOUNCE = timedelta(seconds=30)  # at most one redraw per person per window, for changes (Tier 4 allows 100+/min)
WATCH_DEBOUNCE = timedelta(minutes=5)  # ... for a change to a public incident that does not concern the person
DUTIES_SHOWN = 10
OPEN_SHOWN = 15
FOLLOWUPS_SHOWN = 10
POSTMORTEMS_SHOWN = 5
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Summary:
    """An incident as the Home lists it."""

    ref: str
    title: str
    severity: str
    status: str
    private: bool
    channel_id: str | None
    declared_at: datetime
    resolved_at: datetime | None
    lead_id: str | None  # who holds the acknowledge role


@dataclass(frozen=True)
class Duty:
    """An open incident where the person holds roles; `update_due_at` when the next stakeholder update is theirs
    to post (None when it is someone else's)."""

    incident: Summary
    roles: tuple[Role, ...]
    update_due_at: datetime | None

    def overdue(self, now: datetime) -> bool:
        return self.update_due_at is not None and self.update_due_at <= now


@dataclass(frozen=True)
class OwnedFollowUp:
    id: int
    text: str
    ref: str
    channel_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class PostMortem:
    incident: Summary
    draft_uploaded: bool


@dataclass(frozen=True)
class Home:
    user_id: str
    now: datetime
    duties: tuple[Duty, ...]
    duties_total: int
    open: tuple[Summary, ...]
    open_total: int
    followups: tuple[OwnedFollowUp, ...]
    followups_total: int
    postmortems: tuple[PostMortem, ...]


# --- who may see what ---------------------------------------------------------------------------------------


def visible_to(user_id: str) -> ColumnElement[bool]:
    """The incidents `user_id` may see: every public one, and the private ones they are a member of."""
    # Uncorrelated IN subqueries (each read once through its index), not EXISTS per row: PostgreSQL then
    # estimates the query at its true size instead of costing it into a JIT compilation slower than the query.
    return or_(
        Incident.private.is_(False),
        Incident.reporter_id == user_id,
        Incident.id.in_(select(RoleAssignment.incident_id).where(RoleAssignment.user_id == user_id)),
        Incident.id.in_(select(FollowUp.incident_id).where(FollowUp.owner_id == user_id)),
    )


def members(session: Session, incident: Incident) -> set[str]:
    """The people the bot knows to belong to an incident: reporter, role holders past and present, follow-up
    owners."""
    people = {incident.reporter_id} | {a.user_id for a in incident.roles}
    people |= set(
        session.scalars(
            select(FollowUp.owner_id).where(FollowUp.incident_id == incident.id, FollowUp.owner_id.is_not(None))
        )
    )
    return {p for p in people if p}


# --- what one person sees -----------------------------------------------------------------------------------


def build(session: Session, *, user_id: str, now: datetime, process: Process) -> Home:
    duties, duties_total = _duties(session, user_id)
    shown, open_total = _open(session, user_id, process)
    followups, followups_total = _followups(session, user_id)
    postmortems = _postmortems(session, user_id)
    leads = _leads(session, [d.id for d, _ in duties] + [i.id for i in shown] + [i.id for i, _ in postmortems])
    return Home(
        user_id=user_id,
        now=now,
        duties=tuple(
            sorted(
                (
                    Duty(_summary(i, leads), roles, i.next_update_due_at if _due_from(i, roles) else None)
                    for i, roles in duties
                ),
                key=_most_pressing,
            )
        ),
        duties_total=duties_total,
        open=tuple(_summary(i, leads) for i in shown),
        open_total=open_total,
        followups=followups,
        followups_total=followups_total,
        postmortems=tuple(PostMortem(_summary(i, leads), uploaded) for i, uploaded in postmortems),
    )


def _most_pressing(duty: Duty) -> tuple[bool, datetime]:
    """Updates due from the person first, the most overdue first; then the rest (newest incident first: stable)."""
    return (duty.update_due_at is None, duty.update_due_at or _EPOCH)


def _is_open() -> ColumnElement[bool]:
    return Incident.status != Status.RESOLVED.value


def _duties(session: Session, user_id: str) -> tuple[list[tuple[Incident, tuple[Role, ...]]], int]:
    """The open incidents where `user_id` holds a role now, with the roles they hold: those whose update may be
    theirs (they communicate or lead) first, soonest due first, then the newest."""
    held = and_(RoleAssignment.user_id == user_id, RoleAssignment.ended_at.is_(None))
    rows = session.execute(
        select(RoleAssignment.incident_id, RoleAssignment.role, Incident.next_update_due_at)
        .join(Incident, Incident.id == RoleAssignment.incident_id)
        .where(held, _is_open())
    ).all()
    roles: dict[int, list[Role]] = {}
    due: dict[int, datetime | None] = {}
    for incident_id, role, due_at in rows:
        roles.setdefault(incident_id, []).append(Role(role))
        due[incident_id] = due_at
    if not roles:
        return [], 0

    def pressing(incident_id: int) -> tuple[bool, datetime, int]:
        may_be_theirs = bool({Role.COMMUNICATE, Role.ACKNOWLEDGE} & set(roles[incident_id]))
        return (not (may_be_theirs and due[incident_id]), due[incident_id] or _EPOCH, -incident_id)

    wanted = sorted(roles, key=pressing)[:DUTIES_SHOWN]
    incidents = session.scalars(
        select(Incident)
        .where(Incident.id.in_(wanted))
        .options(selectinload(Incident.roles))
        .order_by(Incident.number.desc())
    )
    order = list(Role)
    return [(i, tuple(sorted(roles[i.id], key=order.index))) for i in incidents], len(roles)


def _due_from(incident: Incident, roles: tuple[Role, ...]) -> bool:
    """Is the next stakeholder update this person's to post? (Their roles are current, so the communicator is
    known from them; a lead is asked only when nobody communicates.)"""
    if incident.next_update_due_at is None:
        return False
    if Role.COMMUNICATE in roles:
        return True
    if Role.ACKNOWLEDGE not in roles:
        return False
    return incident.holder(Role.COMMUNICATE) is None


def _severity_rank(process: Process) -> ColumnElement[int]:
    names = process.severity_names
    return case({name: rank for rank, name in enumerate(names)}, value=Incident.severity, else_=len(names))


def _open(session: Session, user_id: str, process: Process) -> tuple[list[Incident], int]:
    where = and_(_is_open(), visible_to(user_id))
    total = session.scalar(select(func.count()).select_from(Incident).where(where)) or 0
    shown = session.scalars(
        select(Incident).where(where).order_by(_severity_rank(process), Incident.number.desc()).limit(OPEN_SHOWN)
    ).all()
    return list(shown), total


def _followups(session: Session, user_id: str) -> tuple[tuple[OwnedFollowUp, ...], int]:
    where = and_(FollowUp.owner_id == user_id, FollowUp.done.is_(False))
    total = session.scalar(select(func.count()).select_from(FollowUp).where(where)) or 0
    rows = session.execute(
        select(FollowUp.id, FollowUp.text, FollowUp.created_at, Incident.number, Incident.channel_id)
        .join(Incident, Incident.id == FollowUp.incident_id)
        .where(where)
        .order_by(FollowUp.created_at, FollowUp.id)
        .limit(FOLLOWUPS_SHOWN)
    ).all()
    return (
        tuple(
            OwnedFollowUp(id=r.id, text=r.text, ref=f"INC-{r.number}", channel_id=r.channel_id, created_at=r.created_at)
            for r in rows
        ),
        total,
    )


def _postmortems(session: Session, user_id: str) -> list[tuple[Incident, bool]]:
    """The latest resolved incidents the person may see, newest resolution first, and whether a draft was
    uploaded to each one's channel."""
    resolved = session.scalars(
        select(Incident)
        .where(Incident.status == Status.RESOLVED.value, visible_to(user_id))
        .order_by(Incident.resolved_at.desc(), Incident.id.desc())
        .limit(POSTMORTEMS_SHOWN)
    ).all()
    ids = [i.id for i in resolved]
    uploaded = (
        set(
            session.scalars(
                select(TimelineEvent.incident_id)
                .where(TimelineEvent.incident_id.in_(ids), TimelineEvent.kind == EventKind.POSTMORTEM_UPLOADED.value)
                .distinct()
            )
        )
        if ids
        else set()
    )
    return [(i, i.id in uploaded) for i in resolved]


def _leads(session: Session, incident_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(incident_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(RoleAssignment.incident_id, RoleAssignment.user_id).where(
            RoleAssignment.incident_id.in_(ids),
            RoleAssignment.role == Role.ACKNOWLEDGE.value,
            RoleAssignment.ended_at.is_(None),
        )
    ).all()
    return {incident_id: user for incident_id, user in rows}


def _summary(incident: Incident, leads: dict[int, str]) -> Summary:
    return Summary(
        ref=incident.ref,
        title=incident.title,
        severity=incident.severity,
        status=incident.status,
        private=incident.private,
        channel_id=incident.channel_id,
        declared_at=incident.declared_at,
        resolved_at=incident.resolved_at,
        lead_id=leads.get(incident.id),
    )


# --- who keeps a Home, and redrawing it ---------------------------------------------------------------------


def opened(session: Session, *, user_id: str, now: datetime, event_id: str) -> None:
    """The person opened their Home: remember it, and draw it now (once per event: a retried event is the same
    outbox key)."""
    upsert = dialect_insert(session, HomeView).values(user_id=user_id, opened_at=now)
    session.execute(upsert.on_conflict_do_update(index_elements=[HomeView.user_id], set_={"opened_at": now}))
    _enqueue(session, [(user_id, f"home:{user_id}:opened:{event_id}", now)], now=now)


def active_viewers(
    session: Session, *, now: datetime, among: Collection[str] | None = None, within: timedelta = ACTIVE_FOR
) -> list[str]:
    """Who opened their Home within `within` (only among `among`, when given)."""
    stmt = select(HomeView.user_id).where(HomeView.opened_at >= now - within)
    if among is not None:
        if not among:
            return []
        stmt = stmt.where(HomeView.user_id.in_(sorted(among)))
    return list(session.scalars(stmt.order_by(HomeView.user_id)))


def request_refresh(session: Session, user_ids: Iterable[str], *, now: datetime) -> int:
    """Redraw these people's Homes when the current window closes (only those who keep a Home open). Returns
    how many were asked for (a person already asked for in this window counts once)."""
    viewers = active_viewers(session, now=now, among=set(user_ids))
    _enqueue(session, _windowed(viewers, now=now, debounce=DEBOUNCE, tag=""), now=now)
    return len(viewers)


def request_refresh_for(session: Session, incident: Incident, *, now: datetime) -> int:
    """Something about `incident` changed: redraw the Homes that show it (a public incident is in everyone's
    open list or latest post-mortems; a private one only in its members'). Its members within `DEBOUNCE`; those
    who merely watch the lists (opened within `WATCHING_FOR`) within `WATCH_DEBOUNCE`."""
    if incident.private:
        return request_refresh(session, members(session, incident), now=now)
    # One read of everyone who may be redrawn (and whether they watch the lists); nobody: nothing more to read.
    viewers = dict(
        session.execute(
            select(HomeView.user_id, HomeView.opened_at >= now - WATCHING_FOR)
            .where(HomeView.opened_at >= now - ACTIVE_FOR)
            .order_by(HomeView.user_id)
        ).all()
    )
    if not viewers:
        return 0
    people = members(session, incident)
    concerned = [u for u in viewers if u in people]
    watching = [u for u, watches in viewers.items() if watches and u not in people]
    _enqueue(session, _windowed(concerned, now=now, debounce=DEBOUNCE, tag=""), now=now)
    _enqueue(session, _windowed(watching, now=now, debounce=WATCH_DEBOUNCE, tag="watch:"), now=now)
    return len(concerned) + len(watching)


def _windowed(
    user_ids: Iterable[str], *, now: datetime, debounce: timedelta, tag: str
) -> list[tuple[str, str, datetime]]:
    """(user, outbox key naming the window, when the window closes) for each person."""
    window = int((now - _EPOCH) // debounce)
    due = _EPOCH + (window + 1) * debounce
    return [(u, f"home:{u}:{tag}{window}", due) for u in user_ids]


def _enqueue(session: Session, rows: list[tuple[str, str, datetime]], *, now: datetime) -> None:
    """One REFRESH_HOME per (user, key, due) in one statement; a key stored already is kept as it is."""
    if not rows:
        return
    values = [
        {
            "kind": Effect.REFRESH_HOME.value,
            "key": key,
            "incident_id": None,
            "payload": {"user_id": user_id},
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": due,
            "created_at": now,
            "result": {},
        }
        for user_id, key, due in rows
    ]
    outbox.insert_new(session, values)
