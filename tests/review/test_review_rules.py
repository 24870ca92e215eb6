"""The review's rules on a real database (both backends), without Slack: when it is asked for, which reminder a
late tick sends, reopening, and what is refused. Also the invite builder on its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from app.postmortem.invite import Invite, invite_ics
from incidents import review, service
from incidents.effects import Effect
from incidents.errors import InvalidInput
from incidents.models import OutboxMessage
from incidents.process import Process
from incidents.queries import get_incident


@pytest.fixture
def resolved(sessions, now, process):  # type: ignore[no-untyped-def]
    """INC-1, led by U2, resolved at `now`."""
    with sessions.begin() as s:
        inc = service.declare(
            s, title="Checkout is failing", severity="SEV2", reporter_id="U1", now=now, process=process
        )
        service.acknowledge(s, inc, user_id="U2", now=now)
        service.resolve(s, inc, by="U2", now=now, process=process)
    return 1


def use(sessions, case, **kw):  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        return case(s, get_incident(s, 1, for_update=True), **kw)


def messages(sessions) -> list[str]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        stmt = select(OutboxMessage.payload).where(OutboxMessage.kind == Effect.REVIEW_MESSAGE.value)
        return [p["message"] for p in s.scalars(stmt.order_by(OutboxMessage.id))]


def test_no_review_is_asked_for_when_the_setting_is_zero(sessions, now):
    off = Process(review_within_working_days=0)
    with sessions.begin() as s:
        inc = service.declare(s, title="t", severity="SEV2", reporter_id="U1", now=now, process=off)
        service.resolve(s, inc, by="U1", now=now, process=off)
        assert review.review_of(s, inc) is None
    assert messages(sessions) == []


def test_a_late_tick_sends_only_the_most_urgent_reminder_and_none_once_started(sessions, now, process, resolved):
    starts = now + timedelta(days=3)
    use(sessions, review.schedule, starts_at=starts, by="U2", now=now, process=process)
    review.tick(sessions, now=starts - timedelta(minutes=5), process=process)  # the scheduler was down
    assert messages(sessions) == ["asked", "soon"]
    use(sessions, review.schedule, starts_at=starts + timedelta(days=1), by="U2", now=now, process=process)
    review.tick(sessions, now=starts + timedelta(days=2), process=process)  # down until after it started
    assert messages(sessions) == ["asked", "soon"]
    with sessions() as s:
        assert review.review_of(s, get_incident(s, 1)).next_action_at is None  # type: ignore[union-attr]


def test_a_review_scheduled_within_15_minutes_gets_no_reminder(sessions, now, process, resolved):
    use(sessions, review.schedule, starts_at=now + timedelta(minutes=10), by="U2", now=now, process=process)
    assert review.tick(sessions, now=now + timedelta(minutes=9), process=process).sent == 0


def test_reopening_pauses_the_nags_and_resolving_again_resumes_them_without_asking_twice(
    sessions, now, process, resolved
):
    use(sessions, service.reopen, by="U2", now=now + timedelta(hours=1), process=process)
    nag_day = now + timedelta(days=8)  # Friday 11 December, 16:00 in Paris: past the deadline
    assert review.tick(sessions, now=nag_day, process=process).nags == 0, "open again: no nag"
    use(sessions, service.resolve, by="U2", now=nag_day, process=process)
    assert review.tick(sessions, now=nag_day + timedelta(days=3), process=process).nags == 1  # Monday
    assert messages(sessions) == ["asked", "unscheduled"]


def test_a_review_may_be_scheduled_before_the_incident_is_resolved(sessions, now, process):
    with sessions.begin() as s:
        inc = service.declare(s, title="t", severity="SEV2", reporter_id="U1", now=now, process=process)
        review.schedule(s, inc, starts_at=now + timedelta(days=2), by="U1", now=now, process=process)
        service.resolve(s, inc, by="U1", now=now, process=process)
        assert review.review_of(s, inc).status == "scheduled"  # type: ignore[union-attr]
    assert messages(sessions) == [], "resolving does not ask for a review already scheduled"


@pytest.mark.parametrize(
    ("case", "kw", "says"),
    [
        (review.schedule, {"starts_at": "+400d"}, "more than a year away"),
        (review.schedule, {"starts_at": "-1m"}, "in the past"),
        (review.waive, {"reason": "   "}, "Say why"),
        (review.waive, {"reason": "x" * 501}, "keep it under 500"),
    ],
)
def test_what_is_refused_changes_nothing(sessions, now, process, resolved, case, kw, says):
    if "starts_at" in kw:
        offset = kw["starts_at"]
        delta = timedelta(days=int(offset[1:-1])) if offset.endswith("d") else timedelta(minutes=int(offset[1:-1]))
        kw = {"starts_at": now + delta if offset[0] == "+" else now - delta}
    with pytest.raises(InvalidInput, match=says):
        use(sessions, case, by="U2", now=now, process=process, **kw)
    with sessions() as s:
        assert review.review_of(s, get_incident(s, 1)).status == "awaiting"  # type: ignore[union-attr]
    assert messages(sessions) == ["asked"]


def test_an_invite_without_any_known_email_is_published_not_requested(now):
    invite = Invite(
        uid="review-inc-1-x@incident-bot",
        sequence=0,
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=1),
        stamp=now,
        summary="Post-mortem review: INC-1",
        description="d",
        url=None,
        timezone="UTC",
        organizer=None,
        attendees=[],
    )
    calendar = Calendar.from_ical(invite_ics(invite))
    assert str(calendar["METHOD"]) == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == now + timedelta(days=1) and "ORGANIZER" not in event
