"""Snoozing: "remind me in 15 / 30 / 60 minutes" moves the due time and says so on the timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.slack.blocks.facts import event_mrkdwn
from incidents import reminders, service
from incidents.effects import Effect
from incidents.errors import InvalidInput, InvalidTransition
from incidents.queries import get_incident
from incidents.timeline import EventKind
from tests.reminders.reminder_helpers import effects, events, nags

MIN = timedelta(minutes=1)


def test_snoozing_moves_the_due_time_and_says_so_on_the_timeline(sessions, now, declare, tick, use):
    declare()
    tick(now + 30 * MIN)
    assert use(1, reminders.snooze, minutes=30, by="U03CARA", now=now + 32 * MIN) is True
    with sessions() as s:
        incident = get_incident(s, 1)
        assert incident.next_update_due_at == incident.snoozed_until == now + 62 * MIN
        assert incident.next_reminder_at == now + 62 * MIN
        assert incident.reminder_stage == 0
    [snoozed] = events(sessions, EventKind.REMINDER_SNOOZED)
    assert snoozed.actor_id == "U03CARA" and "30 minutes" in event_mrkdwn(snoozed, ref="INC-1")
    assert snoozed.data["was_due_at"] == (now + 30 * MIN).isoformat()


def test_snoozing_refreshes_the_card(sessions, now, declare, use):
    declare()
    assert effects(sessions, Effect.REFRESH_CARD) == []
    use(1, reminders.snooze, minutes=60, by="U03CARA", now=now + 1 * MIN)
    assert len(effects(sessions, Effect.REFRESH_CARD)) == 1


def test_a_snoozed_reminder_rings_again_when_the_snooze_ends_and_escalates_an_interval_later(
    sessions, now, declare, tick, use
):
    declare()
    tick(now + 30 * MIN)
    use(1, reminders.snooze, minutes=15, by="U03CARA", now=now + 31 * MIN)
    assert tick(now + 45 * MIN).sent == 0
    tick(now + 46 * MIN)
    assert nags(sessions) == [("reminder", 1), ("reminder", 1)]
    assert tick(now + 75 * MIN).sent == 0
    tick(now + 76 * MIN)
    assert nags(sessions)[-1] == ("escalation", 2)


def test_snoozing_after_an_escalation_starts_the_window_again(sessions, now, declare, tick, use):
    declare()
    tick(now + 60 * MIN)
    use(1, reminders.snooze, minutes=60, by="U02BOB", now=now + 61 * MIN)
    tick(now + 121 * MIN)
    assert nags(sessions) == [("escalation", 2), ("reminder", 1)]


def test_snoozing_to_before_the_due_time_changes_nothing(sessions, now, declare, use):
    """A stale Snooze button clicked just after an update was posted must not bring the reminder forward."""
    declare()
    assert use(1, reminders.snooze, minutes=15, by="U02BOB", now=now + 5 * MIN) is False
    with sessions() as s:
        assert get_incident(s, 1).next_update_due_at == now + 30 * MIN
    assert events(sessions, EventKind.REMINDER_SNOOZED) == []


def test_only_15_30_or_60_minutes(sessions, now, declare, use):
    declare()
    with pytest.raises(InvalidInput, match="15, 30, 60"):
        use(1, reminders.snooze, minutes=45, by="U02BOB", now=now)


def test_a_resolved_incident_has_nothing_to_snooze(sessions, now, declare, use, process):
    declare()
    use(1, service.resolve, by="U02BOB", now=now, process=process)
    with pytest.raises(InvalidTransition, match="resolved"):
        use(1, reminders.snooze, minutes=15, by="U02BOB", now=now)


def test_posting_an_update_ends_the_snooze(sessions, now, declare, use, process):
    declare()
    use(1, reminders.snooze, minutes=60, by="U02BOB", now=now + 20 * MIN)
    use(1, service.post_status_update, text="Better", author_id="U02BOB", now=now + 25 * MIN, process=process)
    with sessions() as s:
        incident = get_incident(s, 1)
        assert incident.snoozed_until is None
        assert incident.next_update_due_at == now + 55 * MIN
