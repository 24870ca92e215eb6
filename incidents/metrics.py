"""Metrics across incidents: counts, time to acknowledge / mitigate / resolve (median, 90th percentile and their
weekly trend), stakeholder-update gaps, follow-ups. Pure functions over plain rows; the rows come from
`incidents.metrics_query.fetch` (a handful of bulk selects, never one per incident).

How incidents count (the README's "Incident metrics" section says the same):

- An incident belongs to the period in which it was declared.
- A duration runs from the declaration to the first acknowledgement, the first mitigation, the final resolution.
- A milestone that was skipped (filled in at the same instant by resolving or mitigating ahead, the
  MILESTONES_FILLED fact) is counted as skipped, never as a duration of zero.
- A milestone not reached yet (the incident is still open) is counted as open, never as zero.
- A reopened incident counts once; its time to resolve runs to its final resolution (open again: open).
- A gap is a stakeholder-update window in which an update fell due and none was posted (UPDATE_MISSED), from the
  window's start to the next update or the resolution; a gap that has not ended is counted as ongoing.
- A follow-up counts (opened, done) with its incident. It is overdue when it is not done and was opened more than
  `followup_due` ago, whenever its incident was declared (`Rows.overdue`, read apart from the period's).
- A private incident, unless `private_details` is asked for (the operator's CLI), keeps only its reference,
  severity, status and times: it counts in the totals, by severity, in the durations and the gaps, but under
  PRIVATE in the by-service and by-team counts; its title, services and follow-up texts and owners are blanked;
  and a `--service` filter never matches it (the match would tell its service).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

NO_SERVICE = "(no service)"
NO_TEAM = "(no team)"
PRIVATE = "(private)"  # the service and the team a private incident counts under, outside the operator's CLI
MILESTONES = ("acknowledge", "mitigate", "resolve")


@dataclass(slots=True)  # not frozen: ten thousand of them are built per report, and frozen init is slow
class IncidentRow:
    id: int
    number: int
    title: str
    severity: str
    services: tuple[str, ...]
    status: str
    declared_at: datetime
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    filled: frozenset[str] = frozenset()  # milestones skipped: "acknowledged", "mitigated"
    reopened: int = 0  # how many times it was reopened
    # What bounds the gaps; `incidents.metrics_query` reads them only for an incident with a miss (no one else's
    # figures need them): the stakeholder updates, the reopenings, every RESOLVED fact (one per cycle).
    updates: tuple[datetime, ...] = ()
    reopens: tuple[datetime, ...] = ()
    resolutions: tuple[datetime, ...] = ()
    misses: tuple[tuple[datetime, datetime | None], ...] = ()  # UPDATE_MISSED: (occurred_at, since)
    private: bool = False

    @property
    def ref(self) -> str:
        return f"INC-{self.number}"


@dataclass(slots=True)
class FollowUpRow:
    id: int
    incident_id: int
    text: str
    owner_id: str | None
    created_at: datetime
    done: bool
    incident_number: int | None = None  # read with the overdue ones, whose incident may be outside the period
    private: bool = False


@dataclass(frozen=True)
class Rows:
    """What the report is computed from: the incidents declared in [since, until) and their follow-ups; and the
    follow-ups still open that were opened before the overdue cutoff, of any incident (None: look for the overdue
    ones among `followups` only)."""

    since: datetime
    until: datetime
    incidents: tuple[IncidentRow, ...]
    followups: tuple[FollowUpRow, ...]
    service: str | None = None
    severity: str | None = None
    overdue: tuple[FollowUpRow, ...] | None = None


@dataclass(frozen=True)
class Spread:
    """One duration across incidents: how many reached it, were skipped or are still open, median and p90."""

    measured: int
    skipped: int
    open: int
    median: timedelta | None
    p90: timedelta | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "measured": self.measured,
            "skipped": self.skipped,
            "open": self.open,
            "median_seconds": _seconds(self.median),
            "p90_seconds": _seconds(self.p90),
        }


@dataclass(frozen=True)
class Week:
    start: date  # the Monday, in the report's time zone
    incidents: int
    to_acknowledge: Spread
    to_mitigate: Spread
    to_resolve: Spread


@dataclass(frozen=True)
class Gap:
    incident_ref: str
    started_at: datetime
    ended_at: datetime | None  # None: still silent (ongoing)

    @property
    def length(self) -> timedelta | None:
        return None if self.ended_at is None else self.ended_at - self.started_at


@dataclass(frozen=True)
class GapTotals:
    gaps: int
    ongoing: int
    silent: timedelta  # the ended gaps' total length
    longest: timedelta | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "gaps": self.gaps,
            "ongoing": self.ongoing,
            "silent_seconds": _seconds(self.silent),
            "longest_seconds": _seconds(self.longest),
        }


@dataclass(frozen=True)
class Overdue:
    incident_ref: str
    text: str  # "" for a private incident's, outside the operator's CLI
    owner_id: str | None
    opened_at: datetime
    age: timedelta
    private: bool = False


@dataclass(frozen=True)
class FollowUps:
    opened: int
    done: int
    open: int
    overdue: tuple[Overdue, ...]


@dataclass(frozen=True)
class Report:
    since: datetime
    until: datetime
    timezone: str
    service: str | None
    severity: str | None
    total: int
    open: int
    resolved: int
    reopened: int
    by_severity: dict[str, int]
    by_service: dict[str, int]
    by_team: dict[str, int]
    to_acknowledge: Spread
    to_mitigate: Spread
    to_resolve: Spread
    weeks: tuple[Week, ...]
    gaps: tuple[Gap, ...]
    gaps_by_incident: dict[str, GapTotals]
    gaps_by_team: dict[str, GapTotals]
    followups: FollowUps
    incidents: tuple[IncidentRow, ...] = field(repr=False, default=())

    @property
    def gap_total(self) -> GapTotals:
        return gap_totals(self.gaps)

    @property
    def gap_minutes(self) -> list[float]:
        """The ended gaps' lengths in minutes (what the histogram draws)."""
        return [g.length.total_seconds() / 60 for g in self.gaps if g.length is not None]

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values (durations in seconds, instants in ISO 8601)."""
        return {
            "schema_version": 1,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "timezone": self.timezone,
            "filters": {"service": self.service, "severity": self.severity},
            "incidents": {
                "total": self.total,
                "open": self.open,
                "resolved": self.resolved,
                "reopened": self.reopened,
                "by_severity": self.by_severity,
                "by_service": self.by_service,
                "by_team": self.by_team,
            },
            "durations": {
                "to_acknowledge": self.to_acknowledge.as_dict(),
                "to_mitigate": self.to_mitigate.as_dict(),
                "to_resolve": self.to_resolve.as_dict(),
            },
            "weeks": [
                {
                    "week": w.start.isoformat(),
                    "incidents": w.incidents,
                    "to_acknowledge": w.to_acknowledge.as_dict(),
                    "to_mitigate": w.to_mitigate.as_dict(),
                    "to_resolve": w.to_resolve.as_dict(),
                }
                for w in self.weeks
            ],
            "update_gaps": {
                "total": self.gap_total.as_dict(),
                "by_incident": {k: v.as_dict() for k, v in self.gaps_by_incident.items()},
                "by_team": {k: v.as_dict() for k, v in self.gaps_by_team.items()},
                "minutes": self.gap_minutes,
            },
            "followups": {
                "opened": self.followups.opened,
                "done": self.followups.done,
                "open": self.followups.open,
                "overdue": [
                    {
                        "incident": o.incident_ref,
                        "text": o.text,
                        "owner_id": o.owner_id,
                        "opened_at": o.opened_at.isoformat(),
                        "age_days": o.age.days,
                        "private": o.private,
                    }
                    for o in self.followups.overdue
                ],
            },
        }


TeamOf = Callable[[str], str | None]


def _no_team(_service: str) -> str | None:
    return None


def median(values: Sequence[timedelta]) -> timedelta | None:
    """The middle value; with an even count, the mean of the two middle ones."""
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def p90(values: Sequence[timedelta]) -> timedelta | None:
    """The 90th percentile by the nearest-rank method: the smallest value with at least 90% of values at or below
    it (of 10 values, the 9th smallest; of 3, the largest)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def spread(values: Sequence[timedelta], *, skipped: int = 0, open_: int = 0) -> Spread:
    return Spread(len(values), skipped, open_, median(values), p90(values))


def milestone(row: IncidentRow, which: str) -> tuple[str, timedelta | None]:
    """("measured", duration) | ("skipped", None) | ("open", None) for acknowledge, mitigate or resolve."""
    if which == "resolve":
        if row.resolved_at is None:
            return "open", None
        return "measured", row.resolved_at - row.declared_at
    moment = row.acknowledged_at if which == "acknowledge" else row.mitigated_at
    if moment is None:
        return "open", None
    if ("acknowledged" if which == "acknowledge" else "mitigated") in row.filled:
        return "skipped", None
    return "measured", moment - row.declared_at


def spreads(rows: Iterable[IncidentRow]) -> dict[str, Spread]:
    values: dict[str, list[timedelta]] = {m: [] for m in MILESTONES}
    counts: dict[str, Counter[str]] = {m: Counter() for m in MILESTONES}
    for row in rows:
        for which in MILESTONES:
            state, value = milestone(row, which)
            counts[which][state] += 1
            if value is not None:
                values[which].append(value)
    return {m: spread(values[m], skipped=counts[m]["skipped"], open_=counts[m]["open"]) for m in MILESTONES}


def gaps_of(row: IncidentRow) -> tuple[Gap, ...]:
    """The incident's communication gaps, as the post-mortem counts them (`incidents.postmortem`): one per update
    window with an UPDATE_MISSED, from the window's start to the next update or the resolution."""
    posted = sorted(row.updates)
    reopened = sorted(row.reopens)
    resolved = sorted(row.resolutions)
    found: dict[datetime, Gap] = {}
    for occurred, since in sorted(row.misses, key=lambda m: m[0]):
        began = [row.declared_at] + [m for m in posted + reopened if m <= occurred]
        started = since or max(began)
        ends = [next((m for m in moments if m > occurred), None) for moments in (posted, resolved)]
        ended = min((m for m in ends if m is not None), default=None)
        found.setdefault(started, Gap(row.ref, started, ended))
    return tuple(found.values())


def gap_totals(gaps: Sequence[Gap]) -> GapTotals:
    lengths = [g.length for g in gaps if g.length is not None]
    return GapTotals(
        gaps=len(gaps),
        ongoing=len(gaps) - len(lengths),
        silent=sum(lengths, timedelta()),
        longest=max(lengths, default=None),
    )


def week_of(moment: datetime, tz: ZoneInfo) -> date:
    local = moment.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


def teams_of(row: IncidentRow, team_of: TeamOf) -> list[str]:
    if row.private and not row.services:  # blanked (`redact`)
        return [PRIVATE]
    teams = [team_of(s) for s in row.services]
    return list(dict.fromkeys(t or NO_TEAM for t in teams)) or [NO_TEAM]


def redact(row: IncidentRow) -> IncidentRow:
    """A private incident as a public conversation may see it: no title, no services."""
    return replace(row, title="", services=()) if row.private else row


def report(
    rows: Rows,
    *,
    now: datetime,
    timezone: str = "UTC",
    team_of: TeamOf = _no_team,
    followup_due: timedelta = timedelta(days=30),
    private_details: bool = False,
) -> Report:
    """The figures over `rows`. A private incident is blanked (see the module's rules) unless `private_details`."""
    tz = ZoneInfo(timezone)
    incidents = sorted(rows.incidents, key=lambda r: r.number)
    open_followups = rows.followups if rows.overdue is None else rows.overdue
    if not private_details:
        if rows.service:
            incidents = [r for r in incidents if not r.private]
            open_followups = tuple(f for f in open_followups if not f.private)
        incidents = [redact(r) for r in incidents]
    by_severity: Counter[str] = Counter(r.severity for r in incidents)
    by_service: Counter[str] = Counter()
    by_team: Counter[str] = Counter()
    team_rows: dict[str, list[IncidentRow]] = defaultdict(list)
    for row in incidents:
        by_service.update(row.services or ((PRIVATE if row.private else NO_SERVICE),))
        for team in teams_of(row, team_of):
            by_team[team] += 1
            team_rows[team].append(row)

    weekly: dict[date, list[IncidentRow]] = defaultdict(list)
    for row in incidents:
        weekly[week_of(row.declared_at, tz)].append(row)
    weeks = []
    if incidents:
        first, last = week_of(rows.since, tz), week_of(min(now, rows.until), tz)
        start = first
        while start <= last:
            members = weekly.get(start, [])
            s = spreads(members)
            weeks.append(Week(start, len(members), s["acknowledge"], s["mitigate"], s["resolve"]))
            start += timedelta(days=7)

    gaps_by_ref = {row.ref: gaps_of(row) for row in incidents}
    all_gaps = tuple(g for row in incidents for g in gaps_by_ref[row.ref])
    by_incident = {ref: gap_totals(g) for ref, g in gaps_by_ref.items() if g}
    by_team_gaps = {
        team: gap_totals([g for r in members for g in gaps_by_ref[r.ref]]) for team, members in team_rows.items()
    }

    refs = {row.id: row.ref for row in incidents}
    followups = [f for f in rows.followups if f.incident_id in refs]
    if rows.overdue is None:  # rows read by hand: only the period's follow-ups are known
        open_followups = tuple(f for f in open_followups if f.incident_id in refs)
    private = {row.id for row in incidents if row.private}
    overdue = tuple(
        _overdue(f, refs.get(f.incident_id), f.private or f.incident_id in private, now, private_details)
        for f in sorted(open_followups, key=lambda f: (f.created_at, f.id))
        if not f.done and now - f.created_at > followup_due
    )
    done = sum(1 for f in followups if f.done)
    overall = spreads(incidents)
    return Report(
        since=rows.since,
        until=rows.until,
        timezone=timezone,
        service=rows.service,
        severity=rows.severity,
        total=len(incidents),
        open=sum(1 for r in incidents if r.resolved_at is None),
        resolved=sum(1 for r in incidents if r.resolved_at is not None),
        reopened=sum(1 for r in incidents if r.reopened),
        by_severity=dict(sorted(by_severity.items())),
        by_service=dict(by_service.most_common()),
        by_team=dict(by_team.most_common()),
        to_acknowledge=overall["acknowledge"],
        to_mitigate=overall["mitigate"],
        to_resolve=overall["resolve"],
        weeks=tuple(weeks),
        gaps=all_gaps,
        gaps_by_incident=by_incident,
        gaps_by_team={t: v for t, v in sorted(by_team_gaps.items()) if v.gaps},
        followups=FollowUps(len(followups), done, len(followups) - done, overdue),
        incidents=tuple(incidents),
    )


def _overdue(f: FollowUpRow, ref: str | None, private: bool, now: datetime, details: bool) -> Overdue:
    hidden = private and not details
    return Overdue(
        ref or f"INC-{f.incident_number}",
        "" if hidden else f.text,
        None if hidden else f.owner_id,
        f.created_at,
        now - f.created_at,
        private,
    )


def _seconds(delta: timedelta | None) -> float | None:
    return None if delta is None else delta.total_seconds()
