"""Calendar arithmetic for the post-mortem review, in the team's time zone (TIMEZONE): working days, and the
meeting time a person types.

Working days are Monday to Friday. There are no public holidays: they differ by country and region, and a team
whose deadline falls on one reschedules or waives (the nag says how). The deadline to schedule the review is the
end (local midnight) of the Nth working day after the day the incident was resolved; after it, the lead is
reminded at NAG_TIME on each working day.

`parse_when` reads what follows `/incident review` (pure, before the ack), and `When.resolve` turns it into an
instant with the clock and the time zone:

    2026-12-08 14:00      2026-12-08T14:00      tomorrow 10:00      today at 16:30
    mon 15:30             friday at 9am         thu 2:30pm

A weekday is the next one whose time is still ahead (today included). A time the clocks skip (02:30 when they
jump from 02:00 to 03:00) is refused; of a time they show twice, the first is taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from incidents.errors import InvalidInput

NAG_TIME = time(9, 0)  # the lead's daily reminder to schedule the review, on working days
WEEKDAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
}  # fmt: skip
EXAMPLES = "`2026-12-08 14:00`, `tomorrow 10:00` or `mon 15:30`"

_TIME = re.compile(r"^(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?)?$", re.IGNORECASE)
_DATE = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})$")


def is_working_day(day: date) -> bool:
    return day.weekday() < 5


def deadline(resolved_at: datetime, *, working_days: int, tz: tzinfo) -> datetime:
    """The end of the `working_days`th working day after the (local) day of `resolved_at`, in UTC."""
    day = resolved_at.astimezone(tz).date()
    counted = 0
    while counted < working_days:
        day += timedelta(days=1)
        counted += is_working_day(day)
    return _local(day + timedelta(days=1), time(0), tz)


def next_working_morning(after: datetime, *, tz: tzinfo) -> datetime:
    """The first NAG_TIME of a working day strictly after `after`, in UTC."""
    day = after.astimezone(tz).date()
    while True:
        moment = _local(day, NAG_TIME, tz)
        if is_working_day(day) and moment > after:
            return moment
        day += timedelta(days=1)


def _local(day: date, at: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class When:
    """A meeting time as typed: a date, `today`/`tomorrow`, or a weekday (0 = Monday); and a time of day."""

    at: time
    on: date | None = None
    relative: str | None = None  # today | tomorrow
    weekday: int | None = None

    def resolve(self, *, now: datetime, tz: tzinfo) -> datetime:
        """The instant meant, in UTC (not checked against `now`: the use case refuses the past)."""
        today = now.astimezone(tz).date()
        if self.on is not None:
            day = self.on
        elif self.relative == "tomorrow":
            day = today + timedelta(days=1)
        elif self.relative == "today":
            day = today
        else:
            assert self.weekday is not None
            day = today + timedelta(days=(self.weekday - today.weekday()) % 7)
            if _local(day, self.at, tz) <= now:
                day += timedelta(days=7)
        naive = datetime.combine(day, self.at)
        moment = naive.replace(tzinfo=tz)
        try:
            back = moment.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        except OverflowError:  # the first or last days a datetime holds: 0001-01-01, 9999-12-31
            raise InvalidInput(
                f"{day.isoformat()} {self.at:%H:%M} is too far from today: give a time within the next year."
            ) from None
        if back != naive:
            raise InvalidInput(f"{naive:%Y-%m-%d %H:%M} does not exist in {tz}: the clocks skip it. Pick another time.")
        return moment.astimezone(UTC)


def parse_when(text: str) -> When:
    """`tomorrow 10:00` -> When(time(10), relative="tomorrow"); InvalidInput saying what to write otherwise."""
    words = [w for w in re.split(r"[\s,]+", (text or "").strip().lower()) if w]
    if words and words[0] == "on":
        words = words[1:]
    if len(words) == 1 and "t" in words[0] and _DATE.match(words[0].split("t")[0]):
        words = words[0].split("t", 1)  # 2026-12-08T14:00
    if len(words) >= 3 and words[1] == "at":
        words = [words[0], *words[2:]]
    if len(words) == 3 and words[2] in ("am", "pm", "a.m.", "p.m."):
        words = [words[0], words[1] + words[2]]  # "fri 9 am"
    if len(words) != 2:
        raise InvalidInput(f"Give a day and a time, like {EXAMPLES}.")
    day, moment = words
    at = _parse_time(moment)
    if day in ("today", "tomorrow"):
        return When(at=at, relative=day)
    if day in WEEKDAYS:
        return When(at=at, weekday=WEEKDAYS[day])
    match = _DATE.match(day)
    if match is None:
        raise InvalidInput(
            f"I cannot read `{day[:30]}` as a day: write a date (2026-12-08), today, tomorrow or mon..sun."
        )
    try:
        on = date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        raise InvalidInput(f"`{day}` is not a date on the calendar.") from None
    return When(at=at, on=on)


def _parse_time(text: str) -> time:
    match = _TIME.match(text)
    if match is None:
        raise InvalidInput(f"I cannot read `{text[:30]}` as a time of day: write it like 14:00 or 2pm.")
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    ampm = (match["ampm"] or "").replace(".", "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            raise InvalidInput(f"`{text}` is not a time: with am/pm the hour is 1 to 12.")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    elif match["minute"] is None:
        raise InvalidInput(f"`{text}` is not a time: write the minutes too (14:00), or am/pm (2pm).")
    if hour > 23 or minute > 59:
        raise InvalidInput(f"`{text}` is not a time of day.")
    return time(hour, minute)
