"""Reading incidents: by reference, by channel, open and recent."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, selectinload

from incidents.errors import InvalidInput, NotFound
from incidents.models import Incident, Status

REF = re.compile(r"^(?:inc-?)?(\d{1,9})$", re.IGNORECASE)


def parse_ref(ref: str) -> int:
    match = REF.match(ref.strip())
    if not match:
        raise InvalidInput(f"{ref!r} is not an incident reference; write it like INC-12.")
    return int(match.group(1))


def _with_details(stmt):  # type: ignore[no-untyped-def]
    return stmt.options(selectinload(Incident.roles), selectinload(Incident.updates), selectinload(Incident.followups))


def get_incident(session: Session, ref: str | int, *, for_update: bool = False) -> Incident:
    number = ref if isinstance(ref, int) else parse_ref(ref)
    return _one(session, Incident.number == number, for_update, f"There is no incident INC-{number}.")


def get_by_id(session: Session, incident_id: int, *, for_update: bool = False) -> Incident:
    return _one(session, Incident.id == incident_id, for_update, f"There is no incident with id {incident_id}.")


def _one(session: Session, where: ColumnElement[bool], for_update: bool, missing: str) -> Incident:
    stmt = _with_details(select(Incident).where(where))
    incident = session.scalar(stmt.with_for_update() if for_update else stmt)
    if incident is None:
        raise NotFound(missing)
    return incident


def incident_for_channel(session: Session, channel_id: str, *, for_update: bool = False) -> Incident | None:
    stmt = _with_details(select(Incident).where(Incident.channel_id == channel_id))
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def open_incidents(session: Session) -> Sequence[Incident]:
    stmt = _with_details(select(Incident).where(Incident.status != Status.RESOLVED.value))
    return session.scalars(stmt.order_by(Incident.number)).all()


def recently_resolved(session: Session, *, limit: int = 20) -> Sequence[Incident]:
    """The `limit` newest resolved incidents, newest first."""
    stmt = _with_details(select(Incident).where(Incident.status == Status.RESOLVED.value))
    return session.scalars(stmt.order_by(Incident.number.desc()).limit(limit)).all()


def recent_incidents(session: Session, *, limit: int = 20) -> Sequence[Incident]:
    stmt = _with_details(select(Incident).order_by(Incident.number.desc()).limit(limit))
    return session.scalars(stmt).all()
