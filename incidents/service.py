"""Use cases. Each is a plain function run inside one transaction (`sessions.begin()`): it changes
the incident, appends its timeline event and stores its side effects in the outbox, or, on any error, nothing.
Time is a parameter (`now`); nothing here talks to Slack."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from incidents import changes, engagement, home, outbox, paging, review, tickets
from incidents.db import dialect_insert
from incidents.effects import Effect
from incidents.errors import InvalidInput, InvalidTransition, NotAllowed
from incidents.models import Counter, Incident, Role, RoleAssignment, Status, StatusUpdate
from incidents.process import Process
from incidents.queries import get_incident
from incidents.schedule import change_cadence, restart_update_clock, stop_update_clock
from incidents.timeline import EventKind, record

TITLE_MAX = 200
TEXT_MAX = 3000
ORDER = [Status.TRIAGE, Status.ACKNOWLEDGED, Status.MITIGATED, Status.RESOLVED]


def _text(value: str, what: str, *, limit: int = TEXT_MAX, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"The {what} is empty; write a few words.")
    if len(value) > limit:
        raise InvalidInput(f"The {what} is {len(value)} characters long; keep it under {limit}.")
    return value


# PostgreSQL: a number no incident has (negative, unique), until _next_number gives the real one before commit
_STAND_IN = -func.nextval(func.pg_get_serial_sequence("incidents", "id"))
_NEXT_NUMBER: dict[str, Any] = {}  # per dialect, built once (it is the same statement every time)


def _next_number(session: Session) -> int:
    """The next INC-<n>: one statement creates the counter or counts on (its row stays locked until commit)."""
    dialect = session.get_bind().dialect.name
    upsert = _NEXT_NUMBER.get(dialect)
    if upsert is None:
        table = Counter.__table__
        upsert = dialect_insert(session, table).values(name="incident", value=1)
        upsert = upsert.on_conflict_do_update(index_elements=[table.c.name], set_={"value": table.c.value + 1})
        upsert = _NEXT_NUMBER[dialect] = upsert.returning(table.c.value)
    return session.execute(upsert).scalar_one()


def _violates(exc: IntegrityError, *names: str) -> bool:
    """The error is about one of these constraints (PostgreSQL names it; SQLite names the column)."""
    constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
    return constraint in names or any(name in str(exc.orig) for name in names)


def _touch(session: Session, incident: Incident, now: datetime) -> None:
    """Mark the incident changed and ask for its card (and announcement) to be redrawn, and the Homes showing it."""
    incident.updated_at = now
    outbox.request_card_refresh(session, incident.id, now=now)
    home.request_refresh_for(session, incident, now=now)


touch = _touch  # public: other use cases (incidents.reminders.snooze) refresh the card the same way


def _say(session: Session, incident: Incident, fact: EventKind, now: datetime, *, by: str, **fields: object) -> None:
    """A message in the incident channel about a change `by` made (told if it can never be posted). The payload is
    the fact (`fact`, `ref`, `by` and the change's fields); the Slack layer words it (app/slack/blocks/facts.py)."""
    outbox.enqueue(
        session,
        kind=Effect.CHANNEL_MESSAGE,
        key=f"say:{incident.id}:{uuid.uuid4().hex}",
        now=now,
        incident_id=incident.id,
        payload={"fact": fact.value, "ref": incident.ref, "by": by} | fields,
    )


def declare(
    session: Session,
    *,
    title: str,
    severity: str,
    reporter_id: str,
    now: datetime,
    process: Process,
    summary: str = "",
    services: Sequence[str] = (),
    private: bool = False,
    declare_key: str | None = None,
) -> Incident:
    """Record a new incident and ask for its channel. The same `declare_key` twice returns the first one.

    Also when both arrive at once (two replicas, a double click): the number and the row are written in a
    savepoint, so the one that loses the race on the unique key rolls back only that (no number is burned)
    and returns the row the winner committed.

    On PostgreSQL the number is drawn last: the row is written with a stand-in (a negative, unique value from
    the id sequence) and numbered just before the commit, so that the counter row, which each declaration
    holds locked until it commits, is held for two statements instead of all of them: declarations at once
    queue on it one after another. (SQLite holds its one write lock for the whole transaction anyway.)"""
    late = session.get_bind().dialect.name == "postgresql"
    fields = {
        "title": _text(title, "title", limit=TITLE_MAX),
        "summary": _text(summary, "impact description", required=False),
        "severity": process.severity(severity).name,
        "services": list(dict.fromkeys(s.strip() for s in services if s.strip())),
    }
    if declare_key:
        existing = session.scalar(select(Incident).where(Incident.declare_key == declare_key))
        if existing is not None:
            return existing
    try:
        with session.begin_nested():
            incident = Incident(
                number=_STAND_IN if late else _next_number(session),
                status=Status.TRIAGE.value,
                private=private,
                reporter_id=reporter_id,
                declare_key=declare_key,
                declared_at=now,
                updated_at=now,
                reminder_stage=0,
                **fields,
            )
            restart_update_clock(incident, now=now, process=process)
            session.add(incident)
            session.flush()
    except IntegrityError as exc:
        existing = None
        if declare_key and _violates(exc, "uq_incidents_declare_key", "incidents.declare_key"):
            existing = session.scalar(select(Incident).where(Incident.declare_key == declare_key))
        if existing is None:
            raise
        return existing
    record(
        session,
        incident,
        EventKind.DECLARED,
        incident.title,
        now=now,
        actor_id=reporter_id,
        data={"severity": incident.severity, "services": incident.services},
    )
    outbox.enqueue(
        session, kind=Effect.OPEN_CHANNEL, key=f"open_channel:{incident.id}", now=now, incident_id=incident.id
    )
    engagement.request_on_declare(session, incident, now=now)  # owners of the affected services, once it exists
    if process.show_changes_on_declare:  # "What changed recently", once the channel exists
        changes.request_on_declare(session, incident, now=now)
    paging.request_on_declare(session, incident, now=now, process=process)  # PAGE_ON_DECLARE_SEVERITIES
    home.request_refresh_for(session, incident, now=now)  # a new open incident in the Homes that show it
    if late:
        incident.number = _next_number(session)
        session.flush()
    return incident


def acknowledge(
    session: Session, incident: Incident, *, user_id: str, now: datetime, process: Process | None = None
) -> Incident:
    """ "I am looking into it": the person takes the acknowledge role; time to acknowledge is recorded (and the
    pages acknowledged when `process.pager_acknowledge_from_slack`)."""
    _refuse_if_resolved(incident, "acknowledge")
    if incident.acknowledged_at is None:
        paging.on_acknowledged(session, incident, now=now, process=process)
        incident.acknowledged_at = now
        incident.status = Status.ACKNOWLEDGED.value
        record(
            session,
            incident,
            EventKind.ACKNOWLEDGED,
            "",
            now=now,
            actor_id=user_id,
        )
    if incident.holder(Role.ACKNOWLEDGE) is None:
        assign_role(session, incident, role=Role.ACKNOWLEDGE, user_id=user_id, by=user_id, now=now)
    _touch(session, incident, now)
    return incident


def assign_role(
    session: Session, incident: Incident, *, role: Role | str, user_id: str, by: str, now: datetime
) -> bool:
    """Give a duty to a person, handing it over from its holder. Returns False when nothing changed."""
    role = _role(role)
    _refuse_if_resolved(incident, "assign roles in")
    current = next((a for a in incident.roles if a.role == role and a.ended_at is None), None)
    if current is not None and current.user_id == user_id:
        return False
    if current is not None:
        current.ended_at = now
        session.flush()  # the unique "one current holder" index must see the handover first
        record(
            session,
            incident,
            EventKind.ROLE_HANDOVER,
            "",
            now=now,
            actor_id=by,
            data={"role": role.value, "from": current.user_id, "to": user_id},
        )
    else:
        record(
            session,
            incident,
            EventKind.ROLE_ASSIGNED,
            "",
            now=now,
            actor_id=by,
            data={"role": role.value, "to": user_id},
        )
    incident.roles.append(RoleAssignment(role=role.value, user_id=user_id, assigned_by=by, assigned_at=now))
    outbox.enqueue(
        session,
        kind=Effect.ROLE_BRIEFING,
        key=f"briefing:{incident.id}:{uuid.uuid4().hex}",
        now=now,
        incident_id=incident.id,
        payload={"role": role.value, "user_id": user_id, "by": by},
    )
    _touch(session, incident, now)
    return True


def change_severity(
    session: Session, incident: Incident, *, severity: str, by: str, now: datetime, process: Process
) -> bool:
    _refuse_if_resolved(incident, "change the severity of")
    _check_allowed(incident, by, process, "change the severity")
    new = process.severity(severity).name
    if new == incident.severity:
        return False
    old, incident.severity = incident.severity, new
    record(
        session,
        incident,
        EventKind.SEVERITY_CHANGED,
        "",
        now=now,
        actor_id=by,
        data={"from": old, "to": new},
    )
    change_cadence(incident, old_severity=old, now=now, process=process)  # a new severity may carry another cadence
    paging.on_severity_changed(session, incident, old=old, now=now, process=process)  # raised into a paging one
    _say(session, incident, EventKind.SEVERITY_CHANGED, now, by=by, **{"from": old, "to": new})
    _touch(session, incident, now)
    return True


def post_status_update(
    session: Session,
    incident: Incident,
    *,
    text: str,
    author_id: str,
    now: datetime,
    process: Process,
    impact: str = "",
    next_steps: str = "",
    eta: str = "",
) -> StatusUpdate:
    """A stakeholder update: posted in the channel and under the announcement; resets the update clock."""
    update_ = StatusUpdate(
        text=_text(text, "update"),
        impact=_text(impact, "impact", required=False),
        next_steps=_text(next_steps, "next steps", required=False),
        eta=_text(eta, "ETA", limit=200, required=False),
        author_id=author_id,
        posted_at=now,
    )
    incident.updates.append(update_)
    session.flush()
    incident.last_update_at = now
    if incident.is_open:
        restart_update_clock(incident, now=now, process=process)
    record(
        session,
        incident,
        EventKind.STATUS_UPDATE,
        update_.text,
        now=now,
        actor_id=author_id,
        data={
            "update_id": update_.id,
            "impact": update_.impact,
            "next_steps": update_.next_steps,
            "eta": update_.eta,
        },
    )
    outbox.enqueue(
        session,
        kind=Effect.POST_UPDATE,
        key=f"update:{update_.id}",
        now=now,
        incident_id=incident.id,
        payload={"update_id": update_.id},
    )
    _touch(session, incident, now)
    return update_


def mark_mitigated(session: Session, incident: Incident, *, by: str, now: datetime) -> bool:
    """Service is restored. After a reopen it is "mitigated again": on the timeline, while `mitigated_at` keeps
    the first mitigation (see `reopen`)."""
    _refuse_if_resolved(incident, "mark as mitigated")
    if incident.status == Status.MITIGATED:
        return False
    again = incident.mitigated_at is not None
    filled = _fill_milestones(incident, Status.MITIGATED, now)
    if not again:
        incident.mitigated_at = now
    incident.status = Status.MITIGATED.value
    _note_filled(session, incident, filled, by, now)
    record(
        session,
        incident,
        EventKind.MITIGATED,
        "",
        now=now,
        actor_id=by,
        data={"again": True} if again else None,
    )
    _say(session, incident, EventKind.MITIGATED, now, by=by)
    _touch(session, incident, now)
    return True


def resolve(session: Session, incident: Incident, *, by: str, now: datetime, process: Process) -> bool:
    if incident.status == Status.RESOLVED:
        return False
    _check_allowed(incident, by, process, "resolve the incident")
    filled = _fill_milestones(incident, Status.RESOLVED, now)
    incident.resolved_at = now
    incident.status = Status.RESOLVED.value
    stop_update_clock(incident)
    _note_filled(session, incident, filled, by, now)
    record(session, incident, EventKind.RESOLVED, "", now=now, actor_id=by)
    paging.on_resolved(session, incident, now=now)  # its open pages are resolved at the pager too
    tickets.on_resolved(session, incident, now=now, process=process)  # TICKETS_ON_RESOLVE
    review.request_on_resolve(session, incident, now=now, process=process)  # ask for the post-mortem review
    _say(session, incident, EventKind.RESOLVED, now, by=by)
    _touch(session, incident, now)
    return True


def reopen(session: Session, incident: Incident, *, by: str, now: datetime, process: Process) -> Incident:
    """Back to acknowledged: the problem is back, so the incident is open and no longer mitigated.

    The milestones are firsts and a reopen keeps them: `acknowledged_at` and `mitigated_at` stay the first
    acknowledgement and the first time service was restored, so time to acknowledge and time to mitigate measure
    the first response. Only `resolved_at` is cleared: the final resolution sets it again, so time to resolve
    runs to the end. The later cycles (reopened, mitigated again, resolved) are on the timeline, and resolving
    again never claims to have skipped a milestone that was recorded before the reopen."""
    if incident.status != Status.RESOLVED:
        raise InvalidTransition(f"{incident.ref} is not resolved, so it cannot be reopened.")
    previous = incident.resolved_at
    incident.resolved_at = None
    incident.reopened_at = now  # a new stakeholder-update window starts here
    incident.status = Status.ACKNOWLEDGED.value
    restart_update_clock(incident, now=now, process=process)
    record(
        session,
        incident,
        EventKind.REOPENED,
        "",
        now=now,
        actor_id=by,
        data={"previously_resolved_at": previous.isoformat() if previous else None},
    )
    _say(session, incident, EventKind.REOPENED, now, by=by)
    _touch(session, incident, now)
    return incident


def add_note(
    session: Session,
    incident: Incident,
    *,
    text: str,
    author_id: str,
    now: datetime,
    occurred_at: datetime | None = None,
) -> None:
    if occurred_at is not None and occurred_at > now:
        raise InvalidInput("A note cannot be dated in the future.")
    if occurred_at is not None and occurred_at < incident.declared_at - timedelta(days=7):
        raise InvalidInput("That time is more than a week before the incident was declared.")
    record(
        session,
        incident,
        EventKind.NOTE,
        _text(text, "note"),
        now=now,
        actor_id=author_id,
        occurred_at=occurred_at,
    )


def lookup(session: Session, ref: str | int) -> Incident:
    return get_incident(session, ref, for_update=True)


# --- rules --------------------------------------------------------------------------------------------------


def _role(role: Role | str) -> Role:
    try:
        return Role(str(role).strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InvalidInput(f"Unknown role {role!r}. The roles are: {names}.") from None


def _refuse_if_resolved(incident: Incident, action: str) -> None:
    if incident.status == Status.RESOLVED:
        raise InvalidTransition(f"{incident.ref} is resolved; you cannot {action} it. Reopen it first.")


def _check_allowed(incident: Incident, user_id: str, process: Process, action: str) -> None:
    if not process.restrict_changes_to_role_holders:
        return
    holders = {a.user_id for a in incident.roles if a.ended_at is None}
    if user_id not in holders:
        raise NotAllowed(f"Only people holding a role in {incident.ref} may {action}; ask the incident lead.")


def _fill_milestones(incident: Incident, target: Status, now: datetime) -> list[str]:
    """Skipping ahead fills the missing milestones before `target` with the same instant."""
    filled = []
    if incident.acknowledged_at is None:
        incident.acknowledged_at = now
        filled.append("acknowledged")
    if target == Status.RESOLVED and incident.mitigated_at is None:
        incident.mitigated_at = now
        filled.append("mitigated")
    return filled


def _note_filled(session: Session, incident: Incident, filled: list[str], by: str, now: datetime) -> None:
    if filled:
        record(
            session,
            incident,
            EventKind.MILESTONES_FILLED,
            "",
            now=now,
            actor_id=by,
            data={"filled": filled},
        )
