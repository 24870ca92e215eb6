"""Key durations computed from the milestones: to the first acknowledgement, the first mitigation (a reopen
keeps both, see `incidents.service.reopen`) and the final resolution."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from incidents.models import Incident


@dataclass(frozen=True)
class Durations:
    to_acknowledge: timedelta | None
    to_mitigate: timedelta | None
    to_resolve: timedelta | None


def durations(incident: Incident) -> Durations:
    def since_declared(moment):  # type: ignore[no-untyped-def]
        return None if moment is None else moment - incident.declared_at

    return Durations(
        to_acknowledge=since_declared(incident.acknowledged_at),
        to_mitigate=since_declared(incident.mitigated_at),
        to_resolve=since_declared(incident.resolved_at),
    )


def humanize(delta: timedelta | None) -> str:
    """`1h 05m`, `12m 30s`, `45s`; an em dash when unknown."""
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return f"{days}d {hours}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"
