"""The public view of incidents, for the status page stakeholders read outside Slack.

Only what stakeholders were told: each incident's reference, title, severity, status and milestones, and its
stakeholder updates (`status_updates`). Never the incident's summary, notes, roles or timeline, and never a
private incident: they are left out in the query itself, so no caller can forget to filter them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from incidents.models import Incident, Status


@dataclass(frozen=True)
class PublicUpdate:
    id: int
    posted_at: datetime
    text: str
    impact: str
    next_steps: str
    eta: str


@dataclass(frozen=True)
class PublicIncident:
    number: int
    title: str
    severity: str
    status: str
    declared_at: datetime
    resolved_at: datetime | None
    updated_at: datetime
    updates: tuple[PublicUpdate, ...]  # oldest first

    @property
    def ref(self) -> str:
        return f"INC-{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status != Status.RESOLVED

    @property
    def duration(self) -> timedelta | None:
        """From the declaration to the (final) resolution; None while open."""
        return None if self.resolved_at is None else self.resolved_at - self.declared_at

    @property
    def changed_at(self) -> datetime:
        """The latest change stakeholders can see: the incident's row or its newest update."""
        return max([self.updated_at, *(u.posted_at for u in self.updates)])


def public_incidents(
    session: Session, *, now: datetime, days: int, number: int | None = None
) -> Sequence[PublicIncident]:
    """The incidents that are not private and either open or resolved within `days` of `now` (only incident
    `number`, when given): the open ones first, newest first; then the resolved ones, latest resolved first."""
    since = now - timedelta(days=days)
    stmt = (
        select(Incident)
        .where(Incident.private.is_(False))
        .where(or_(Incident.status != Status.RESOLVED.value, Incident.resolved_at >= since))
        .options(selectinload(Incident.updates))
    )
    if number is not None:
        stmt = stmt.where(Incident.number == number)
    found = [_public(incident) for incident in session.scalars(stmt)]
    current = sorted((i for i in found if i.is_open), key=lambda i: i.number, reverse=True)
    past = sorted((i for i in found if not i.is_open), key=lambda i: (i.resolved_at, i.number), reverse=True)
    return [*current, *past]


def _public(incident: Incident) -> PublicIncident:
    return PublicIncident(
        number=incident.number,
        title=incident.title,
        severity=incident.severity,
        status=incident.status,
        declared_at=incident.declared_at,
        resolved_at=incident.resolved_at if incident.status == Status.RESOLVED else None,
        updated_at=incident.updated_at,
        updates=tuple(
            PublicUpdate(
                id=u.id,
                posted_at=u.posted_at,
                text=u.text,
                impact=u.impact,
                next_steps=u.next_steps,
                eta=u.eta,
            )
            for u in incident.updates
        ),
    )
