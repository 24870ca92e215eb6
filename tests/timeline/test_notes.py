"""Notes, and notes backdated to when something happened ("at 14:05, the cache was flushed")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from incidents import service
from incidents.errors import InvalidInput
from incidents.notes import describe_when, parse_note
from incidents.queries import get_incident
from incidents.timeline_view import visible_events

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)  # 15:00 in Paris


def paris(day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=PARIS).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "when", "rest"),
    [
        ("at 14:05, the cache was flushed", paris(21, 14, 5), "the cache was flushed"),
        ("At 14:05 the cache was flushed", paris(21, 14, 5), "the cache was flushed"),
        ("14:05 - the cache was flushed", paris(21, 14, 5), "the cache was flushed"),
        ("14:05 — the cache was flushed", paris(21, 14, 5), "the cache was flushed"),
        ("14:05: the cache was flushed", paris(21, 14, 5), "the cache was flushed"),
        ("9:30 paged the DBA", paris(21, 9, 30), "paged the DBA"),
        ("at 14:05:30, flushed", paris(21, 14, 5, 30), "flushed"),
        ("at 2:05pm, flushed", paris(21, 14, 5), "flushed"),
        ("at 12:10 a.m. flushed", paris(21, 0, 10), "flushed"),
        ("yesterday at 23:50, a deploy went out", paris(20, 23, 50), "a deploy went out"),
        ("Yesterday 08:00 - alerts started", paris(20, 8, 0), "alerts started"),
        ("today at 09:00, first alert", paris(21, 9, 0), "first alert"),
        ("2026-11-19 23:50 - a deploy went out", paris(19, 23, 50), "a deploy went out"),
        ("on 2026-11-19 at 23:50, a deploy went out", paris(19, 23, 50), "a deploy went out"),
    ],
)
def test_a_leading_time_dates_the_note_in_the_team_time_zone(text, when, rest):
    assert parse_note(text, now=NOW, tz=PARIS) == (when, rest)


@pytest.mark.parametrize(
    "text",
    [
        "the cache was flushed at 14:05",
        "attention: 14:05 is when it started",
        "rolled back 2026.11.21-3",
        "3.14 is not a time",
        "",
    ],
)
def test_a_note_without_a_leading_time_is_dated_now(text):
    assert parse_note(text, now=NOW, tz=PARIS) == (None, text.strip())


def test_a_bare_time_later_than_now_means_the_previous_day():
    """At 00:10, "at 23:50" means ten minutes before midnight, not tonight."""
    just_after_midnight = paris(22, 0, 10)
    assert parse_note("at 23:50, deploy", now=just_after_midnight, tz=PARIS) == (paris(21, 23, 50), "deploy")


def test_a_bare_time_equal_to_now_is_today():
    assert parse_note("15:00 now", now=NOW, tz=PARIS)[0] == NOW


def test_an_explicit_today_later_than_now_stays_in_the_future_so_that_the_note_is_refused(
    sessions, change, declared, now
):
    when, text = parse_note("today at 23:00, future", now=NOW, tz=PARIS)
    assert when > NOW
    with pytest.raises(InvalidInput, match="future"):
        change(lambda s, inc: service.add_note(s, inc, text=text, author_id="U1", now=NOW, occurred_at=when))


@pytest.mark.parametrize(
    ("text", "problem"), [("at 25:00, x", "14:05"), ("at 13:05pm x", "1 to 12"), ("at 14:61, x", "14:05")]
)
def test_an_impossible_time_is_refused_with_an_example(text, problem):
    with pytest.raises(InvalidInput, match=problem):
        parse_note(text, now=NOW, tz=PARIS)


def test_a_time_with_nothing_after_it_asks_what_happened():
    with pytest.raises(InvalidInput, match="Say what happened at 14:05"):
        parse_note("at 14:05", now=NOW, tz=PARIS)


def test_an_impossible_date_is_refused():
    with pytest.raises(InvalidInput, match="not a date"):
        parse_note("2026-02-30 10:00 - x", now=NOW, tz=PARIS)


SKIPPED = "There was no 02:30 on 2026-03-29 in Europe/Paris: the clocks went forward then. Write 01:30 or 03:30"


def test_a_time_the_clocks_skipped_is_refused_not_moved_to_the_previous_day():
    """29 March 2026 in Paris: 02:00 CET jumps to 03:00 CEST, so there was no 02:30. Typed at 03:10 CEST, it meant
    this night, not the night before; which moment is unknowable, so the author is asked."""
    ten_past_three_cest = datetime(2026, 3, 29, 1, 10, tzinfo=UTC)
    with pytest.raises(InvalidInput, match=SKIPPED):
        parse_note("at 02:30, failover", now=ten_past_three_cest, tz=PARIS)
    with pytest.raises(InvalidInput, match=SKIPPED):
        parse_note("2026-03-29 02:30 - failover", now=datetime(2026, 3, 29, 12, 0, tzinfo=UTC), tz=PARIS)


def test_a_skipped_time_still_ahead_tonight_means_the_previous_day():
    quarter_to_two_cet = datetime(2026, 3, 29, 0, 45, tzinfo=UTC)
    when, _ = parse_note("at 02:30, x", now=quarter_to_two_cet, tz=PARIS)
    assert when == datetime(2026, 3, 28, 1, 30, tzinfo=UTC)


def test_a_time_the_clocks_showed_twice_is_the_most_recent_past_one():
    """25 October 2026 in Paris: 03:00 CEST goes back to 02:00 CET, so 02:35 happened twice. Typed at 02:40 CET
    it means five minutes ago, not an hour and five minutes ago."""

    def utc(hour: int, minute: int) -> datetime:
        return datetime(2026, 10, 25, hour, minute, tzinfo=UTC)

    twenty_to_three_cet = utc(1, 40)
    assert parse_note("at 02:35, x", now=twenty_to_three_cet, tz=PARIS)[0] == utc(1, 35)
    assert parse_note("today 02:35 x", now=twenty_to_three_cet, tz=PARIS)[0] == utc(1, 35)
    twenty_to_three_cest = utc(0, 40)  # the first time round: the second 02:35 is still ahead
    assert parse_note("at 02:35, x", now=twenty_to_three_cest, tz=PARIS)[0] == utc(0, 35)
    half_past_two_cet = utc(1, 30)  # 02:50 CEST was today, an hour and forty minutes ago
    assert parse_note("at 02:50, x", now=half_past_two_cet, tz=PARIS)[0] == utc(0, 50)


def test_the_reply_echoes_the_day_when_it_is_not_today():
    assert describe_when(paris(21, 14, 5), now=NOW, tz=PARIS) == "14:05"
    assert describe_when(paris(20, 23, 50), now=NOW, tz=PARIS) == "yesterday 23:50"
    assert describe_when(paris(18, 8, 0), now=NOW, tz=PARIS) == "2026-11-18 08:00"


def test_a_backdated_note_takes_its_place_in_the_timeline_and_remembers_when_it_was_written(
    sessions, change, declared, now
):
    change(lambda s, inc: service.acknowledge(s, inc, user_id="U02BOB", now=now + timedelta(minutes=10)))
    written = now + timedelta(minutes=40)
    when, text = parse_note("at 15:05, the cache was flushed", now=written, tz=PARIS)
    change(lambda s, inc: service.add_note(s, inc, text=text, author_id="U03CAROL", now=written, occurred_at=when))
    with sessions() as s:
        events = visible_events(s, get_incident(s, 1))
    assert [e.kind for e in events] == ["declared", "note", "acknowledged", "role_assigned"]
    note = events[1]
    assert (note.occurred_at, note.recorded_at, note.text) == (
        now + timedelta(minutes=5),
        written,
        "the cache was flushed",
    )
    assert note.backdated


def test_a_note_written_now_is_not_backdated(sessions, change, declared, now):
    change(lambda s, inc: service.add_note(s, inc, text="looking at the graphs", author_id="U1", now=now))
    with sessions() as s:
        [note] = [e for e in visible_events(s, get_incident(s, 1)) if e.kind == "note"]
    assert note.occurred_at == now and not note.backdated
