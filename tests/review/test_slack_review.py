"""The post-mortem review end to end, through signed requests into the real app and the Slack double, with a
frozen clock in Europe/Paris: asked for on resolve, scheduled (command and form), the invite parsed back with
`icalendar`, rescheduled, the reminders the day before and 15 minutes before, the daily nag past the deadline,
the waiver, and the Review section of the draft."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from app.bootstrap import load_ownership
from app.delivery.scheduler import ReminderScheduler
from app.slack.ids import ReviewId
from incidents.effects import Effect
from incidents.timeline import EventKind
from tests.owners_slack.owners_helpers import MAP, PAYMENTS_PRIMARY
from tests.slack.slack_harness import ALICE, BOB, CAROL, GENERAL, Harness, blocks_text

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


@pytest.fixture
def channel(harness: Harness) -> str:
    """INC-1, led by Bob (acknowledged), Carol communicating; declared by Alice on Thursday 3 December."""
    channel = harness.declare().channel_id
    harness.command("ack", channel=channel, user=BOB)
    harness.command(f"role communicate <@{CAROL}>", channel=channel, user=BOB)
    return channel


def resolve(harness: Harness, channel: str) -> None:
    harness.command("resolve", channel=channel, user=BOB)


def tick(harness: Harness, at: datetime | None = None) -> int:
    """One run of the scheduler's review job (at `at` on the bot's clock), then deliver what it queued."""
    if at is not None:
        harness.clock.now = at
    result = ReminderScheduler(harness.runtime).review_tick()
    assert result is not None
    harness.settle()
    return result.sent


def bot_texts(harness: Harness, channel: str) -> list[str]:
    bot = harness.workspace.bot.id
    return [m.text for m in harness.workspace.messages(channel) if m.user == bot]


def invites(harness: Harness) -> list[Calendar]:
    return [Calendar.from_ical(f.content) for f in harness.workspace.files.all() if f.name.endswith(".ics")]


def vevent(calendar: Calendar):  # type: ignore[no-untyped-def]
    [event] = calendar.walk("VEVENT")
    return event


def attendees(event) -> list[str]:  # type: ignore[no-untyped-def]
    """The ATTENDEE addresses (icalendar gives one value alone, several as a list)."""
    found = event.get("ATTENDEE") or []
    return sorted(str(a) for a in (found if isinstance(found, list) else [found]))


def test_resolving_asks_the_lead_to_schedule_the_review_by_the_deadline(harness, channel):
    resolve(harness, channel)
    [asked] = [m for m in harness.workspace.messages(channel) if "schedule its post-mortem review" in m.text]
    assert f"<@{BOB}>, please schedule" in asked.text
    assert "by the end of Thursday 10 December" in asked.text, "5 working days after Thursday 3 December"
    assert "Schedule review" in blocks_text(asked.blocks)


def test_scheduling_posts_an_invite_with_the_role_holders_in_the_team_time_zone(harness, channel):
    resolve(harness, channel)
    harness.command("review tomorrow 10:00", channel=channel, user=BOB)
    assert harness.last_reply(BOB) == (
        "Post-mortem review of INC-1 set for Fri 4 Dec 2026, 10:00 (Europe/Paris); the invite is on its way to "
        "the channel."
    )
    [file] = [f for f in harness.workspace.files.all() if f.name.endswith(".ics")]
    assert file.name == "INC-1-review.ics" and file.channels == [channel]
    [calendar] = invites(harness)
    assert str(calendar["METHOD"]) == "REQUEST"
    event = vevent(calendar)
    assert event.decoded("DTSTART") == datetime(2026, 12, 4, 10, 0, tzinfo=PARIS)
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event.decoded("DTEND") == datetime(2026, 12, 4, 11, 0, tzinfo=PARIS)
    assert event.decoded("DTSTAMP") == harness.clock.now
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert int(event["SEQUENCE"]) == 0 and str(event["STATUS"]) == "CONFIRMED"
    assert "INC-1" in str(event["SUMMARY"]) and "Checkout is failing" in str(event["SUMMARY"])
    assert f"https://slack.com/app_redirect?channel={channel}" in str(event["DESCRIPTION"])
    assert str(event["ORGANIZER"]) == "mailto:bob@example.com"
    assert attendees(event) == ["mailto:carol@example.com"], "the other role holder (Bob organizes)"
    [comment] = [m for m in harness.workspace.messages(channel) if m.files == [file.id]]
    assert "is scheduled for *Fri 4 Dec 2026, 10:00 (Europe/Paris)*, 60 minutes" in comment.text
    [fact] = harness.events(kind=EventKind.REVIEW_SCHEDULED)
    assert fact.actor_id == BOB and fact.data["starts_at"] == paris(2026, 12, 4, 10).isoformat()


def test_rescheduling_keeps_the_uid_and_bumps_the_sequence(harness, channel):
    resolve(harness, channel)
    harness.command("review tomorrow 10:00", channel=channel, user=BOB)
    harness.command("review mon 15:30", channel=channel, user=CAROL)
    first, second = (vevent(c) for c in invites(harness))
    assert str(first["UID"]) == str(second["UID"])
    assert (int(first["SEQUENCE"]), int(second["SEQUENCE"])) == (0, 1)
    assert second.decoded("DTSTART") == datetime(2026, 12, 7, 15, 30, tzinfo=PARIS)
    assert str(second["ORGANIZER"]) == "mailto:bob@example.com", "the first organizer, whoever moved it"
    assert attendees(second) == ["mailto:carol@example.com"]
    assert "moved to *Mon 7 Dec 2026, 15:30 (Europe/Paris)*" in bot_texts(harness, channel)[-1]
    moved = harness.events(kind=EventKind.REVIEW_SCHEDULED)[-1]
    assert moved.data["previous_starts_at"] == paris(2026, 12, 4, 10).isoformat()
    harness.command("review mon 15:30", channel=channel, user=CAROL)
    assert harness.last_reply(CAROL).startswith("The post-mortem review of INC-1 is already at Mon 7 Dec")
    assert len(invites(harness)) == 2
    harness.command("review waive covered by the INC-0 review", channel=channel, user=CAROL)
    cancelled = vevent(invites(harness)[-1])
    assert (int(cancelled["SEQUENCE"]), str(cancelled["ORGANIZER"])) == (2, "mailto:bob@example.com")


def test_reminders_go_out_the_day_before_and_15_minutes_before_once_each(harness, channel):
    resolve(harness, channel)
    harness.command("review mon 15:30", channel=channel, user=BOB)
    assert tick(harness, paris(2026, 12, 6, 15, 29)) == 0, "not yet a day before"
    assert tick(harness, paris(2026, 12, 6, 15, 30)) == 1
    assert tick(harness, paris(2026, 12, 6, 15, 31)) == 0
    assert "review of INC-1 is within a day, on Mon 7 Dec 2026, 15:30 (Europe/Paris)" in bot_texts(harness, channel)[-1]
    assert tick(harness, paris(2026, 12, 7, 15, 15)) == 1
    assert tick(harness, paris(2026, 12, 7, 15, 16)) == 0
    assert tick(harness, paris(2026, 12, 7, 16, 0)) == 0
    assert "starts in 15 minutes, at Mon 7 Dec 2026, 15:30" in bot_texts(harness, channel)[-1]
    stages = [e.data["stage"] for e in harness.events(kind=EventKind.REVIEW_REMINDED)]
    assert stages == ["day_before", "soon"]


def test_a_reminder_of_a_time_since_moved_is_not_posted(harness, channel):
    resolve(harness, channel)
    harness.command("review mon 15:30", channel=channel, user=BOB)
    harness.clock.now = paris(2026, 12, 6, 15, 30)
    ReminderScheduler(harness.runtime).review_tick()  # queued, not delivered yet
    harness.command("review 2026-12-09 11:00", channel=channel, user=BOB, settle=False)
    harness.settle()
    assert not any("within a day, on Mon 7 Dec" in t for t in bot_texts(harness, channel))
    [moot] = harness.outbox(Effect.REVIEW_MESSAGE)[-1:]
    assert moot.result == {"skipped": "moot"}


def test_unscheduled_after_the_deadline_the_lead_is_reminded_once_each_working_day(harness, channel):
    resolve(harness, channel)
    assert tick(harness, paris(2026, 12, 10, 23, 59)) == 0, "the deadline is the end of Thursday 10 December"
    assert tick(harness, paris(2026, 12, 11, 9, 0)) == 1
    assert tick(harness, paris(2026, 12, 11, 17, 0)) == 0, "once a day"
    assert f"<@{BOB}>, the post-mortem review of INC-1 is not scheduled yet" in bot_texts(harness, channel)[-1]
    assert tick(harness, paris(2026, 12, 12, 9, 0)) == 0, "Saturday"
    assert tick(harness, paris(2026, 12, 13, 12, 0)) == 0, "Sunday"
    assert tick(harness, paris(2026, 12, 14, 9, 0)) == 1, "Monday"
    harness.command("review 2026-12-15 14:00", channel=channel, user=BOB)
    assert tick(harness, paris(2026, 12, 15, 9, 0)) == 1, "the review's own reminder, no nag"
    assert "is within a day, on Tue 15 Dec 2026, 14:00" in bot_texts(harness, channel)[-1]
    nags = [e for e in harness.events(kind=EventKind.REVIEW_REMINDED) if e.data["stage"] == "unscheduled"]
    assert [e.data["nags"] for e in nags] == [1, 2] and {e.data["lead"] for e in nags} == {BOB}


def test_a_waiver_is_recorded_with_its_reason_and_stops_the_reminders(harness, channel):
    resolve(harness, channel)
    harness.command("review waive no customer impact, the fix is upstream", channel=channel, user=BOB)
    assert harness.last_reply(BOB) == "The post-mortem review of INC-1 is waived; the reason is on the timeline."
    [waived] = harness.events(kind=EventKind.REVIEW_WAIVED)
    assert (waived.actor_id, waived.text) == (BOB, "no customer impact, the fix is upstream")
    assert bot_texts(harness, channel)[-1] == (
        f"<@{BOB}> waived the post-mortem review of INC-1: no customer impact, the fix is upstream"
    )
    assert tick(harness, paris(2026, 12, 11, 9, 0)) == 0
    harness.command("review waive again", channel=channel, user=BOB)
    assert harness.last_reply(BOB).startswith("The review of INC-1 was already waived: no customer impact")


def test_waiving_a_scheduled_review_cancels_its_calendar_event(harness, channel):
    resolve(harness, channel)
    harness.command("review mon 15:30", channel=channel, user=BOB)
    harness.command("review cancel we merged it into the INC-2 review", channel=channel, user=BOB)
    assert harness.last_reply(BOB).endswith("The calendar event is cancelled.")
    scheduled, cancelled = invites(harness)
    assert str(cancelled["METHOD"]) == "CANCEL"
    event = vevent(cancelled)
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1
    assert str(event["UID"]) == str(vevent(scheduled)["UID"])
    assert tick(harness, paris(2026, 12, 6, 15, 30)) == 0, "no reminder for a cancelled review"


def test_the_schedule_review_button_opens_the_form_and_submitting_schedules_it(harness, channel):
    resolve(harness, channel)
    [asked] = [m for m in harness.workspace.messages(channel) if "schedule its post-mortem review" in m.text]
    harness.slack.click(BOB, channel, asked.ts, ReviewId.SCHEDULE, "INC-1")
    harness.settle()
    view = harness.open_view(BOB, ReviewId.FORM)
    result = harness.submit(view.id, {ReviewId.DATE: "2026-12-08", ReviewId.TIME: "14:00"}, user=BOB)
    assert result.status == 200, result.text
    [calendar] = invites(harness)
    assert vevent(calendar).decoded("DTSTART") == datetime(2026, 12, 8, 14, 0, tzinfo=PARIS)


def test_the_form_refuses_a_time_in_the_past_in_the_form_itself(harness, channel):
    resolve(harness, channel)
    harness.command("review", channel=channel, user=BOB)
    view = harness.open_view(BOB, ReviewId.FORM)
    result = harness.submit(view.id, {ReviewId.DATE: "2026-12-01", ReviewId.TIME: "14:00"}, user=BOB)
    assert result.json["response_action"] == "errors"
    assert "in the past" in result.json["errors"][ReviewId.DATE]
    assert invites(harness) == [] and harness.events(kind=EventKind.REVIEW_SCHEDULED) == []


def test_the_form_refuses_a_date_at_the_edge_of_the_calendar(harness, channel):
    resolve(harness, channel)
    harness.command("review", channel=channel, user=BOB)
    view = harness.open_view(BOB, ReviewId.FORM)
    result = harness.submit(view.id, {ReviewId.DATE: "0001-01-01", ReviewId.TIME: "00:00"}, user=BOB)
    assert result.status == 200 and result.json["response_action"] == "errors"
    assert "too far from today" in result.json["errors"][ReviewId.DATE]
    assert invites(harness) == [] and harness.events(kind=EventKind.REVIEW_SCHEDULED) == []


def test_the_draft_has_a_review_section_once_it_is_scheduled(harness, channel):
    resolve(harness, channel)
    harness.command("review 2026-12-08 14:00", channel=channel, user=BOB)
    harness.command("postmortem", channel=channel, user=BOB)
    [draft] = [f for f in harness.workspace.files.all() if f.name.endswith(".md")]
    text = draft.content.decode()
    assert "## Post-mortem review\n\nScheduled for 2026-12-08 14:00 to 15:00 (Europe/Paris) by @" in text
    assert "Post-mortem review scheduled for 2026-12-08 13:00 UTC by @" in text, "on the timeline"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("review someday", "Give a day and a time, like"),
        ("review tomorrow", "Give a day and a time, like"),
        ("review 2026-02-30 10:00", "`2026-02-30` is not a date on the calendar."),
        ("review mon 25:00", "`25:00` is not a time of day."),
        ("review waive", "Say why there will be no review"),
    ],
)
def test_malformed_review_commands_get_the_usage(harness, channel, text, expected):
    harness.command(text, channel=channel, user=BOB)
    reply = harness.last_reply(BOB)
    assert expected in reply and "review <date and time> | review waive <reason>" in reply
    assert harness.outbox(Effect.REVIEW_INVITE) == []


def test_a_time_in_the_past_is_refused_with_the_usage(harness, channel):
    harness.command("review 2026-12-01 10:00", channel=channel, user=BOB)
    reply = harness.last_reply(BOB)
    assert reply.startswith("That time is in the past: give a time still ahead.")
    assert "Usage:" in reply
    assert harness.outbox(Effect.REVIEW_INVITE) == []


def test_a_date_at_the_edge_of_the_calendar_is_refused_with_the_usage(harness, channel):
    harness.command("review 0001-01-01 00:00", channel=channel, user=BOB)
    reply = harness.last_reply(BOB)
    assert reply.startswith("0001-01-01 00:00 is too far from today: give a time within the next year.")
    assert harness.outbox(Effect.REVIEW_INVITE) == []


def test_review_outside_an_incident_channel_says_where_it_works(harness, channel):
    harness.command("review tomorrow 10:00", channel=GENERAL, user=ALICE)
    assert "works inside an incident channel" in harness.last_reply(ALICE)


def test_the_button_naming_no_incident_says_so(harness, channel):
    resolve(harness, channel)
    [asked] = [m for m in harness.workspace.messages(channel) if "schedule its post-mortem review" in m.text]
    harness.slack.click(BOB, channel, asked.ts, ReviewId.SCHEDULE, "INC-99")
    harness.settle()
    assert harness.last_reply(BOB) == "There is no incident INC-99."


def test_the_owners_of_the_incidents_services_are_invited_too(harness, settings):
    """The first contacts of the services' owning teams (the ownership map) join the role holders."""
    harness.workspace.add_user("pat", "Pat Payments", email="pat@example.com", user_id=PAYMENTS_PRIMARY)
    harness.use_owners(load_ownership(settings.model_copy(update={"ownership_map_path": (MAP,)})))
    channel = harness.declare(services=["checkout"]).channel_id
    harness.command("ack", channel=channel, user=BOB)
    resolve(harness, channel)
    harness.command("review tomorrow 10:00", channel=channel, user=ALICE)
    event = vevent(invites(harness)[0])
    assert str(event["ORGANIZER"]) == "mailto:alice@example.com"
    assert attendees(event) == ["mailto:bob@example.com", "mailto:pat@example.com"]
    assert str(event["ORGANIZER"].params["CN"]) == "Alice Adams", "the real name in Slack"


def test_a_form_submitted_twice_schedules_once(harness, channel):
    harness.command("review", channel=channel, user=BOB)
    view = harness.open_view(BOB, ReviewId.FORM)
    values = {ReviewId.DATE: "2026-12-08", ReviewId.TIME: "14:00"}
    harness.submit(view.id, values, user=BOB)
    harness.resend_last()
    harness.settle()
    assert len(harness.events(kind=EventKind.REVIEW_SCHEDULED)) == 1 and len(invites(harness)) == 1


def test_help_explains_the_review_command(harness):
    harness.command("help review", user=ALICE)
    assert "Schedule (or move) the post-mortem review" in harness.last_reply(ALICE)
