"""After a reopening, silence is counted from the reopening: in the reminders, the gaps on the timeline and the
post-mortem. A resolved stretch is never part of a communication gap."""

from __future__ import annotations

from datetime import timedelta

from app.slack.blocks.facts import event_mrkdwn
from incidents import postmortem, service
from incidents.effects import Effect
from incidents.queries import get_incident
from incidents.timeline import EventKind
from tests.reminders.reminder_helpers import effects, events

MIN = timedelta(minutes=1)
DAY = timedelta(days=1)


def test_after_a_reopening_the_reminder_counts_the_silence_from_the_reopening(
    sessions, now, declare, tick, use, process
):
    declare()
    use(1, service.post_status_update, text="Rolled back", author_id="U1", now=now + 10 * MIN, process=process)
    use(1, service.resolve, by="U1", now=now + 20 * MIN, process=process)
    reopened = now + DAY
    use(1, service.reopen, by="U1", now=reopened, process=process)
    tick(reopened + 30 * MIN)
    [reminder] = effects(sessions, Effect.REMINDER)
    assert reminder.payload["since"] == reopened.isoformat()
    assert reminder.payload["since_update_seconds"] == 30 * 60
    assert reminder.payload["silent_since"] == "reopened"


def test_after_a_reopening_the_gap_on_the_timeline_counts_from_the_reopening(
    sessions, now, declare, tick, use, process
):
    declare()
    use(1, service.post_status_update, text="Rolled back", author_id="U1", now=now + 10 * MIN, process=process)
    use(1, service.resolve, by="U1", now=now + 20 * MIN, process=process)
    reopened = now + DAY
    use(1, service.reopen, by="U1", now=reopened, process=process)
    tick(reopened + 30 * MIN)
    tick(reopened + 60 * MIN)
    [gap] = events(sessions, EventKind.UPDATE_MISSED)
    assert event_mrkdwn(gap, ref="INC-1") == "Communication gap: no stakeholder update for 1h 00m"
    assert gap.data["since"] == reopened.isoformat()
    [escalation] = effects(sessions, Effect.ESCALATION)
    assert escalation.payload["since_update_seconds"] == 60 * 60


def test_an_update_after_the_reopening_counts_as_the_last_one_again(sessions, now, declare, tick, use, process):
    declare()
    use(1, service.resolve, by="U1", now=now + 20 * MIN, process=process)
    reopened = now + DAY
    use(1, service.reopen, by="U1", now=reopened, process=process)
    posted = reopened + 5 * MIN
    use(1, service.post_status_update, text="Back again", author_id="U1", now=posted, process=process)
    tick(posted + 30 * MIN)
    [reminder] = effects(sessions, Effect.REMINDER)
    assert (reminder.payload["since"], reminder.payload["silent_since"]) == (posted.isoformat(), "updated")


def test_the_post_mortem_never_stretches_a_gap_across_a_resolved_period(sessions, now, declare, tick, use, process):
    """A gap before the resolution ends with it; the window after the reopening is a gap of its own."""
    declare()
    tick(now + 30 * MIN)
    tick(now + 60 * MIN)  # the first window is missed
    resolved = now + 70 * MIN
    use(1, service.resolve, by="U1", now=resolved, process=process)
    reopened = resolved + DAY
    use(1, service.reopen, by="U1", now=reopened, process=process)
    tick(reopened + 30 * MIN)
    tick(reopened + 60 * MIN)  # and the first one after the reopening
    posted = reopened + 75 * MIN
    use(1, service.post_status_update, text="Fixed for good", author_id="U1", now=posted, process=process)
    with sessions() as s:
        data = postmortem.build(s, get_incident(s, 1), now=posted + MIN, process=process)
    first, second = data.gaps
    assert (first.started_at, first.ended_at, first.length) == (now, resolved, 70 * MIN)
    assert (second.started_at, second.ended_at, second.length) == (reopened, posted, 75 * MIN)
    assert [event_mrkdwn(g.missed, ref=data.ref) for g in data.gaps] == [
        "Communication gap: no stakeholder update for 1h 00m"
    ] * 2
