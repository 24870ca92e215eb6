"""Bringing the owners of affected services into an incident.

Two use cases: `request_*` asks for it (an ENGAGE_OWNERS effect, stored with the change that causes it), and
`record` puts what came of it on the timeline once the Slack adapter has invited people (OWNERS_ENGAGED: who
was brought in, for which services, by whom, and who could not be and why). Who owns what is the ownership
map's business (`incidents.owners`); inviting people is the adapter's. No Slack here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from incidents import outbox
from incidents.effects import Effect
from incidents.errors import InvalidInput, InvalidTransition
from incidents.models import Incident, Status
from incidents.queries import get_by_id
from incidents.timeline import EventKind, recorded
from incidents.timeline import record as record_event

DECLARED = "declared"  # the services picked when declaring
REQUESTED = "requested"  # someone asked later (`/incident engage`)


def request_on_declare(session: Session, incident: Incident, *, now: datetime) -> None:
    """Ask to engage the owners of the incident's services (nothing when none was named). Once per incident."""
    if not incident.services:
        return
    outbox.enqueue(
        session,
        kind=Effect.ENGAGE_OWNERS,
        key=f"engage_owners:{incident.id}:{DECLARED}",
        now=now,
        incident_id=incident.id,
        payload={"services": list(incident.services), "by": incident.reporter_id, "trigger": DECLARED},
    )


def request(
    session: Session,
    incident: Incident,
    *,
    by: str,
    now: datetime,
    service: str | None = None,
    team: str | None = None,
    whole_team: bool = False,
) -> None:
    """Ask to bring in the owners of `service`, or `team` (names as the ownership map spells them)."""
    if (service is None) == (team is None):
        raise InvalidInput("Name one service or one team to bring in.")
    if incident.status == Status.RESOLVED:
        raise InvalidTransition(f"{incident.ref} is resolved; reopen it before bringing anyone in.")
    payload: dict[str, Any] = {"by": by, "trigger": REQUESTED, "whole_team": whole_team}
    payload |= {"services": [service]} if service is not None else {"team": team}
    outbox.enqueue(
        session,
        kind=Effect.ENGAGE_OWNERS,
        key=f"engage_owners:{incident.id}:{uuid.uuid4().hex}",
        now=now,
        incident_id=incident.id,
        payload=payload,
    )


@dataclass(frozen=True)
class Missed:
    """Someone the map names who could not be brought in, and why (in plain words)."""

    contact: str
    reason: str


@dataclass(frozen=True)
class Outcome:
    """What engaging one team came to."""

    team: str
    services: tuple[str, ...] = ()  # the affected services it owns; empty when the team was asked for by name
    invited: tuple[str, ...] = ()  # Slack user ids, newly in the channel
    present: tuple[str, ...] = ()  # already in the channel
    missed: tuple[Missed, ...] = ()

    def as_data(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "services": list(self.services),
            "invited": list(self.invited),
            "present": list(self.present),
            "missed": [{"contact": m.contact, "reason": m.reason} for m in self.missed],
        }


def record(
    session: Session,
    incident_id: int,
    outcome: Outcome,
    *,
    by: str | None,
    trigger: str,
    key: str,
    now: datetime,
) -> bool:
    """Put an engagement on the timeline, once per `key`. Returns False when it was there already."""
    incident = get_by_id(session, incident_id, for_update=True)
    if recorded(session, incident, key):
        return False
    record_event(
        session,
        incident,
        EventKind.OWNERS_ENGAGED,
        "",
        now=now,
        actor_id=by,
        source_key=key,
        data=outcome.as_data() | {"trigger": trigger},
    )
    return True


def outcome_from(data: dict[str, Any]) -> Outcome:
    """The outcome an OWNERS_ENGAGED event recorded (`Outcome.as_data`), back as an Outcome."""
    return Outcome(
        team=data.get("team", ""),
        services=tuple(data.get("services") or ()),
        invited=tuple(data.get("invited") or ()),
        present=tuple(data.get("present") or ()),
        missed=tuple(Missed(m.get("contact", ""), m.get("reason", "")) for m in data.get("missed") or ()),
    )
