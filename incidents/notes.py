"""Notes written after the fact: "at 14:05, the cache was flushed" is dated 14:05, not when it was typed.

`parse_note` reads an optional leading time of day, in the team's time zone:

    at 14:05, the cache was flushed        14:05 - the cache was flushed       14:05:30 cache flushed
    at 2:05pm the cache was flushed        yesterday at 23:50, a deploy went out
    today 09:10: paged the DBA             2026-11-20 23:50 - a deploy went out

A bare time that is later than now means that time on the previous day (someone typing "at 23:50" at 00:10
means five minutes before midnight, not tonight). An explicit day ("today", a date) is taken as written, so a
future moment reaches `service.add_note`, which refuses it: a note is never silently dated in the future.

Clock changes: a time the clocks skipped (02:30 when they jump from 02:00 to 03:00) is refused, naming the two
moments it could mean; a time the clocks showed twice (02:35 when they go back from 03:00 to 02:00) is the most
recent of the two that is not in the future.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from incidents.errors import InvalidInput

_TIME = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?)?"
_DAY = r"(?:(?P<day>yesterday|today)|(?:on\s+)?(?P<date>\d{4}-\d{2}-\d{2}))"
_PREFIX = re.compile(
    rf"^\s*(?:{_DAY}\s*,?\s*)?(?P<at>at\s+)?{_TIME}(?=$|[\s,;:\-–—])(?P<sep>\s*[,;:\-–—]*\s*)",
    re.IGNORECASE,
)


def parse_note(text: str, *, now: datetime, tz: tzinfo) -> tuple[datetime | None, str]:
    """Split a leading time off a note: `(when in UTC, the rest)`, or `(None, text)` when it has none."""
    match = _PREFIX.match(text or "")
    if match is None:
        return None, (text or "").strip()
    rest = text[match.end() :].strip()
    written = match.group(0).strip().rstrip(",;:-–— ")
    if not rest:
        raise InvalidInput(f"Say what happened {written}: `{written}, the cache was flushed`.")
    clock = _time_of_day(match, written)
    local_now = now.astimezone(tz)
    if match["date"]:
        try:
            day = date.fromisoformat(match["date"])
        except ValueError:
            raise InvalidInput(f"{match['date']} is not a date; write it like 2026-11-20.") from None
    elif match["day"] and match["day"].lower() == "yesterday":
        day = local_now.date() - timedelta(days=1)
    else:
        day = local_now.date()
    moments = _instants(day, clock, tz)
    if not match["day"] and not match["date"]:
        skipped_later_today = not moments and local_now.replace(tzinfo=None) < datetime.combine(day, clock)
        if skipped_later_today or (moments and min(moments) > now):
            day -= timedelta(days=1)
            moments = _instants(day, clock, tz)
    if not moments:
        raise InvalidInput(_skipped(day, clock, tz))
    past = [m for m in moments if m <= now]
    return (max(past) if past else min(moments)), rest


def _time_of_day(match: re.Match[str], written: str) -> time:
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"] or 0)
    ampm = (match["ampm"] or "").replace(".", "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            raise InvalidInput(f"{written!r} is not a time of day; with am/pm the hour is 1 to 12.")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise InvalidInput(f"{written!r} is not a time of day; write it like 14:05.")
    return time(hour, minute, second)


def _instants(day: date, clock: time, tz: tzinfo) -> list[datetime]:
    """The UTC moments a wall-clock time names on that day in `tz`, earliest first: usually one, two in the hour
    the clocks go back (PEP 495's fold 0 and 1), none in the hour they skip going forward."""
    wall = datetime.combine(day, clock)
    moments = set()
    for fold in (0, 1):
        moment = wall.replace(tzinfo=tz, fold=fold).astimezone(UTC)
        if moment.astimezone(tz).replace(tzinfo=None) == wall:
            moments.add(moment)
    return sorted(moments)


def _skipped(day: date, clock: time, tz: tzinfo) -> str:
    """Why a skipped time is refused, with the two readings of it as the clocks showed them."""
    wall = datetime.combine(day, clock)
    shown = "%H:%M:%S" if clock.second else "%H:%M"
    before, after = (wall.replace(tzinfo=tz, fold=f).astimezone(UTC).astimezone(tz) for f in (1, 0))
    zone = getattr(tz, "key", None) or str(tz)
    return (
        f"There was no {clock.strftime(shown)} on {day.isoformat()} in {zone}: the clocks went forward then. "
        f"Write {before.strftime(shown)} or {after.strftime(shown)} instead."
    )


def describe_when(moment: datetime, *, now: datetime, tz: tzinfo) -> str:
    """How to echo a note's time back to its author: `14:05`, `yesterday 23:50`, or `2026-11-19 08:00`."""
    local, today = moment.astimezone(tz), now.astimezone(tz).date()
    if local.date() == today:
        return local.strftime("%H:%M")
    if local.date() == today - timedelta(days=1):
        return "yesterday " + local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")
