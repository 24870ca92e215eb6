"""Metrics sent to a conversation: the weekly digest (exactly once across replicas) and the charts `/incident stats`
asks for. Both are outbox effects (Effect.DIGEST, Effect.UPLOAD_STATS) carrying the period and filters; the
handler computes the report when it sends, from the same rows.

The digest is due at DIGEST_DAY DIGEST_TIME in TIMEZONE and covers the seven days before that moment. Every
replica's scheduler asks `request_due` every minute or so; the first to insert the week's `digests` row (unique
`week`, insert-on-conflict-do-nothing) enqueues the effect in that same transaction, and everyone else's insert
does nothing. A digest whose moment passed more than CATCH_UP ago (the bot was down all that time) is not sent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from incidents import outbox
from incidents.db import dialect_insert
from incidents.effects import Effect
from incidents.models import Digest

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CATCH_UP = timedelta(hours=12)
PERIOD = timedelta(days=7)


@dataclass(frozen=True)
class Schedule:
    day: str  # monday..sunday, or off
    at: str  # HH:MM
    timezone: str
    channel: str

    @property
    def off(self) -> bool:
        return self.day == "off"


def latest_slot(schedule: Schedule, now: datetime) -> datetime | None:
    """The latest digest moment at or before `now` (aware, UTC), or None when the digest is off."""
    if schedule.off:
        return None
    tz = ZoneInfo(schedule.timezone)
    hours, minutes = (int(p) for p in schedule.at.split(":"))
    local = now.astimezone(tz)
    back = (local.weekday() - DAYS.index(schedule.day)) % 7
    day = local.date() - timedelta(days=back)
    slot = datetime.combine(day, time(hours, minutes), tzinfo=tz)
    if slot > local:
        slot = datetime.combine(day - timedelta(days=7), time(hours, minutes), tzinfo=tz)
    return slot.astimezone(now.tzinfo)


def week_key(slot: datetime, timezone: str) -> str:
    year, week, _ = slot.astimezone(ZoneInfo(timezone)).isocalendar()
    return f"{year}-W{week:02d}"


def request_due(session: Session, *, now: datetime, schedule: Schedule) -> Digest | None:
    """Enqueue this week's digest if it is due and nobody has: the new `Digest`, or None."""
    slot = latest_slot(schedule, now)
    if slot is None or now - slot > CATCH_UP:
        return None
    week = week_key(slot, schedule.timezone)
    inserted = session.execute(
        dialect_insert(session, Digest)
        .values(week=week, channel=schedule.channel, since=slot - PERIOD, until=slot, created_at=now)
        .on_conflict_do_nothing(index_elements=["week"])
        .returning(Digest.id)
    ).scalar()
    if inserted is None:
        return None
    outbox.enqueue(
        session,
        kind=Effect.DIGEST,
        key=f"digest:{week}",
        now=now,
        payload={
            "week": week,
            "channel": schedule.channel,
            "since": (slot - PERIOD).isoformat(),
            "until": slot.isoformat(),
        },
    )
    return session.get(Digest, inserted)


def request_charts(
    session: Session,
    *,
    channel_id: str,
    by: str,
    since: datetime,
    until: datetime,
    now: datetime,
    service: str | None = None,
    severity: str | None = None,
) -> None:
    """Queue the metrics charts for the conversation `/incident stats` was asked in."""
    outbox.enqueue(
        session,
        kind=Effect.UPLOAD_STATS,
        key=f"stats:{uuid.uuid4().hex}",
        now=now,
        payload={
            "channel": channel_id,
            "by": by,
            "since": since.isoformat(),
            "until": until.isoformat(),
            "service": service,
            "severity": severity,
        },
    )
