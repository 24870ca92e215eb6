"""The picture of one incident: what its timeline chart shows, as facts drawn from the post-mortem's data.

`picture_of(data)` turns a `PostmortemData` into an `IncidentPicture`: the phases (triage, acknowledged, mitigated,
resolved) as bands over time, the stakeholder updates as ticks, the missed update windows (the communication gaps)
as spans, and the role changes and pinned (marked) messages as points. No words: the chart (app/charts/incident.py)
writes the labels, and the JSON export (app/postmortem/render.py) keeps this data under `picture`.

An incident still open ends at the moment the data was generated (its last band is `open`); a resolved one at its
final resolution. The picture's window also covers every tick and point, so a message pinned from before the
declaration is not cut off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from incidents.postmortem import PostmortemData
from incidents.timeline import EventKind
from incidents.timeline_view import Entry

PHASES = ("triage", "acknowledged", "mitigated", "resolved")

# The event that starts each phase; a reopening goes back to acknowledged (incidents.service.reopen).
_PHASE_OF: dict[str, str] = {
    EventKind.ACKNOWLEDGED: "acknowledged",
    EventKind.MITIGATED: "mitigated",
    EventKind.RESOLVED: "resolved",
    EventKind.REOPENED: "acknowledged",
}
POINT_KINDS = (EventKind.ROLE_ASSIGNED, EventKind.ROLE_HANDOVER, EventKind.MESSAGE)


@dataclass(frozen=True)
class Band:
    """One stretch of one phase. `open`: the incident is still in it (it ends at the moment of the picture)."""

    phase: str  # triage | acknowledged | mitigated | resolved
    started_at: datetime
    ended_at: datetime
    open: bool = False


@dataclass(frozen=True)
class Tick:
    """A stakeholder update."""

    at: datetime
    author_id: str


@dataclass(frozen=True)
class MissedWindow:
    """A communication gap: the window opened at `started_at`, an update fell due at `due_at` and none came until
    `ended_at` (the next update or the resolution; the picture's end when `open`)."""

    started_at: datetime
    due_at: datetime
    ended_at: datetime
    open: bool = False


@dataclass(frozen=True)
class Point:
    """A role change or a pinned moment, pointing at its timeline event (`event_id`)."""

    kind: str  # role_assigned | role_handover | message
    at: datetime
    event_id: int
    actor_id: str | None  # who assigned the role; who wrote the message
    role: str | None = None  # role changes: the duty
    user_id: str | None = None  # role changes: who took it
    from_user_id: str | None = None  # handovers: who held it before
    link: str | None = None  # messages: the permalink
    text: str | None = None  # messages: what was written, as written


@dataclass(frozen=True)
class IncidentPicture:
    ref: str
    title: str
    severity: str
    timezone: str  # the axis shows times in this zone
    starts_at: datetime
    ends_at: datetime
    still_open: bool
    bands: tuple[Band, ...]
    ticks: tuple[Tick, ...]
    missed: tuple[MissedWindow, ...]
    points: tuple[Point, ...]

    @property
    def empty(self) -> bool:
        return not (self.bands or self.ticks or self.missed or self.points)


def picture_of(data: PostmortemData) -> IncidentPicture:
    declared = next((m.at for m in data.milestones if m.name == "declared" and m.at), None) or data.generated_at
    still_open = data.status != "resolved"
    resolved = next((m.at for m in data.milestones if m.name == "resolved" and m.at), None)
    end = data.generated_at if still_open or resolved is None else resolved
    end = max(end, declared)
    bands = _bands(data, declared, end, still_open)
    ticks = tuple(Tick(u.posted_at, u.author_id) for u in sorted(data.updates, key=lambda u: u.posted_at))
    missed = tuple(
        MissedWindow(g.started_at, g.due_at, g.ended_at or max(end, g.due_at), open=g.ended_at is None)
        for g in data.gaps
    )
    points = tuple(_point(e) for e in data.timeline if e.kind in POINT_KINDS)
    moments = [declared, end, *(t.at for t in ticks), *(p.at for p in points), *(m.ended_at for m in missed)]
    return IncidentPicture(
        ref=data.ref,
        title=data.title,
        severity=data.severity,
        timezone=data.timezone,
        starts_at=min(moments),
        ends_at=max(moments),
        still_open=still_open,
        bands=bands,
        ticks=ticks,
        missed=missed,
        points=points,
    )


def _bands(data: PostmortemData, declared: datetime, end: datetime, still_open: bool) -> tuple[Band, ...]:
    """Each phase from the event that started it to the next change; zero-length stretches (a milestone filled
    in the same instant, the final resolution) are left out."""
    changes = [(declared, "triage")]
    for entry in data.timeline:
        phase = _PHASE_OF.get(entry.kind)
        if phase is not None and declared <= entry.occurred_at <= end:
            changes.append((entry.occurred_at, phase))
    bands = []
    for i, (started, phase) in enumerate(changes):
        last = i == len(changes) - 1
        ended = end if last else changes[i + 1][0]
        if ended > started:
            bands.append(Band(phase, started, ended, open=last and still_open))
    return tuple(bands)


def _point(entry: Entry) -> Point:
    d = entry.data or {}
    if entry.kind == EventKind.MESSAGE:
        return Point(entry.kind, entry.occurred_at, entry.id, entry.actor_id, link=entry.link, text=entry.text)
    return Point(
        entry.kind,
        entry.occurred_at,
        entry.id,
        entry.actor_id,
        role=d.get("role"),
        user_id=d.get("to"),
        from_user_id=d.get("from"),
    )
