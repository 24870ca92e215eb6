"""What the effect handlers share: reading the incident, waiting for its channel, telling a person."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from incidents.models import Incident, OutboxMessage, OutboxStatus
from incidents.outbox import NotReady, PermanentFailure
from incidents.queries import get_by_id


def load(sessions: sessionmaker[Session], message: OutboxMessage) -> Incident:
    if message.incident_id is None:
        raise PermanentFailure(f"{message.kind} has no incident")
    with sessions() as session:
        return get_by_id(session, message.incident_id)


def setup_gave_up(sessions: sessionmaker[Session], incident_id: int) -> bool:
    """True when opening the incident's channel was dead-lettered: waiting for it is pointless."""
    with sessions() as session:
        status = session.scalar(select(OutboxMessage.status).where(OutboxMessage.key == f"open_channel:{incident_id}"))
    return status == OutboxStatus.DEAD.value


def require_channel(sessions: sessionmaker[Session], incident: Incident) -> str:
    if incident.channel_id:
        return incident.channel_id
    if setup_gave_up(sessions, incident.id):
        raise PermanentFailure(f"{incident.ref} has no channel: opening it was given up (see open_channel)")
    raise NotReady(f"{incident.ref}'s channel is not created yet")


def require_card(sessions: sessionmaker[Session], incident: Incident) -> tuple[str, str]:
    channel_id = require_channel(sessions, incident)
    if incident.card_ts:
        return channel_id, incident.card_ts
    if setup_gave_up(sessions, incident.id):
        raise PermanentFailure(f"{incident.ref} has no card: opening its channel was given up")
    raise NotReady(f"{incident.ref}'s card is not posted yet")


def was_queued(session: Session, key: str) -> bool:
    return session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None
