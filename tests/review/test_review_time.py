"""Working days and the meeting time as typed (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from incidents.errors import InvalidInput
from incidents.review_time import deadline, next_working_morning, parse_when

PARIS = ZoneInfo("Europe/Paris")
THURSDAY_4PM = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("2026-12-08 14:00", paris(2026, 12, 8, 14)),
        ("2026-12-08T14:00", paris(2026, 12, 8, 14)),
        ("on 2026-12-08 at 14:00", paris(2026, 12, 8, 14)),
        ("tomorrow 10:00", paris(2026, 12, 4, 10)),
        ("today at 18:30", paris(2026, 12, 3, 18, 30)),
        ("mon 15:30", paris(2026, 12, 7, 15, 30)),
        ("Friday at 9am", paris(2026, 12, 4, 9)),
        ("thu 2:30pm", paris(2026, 12, 10, 14, 30)),
        ("thu 17:00", paris(2026, 12, 3, 17)),
        ("fri 9 am", paris(2026, 12, 4, 9)),
    ],
)
def test_a_meeting_time_is_read_in_the_team_time_zone(text, meant):
    assert parse_when(text).resolve(now=THURSDAY_4PM, tz=PARIS) == meant


def test_a_weekday_whose_time_passed_today_means_next_week():
    assert parse_when("thu 15:00").resolve(now=THURSDAY_4PM, tz=PARIS) == paris(2026, 12, 10, 15)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "Give a day and a time"),
        ("soon", "Give a day and a time"),
        ("next week 10:00", "Give a day and a time"),
        ("someday 10:00", "I cannot read `someday` as a day"),
        ("2026-13-01 10:00", "is not a date on the calendar"),
        ("mon 10", "write the minutes too"),
        ("mon 13pm", "with am/pm the hour is 1 to 12"),
        ("mon 10:75", "is not a time of day"),
        ("mon noonish", "as a time of day"),
    ],
)
def test_garbage_says_what_to_write(text, says):
    with pytest.raises(InvalidInput, match=says):
        parse_when(text)


def test_a_time_the_clocks_skip_is_refused():
    with pytest.raises(InvalidInput, match="the clocks skip it"):
        parse_when("2027-03-28 02:30").resolve(now=THURSDAY_4PM, tz=PARIS)


def test_the_deadline_is_the_end_of_the_nth_working_day_after_resolve():
    assert deadline(THURSDAY_4PM, working_days=5, tz=PARIS) == paris(2026, 12, 11, 0)  # end of Thu 10 Dec
    assert deadline(THURSDAY_4PM, working_days=1, tz=PARIS) == paris(2026, 12, 5, 0)  # end of Fri 4 Dec
    assert deadline(THURSDAY_4PM, working_days=2, tz=PARIS) == paris(2026, 12, 8, 0)  # skips the weekend
    saturday = paris(2026, 12, 5, 12)
    assert deadline(saturday, working_days=1, tz=PARIS) == paris(2026, 12, 8, 0)  # Monday counts first


def test_nags_fall_at_nine_on_working_days_only():
    assert next_working_morning(paris(2026, 12, 11, 0), tz=PARIS) == paris(2026, 12, 11, 9)
    assert next_working_morning(paris(2026, 12, 11, 9), tz=PARIS) == paris(2026, 12, 14, 9), "strictly after"
    assert next_working_morning(paris(2026, 12, 12, 8), tz=PARIS) == paris(2026, 12, 14, 9)


@pytest.mark.parametrize(
    ("text", "zone"), [("9999-12-31 23:00", "America/New_York"), ("0001-01-01 00:00", "Europe/Paris")]
)
def test_a_date_at_the_edge_of_the_calendar_is_refused_in_plain_words(text, zone):
    with pytest.raises(InvalidInput, match="is too far from today: give a time within the next year"):
        parse_when(text).resolve(now=THURSDAY_4PM, tz=ZoneInfo(zone))
