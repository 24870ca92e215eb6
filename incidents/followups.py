"""Follow-up actions: the work an incident leaves behind. They belong to the incident and outlive it (they can
be added and closed after resolution), land on its timeline and close its post-mortem."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents import home, outbox
from incidents.errors import InvalidInput, NotFound
from incidents.models import FollowUp, Incident
from incidents.timeline import EventKind, record

TEXT_MAX = 1000


def add_followup(
    session: Session, incident: Incident, *, text: str, owner_id: str | None, by: str, now: datetime
) -> FollowUp:
    text = " ".join((text or "").split())
    if not text:
        raise InvalidInput("Say what needs doing: `followup add an alert on queue depth @owner`.")
    if len(text) > TEXT_MAX:
        raise InvalidInput(f"The follow-up is {len(text)} characters long; keep it under {TEXT_MAX}.")
    followup = FollowUp(text=text, owner_id=owner_id, created_by=by, created_at=now, done=False)
    incident.followups.append(followup)
    session.flush()
    record(
        session,
        incident,
        EventKind.FOLLOWUP_ADDED,
        text,
        now=now,
        actor_id=by,
        data={"followup_id": followup.id, "owner_id": owner_id},
    )
    home.request_refresh(session, [owner_id] if owner_id else [], now=now)  # their Home lists it
    outbox.request_card_refresh(session, incident.id, now=now)  # the card counts the open follow-ups
    return followup


def mark_done(session: Session, incident: Incident, *, followup_id: int, by: str, now: datetime) -> bool:
    """Close a follow-up. Returns False when it was already done (a second click changes nothing)."""
    followup = get_followup(session, incident, followup_id, for_update=True)
    if followup.done:
        return False
    followup.done, followup.done_at = True, now
    record(
        session,
        incident,
        EventKind.FOLLOWUP_DONE,
        followup.text,
        now=now,
        actor_id=by,
        data={"followup_id": followup.id},
    )
    home.request_refresh(session, [followup.owner_id] if followup.owner_id else [], now=now)
    outbox.request_card_refresh(session, incident.id, now=now)
    return True


def list_followups(session: Session, incident: Incident) -> Sequence[FollowUp]:
    """Oldest first; open and done alike."""
    return session.scalars(select(FollowUp).where(FollowUp.incident_id == incident.id).order_by(FollowUp.id)).all()


def get_followup(session: Session, incident: Incident, followup_id: int, *, for_update: bool = False) -> FollowUp:
    stmt = select(FollowUp).where(FollowUp.id == followup_id, FollowUp.incident_id == incident.id)
    if for_update:
        stmt = stmt.with_for_update()
    followup = session.scalar(stmt)
    if followup is None:
        raise NotFound(f"{incident.ref} has no follow-up #{followup_id}.")
    return followup
