"""Reading what the reminder engine left behind: outbox rows and timeline events."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from incidents.effects import Effect
from incidents.models import OutboxMessage, TimelineEvent
from incidents.queries import get_incident


def effects(sessions: sessionmaker[Session], *kinds: Effect) -> list[OutboxMessage]:
    with sessions() as s:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if kinds:
            stmt = stmt.where(OutboxMessage.kind.in_([k.value for k in kinds]))
        return list(s.scalars(stmt))


def events(sessions: sessionmaker[Session], *kinds: str, number: int = 1) -> list[TimelineEvent]:
    with sessions() as s:
        incident = get_incident(s, number)
        return [e for e in incident.events if not kinds or e.kind in kinds]


def nags(sessions: sessionmaker[Session]) -> list[tuple[str, int]]:
    """(kind, stage) of every reminder and escalation enqueued, in order."""
    return [(m.kind, m.payload["stage"]) for m in effects(sessions, Effect.REMINDER, Effect.ESCALATION)]
