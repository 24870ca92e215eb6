"""Looking at and repairing the outbox: what is queued, what died and why; retry, drop, repair an incident.

Messages a worker is delivering right now (a live lease) are left alone: touching them could deliver twice."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from incidents import outbox
from incidents.effects import Effect
from incidents.errors import InvalidTransition, NotFound
from incidents.models import Incident, OutboxMessage, OutboxStatus, SeenRequest
from incidents.queries import get_incident


@dataclass(frozen=True)
class Row:
    id: int
    incident_ref: str | None
    kind: str
    status: str
    attempts: int
    next_attempt_at: datetime
    in_flight: bool
    last_error: str | None


def list_messages(session: Session, *, now: datetime, status: str | None = None, limit: int = 50) -> list[Row]:
    """Newest first; every status unless one is given."""
    stmt = select(OutboxMessage, Incident.number).outerjoin(Incident, Incident.id == OutboxMessage.incident_id)
    if status:
        stmt = stmt.where(OutboxMessage.status == OutboxStatus(status).value)
    stmt = stmt.order_by(OutboxMessage.id.desc()).limit(limit)
    return [
        Row(
            id=m.id,
            incident_ref=f"INC-{number}" if number is not None else None,
            kind=m.kind,
            status=m.status,
            attempts=m.attempts,
            next_attempt_at=m.next_attempt_at,
            in_flight=_in_flight(m, now),
            last_error=m.last_error,
        )
        for m, number in session.execute(stmt)
    ]


def _in_flight(message: OutboxMessage, now: datetime) -> bool:
    return message.status == OutboxStatus.PENDING and message.locked_until is not None and message.locked_until >= now


def _get(session: Session, message_id: int) -> OutboxMessage:
    message = session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None:
        raise NotFound(f"There is no outbox message {message_id}; `incidents outbox list` shows them.")
    return message


def retry(session: Session, *, now: datetime, message_id: int | None = None) -> int:
    """Make a dead or pending message due now with its attempts reset; every one when no id is given.
    Returns how many. Messages being delivered right now are refused (one) or skipped (all)."""
    where = [OutboxMessage.status.in_([OutboxStatus.DEAD.value, OutboxStatus.PENDING.value])]
    if message_id is not None:
        message = _get(session, message_id)
        if message.status == OutboxStatus.DONE:
            raise InvalidTransition(f"Outbox message {message_id} was delivered; there is nothing to retry.")
        if _in_flight(message, now):
            raise InvalidTransition(f"Outbox message {message_id} is being delivered right now; wait a minute.")
        where.append(OutboxMessage.id == message_id)
    values = {
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "locked_until": None,
        "claim_token": None,
    }
    # A lease that ran out (a crashed worker) may be cleared; a live one may not.
    stmt = update(OutboxMessage).where(
        *where, or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now)
    )
    ids = session.scalars(select(OutboxMessage.incident_id).where(*where).distinct()).all()
    count = session.execute(stmt.values(**values)).rowcount  # type: ignore[attr-defined]
    for incident_id in ids:
        if incident_id is not None:
            outbox.wake_waiting(session, incident_id=incident_id, now=now)
    return count


def drop(session: Session, *, message_id: int, now: datetime) -> OutboxMessage:
    """Delete a pending or dead message for good (the effect will never happen). Delivered ones are history."""
    message = _get(session, message_id)
    if message.status == OutboxStatus.DONE:
        raise InvalidTransition(f"Outbox message {message_id} was delivered; dropping it would undo nothing.")
    if _in_flight(message, now):
        raise InvalidTransition(f"Outbox message {message_id} is being delivered right now; wait a minute.")
    session.execute(delete(OutboxMessage).where(OutboxMessage.id == message_id))
    return message


@dataclass(frozen=True)
class Depth:
    pending: dict[str, int]  # by kind, including the ones not due yet
    dead: dict[str, int]
    oldest_due_seconds: float  # how late the most overdue pending message is; 0 when none is due


def depth(session: Session, *, now: datetime) -> Depth:
    """What the metrics and the health check report: two grouped counts and one MIN, all on indexed columns."""
    counts: dict[str, dict[str, int]] = {OutboxStatus.PENDING.value: {}, OutboxStatus.DEAD.value: {}}
    rows = session.execute(
        select(OutboxMessage.status, OutboxMessage.kind, func.count())
        .where(OutboxMessage.status.in_(list(counts)))
        .group_by(OutboxMessage.status, OutboxMessage.kind)
    )
    for status, kind, count in rows:
        counts[status][kind] = count
    oldest = session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status == OutboxStatus.PENDING.value, OutboxMessage.next_attempt_at <= now
        )
    )
    lag = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    return Depth(pending=counts["pending"], dead=counts["dead"], oldest_due_seconds=lag)


def prune(session: Session, *, now: datetime, keep: timedelta) -> tuple[int, int]:
    """Delete delivered messages and remembered inbound request keys older than `keep`. Returns both counts."""
    cutoff = now - keep
    done = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.DONE.value, OutboxMessage.delivered_at < cutoff
        )
    ).rowcount  # type: ignore[attr-defined]
    seen = session.execute(delete(SeenRequest).where(SeenRequest.seen_at < cutoff)).rowcount  # type: ignore[attr-defined]
    return done, seen


def repair(session: Session, ref: str, *, now: datetime) -> list[str]:
    """Put an incident whose Slack side is missing or stale back on track. Returns what was done, in words.

    Dead messages of the incident are retried; a missing channel or card gets a fresh OPEN_CHANNEL (its handler
    skips the steps already done); otherwise the card and announcement are redrawn (REFRESH_CARD)."""
    incident = get_incident(session, ref, for_update=True)
    done: list[str] = []
    dead = session.scalars(
        select(OutboxMessage.id).where(
            OutboxMessage.incident_id == incident.id, OutboxMessage.status == OutboxStatus.DEAD.value
        )
    ).all()
    for message_id in dead:
        retry(session, now=now, message_id=message_id)
    if dead:
        done.append(f"retried {len(dead)} dead message(s): {', '.join(map(str, dead))}")
    opening = _queued(session, incident.id, Effect.OPEN_CHANNEL)
    if (incident.channel_id is None or incident.card_ts is None) and not opening:
        outbox.enqueue(
            session,
            kind=Effect.OPEN_CHANNEL,
            key=f"open_channel:{incident.id}:repair:{uuid.uuid4().hex}",
            now=now,
            incident_id=incident.id,
        )
        missing = "channel" if incident.channel_id is None else "card"
        done.append(f"the {missing} is missing: queued open_channel (steps already done are skipped)")
    elif opening:
        done.append("open_channel is already queued: waiting for the worker")
    if incident.channel_id is not None and outbox.request_card_refresh(session, incident.id, now=now):
        done.append("queued refresh_card to redraw the card and the announcement")
    return done or ["nothing to repair"]


def _queued(session: Session, incident_id: int, kind: Effect) -> bool:
    return (
        session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.incident_id == incident_id,
                OutboxMessage.kind == kind.value,
                OutboxMessage.status == OutboxStatus.PENDING.value,
            )
            .limit(1)
        )
        is not None
    )
