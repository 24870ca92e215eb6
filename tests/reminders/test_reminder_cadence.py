"""The reminder engine on a real database, with the clock passed in: cadence, escalation, gaps, reset, stop."""

from __future__ import annotations

from datetime import timedelta

from app.slack.blocks.facts import event_mrkdwn
from incidents import service
from incidents.effects import Effect
from incidents.models import Role
from incidents.process import Process
from incidents.queries import get_incident
from incidents.timeline import EventKind
from tests.reminders.reminder_helpers import effects, events, nags

MIN = timedelta(minutes=1)


def every_15_seconds(start, end):
    moment = start
    while moment <= end:
        yield moment
        moment += timedelta(seconds=15)


def test_no_reminder_before_the_update_is_due(sessions, now, declare, tick):
    declare()
    result = tick(now + 29 * MIN + timedelta(seconds=59))
    assert result.sent == 0 and result.examined == 0
    assert nags(sessions) == []


def test_the_communicator_is_reminded_when_the_update_falls_due(sessions, now, declare, tick, use):
    declare()
    use(1, service.assign_role, role=Role.COMMUNICATE, user_id="U03CARA", by="U01ALICE", now=now)
    use(1, service.acknowledge, user_id="U02BOB", now=now)
    result = tick(now + 30 * MIN)
    assert (result.reminders, result.escalations) == (1, 0)
    [reminder] = effects(sessions, Effect.REMINDER)
    assert reminder.payload["target_id"] == "U03CARA"
    assert reminder.payload["target_role"] == "communicate"
    assert reminder.payload["needs_communicator"] is False
    assert reminder.payload["since_update_seconds"] == 30 * 60
    assert reminder.payload["silent_since"] == "declared"
    assert reminder.payload["stage"] == 1
    assert reminder.key == f"reminder:{reminder.incident_id}:{(now + 30 * MIN).isoformat()}:1"
    [sent] = events(sessions, EventKind.REMINDER_SENT)
    assert "U03CARA" in event_mrkdwn(sent, ref="INC-1")


def test_without_a_communicator_the_lead_is_asked_to_find_one(sessions, now, declare, tick, use):
    declare()
    use(1, service.acknowledge, user_id="U02BOB", now=now)
    tick(now + 30 * MIN)
    [reminder] = effects(sessions, Effect.REMINDER)
    assert reminder.payload["target_id"] == "U02BOB"
    assert reminder.payload["target_role"] == "acknowledge"
    assert reminder.payload["needs_communicator"] is True


def test_with_nobody_in_any_role_the_channel_is_asked(sessions, now, declare, tick):
    declare()
    tick(now + 30 * MIN)
    [reminder] = effects(sessions, Effect.REMINDER)
    assert reminder.payload["target_id"] is None
    assert reminder.payload["needs_communicator"] is True
    assert "the channel" in event_mrkdwn(events(sessions, EventKind.REMINDER_SENT)[0], ref="INC-1")


def test_ticking_every_15_seconds_sends_one_reminder_per_window(sessions, now, declare, tick):
    """From declaration to one second before the escalation: exactly one reminder, whatever the tick rate."""
    declare()
    for moment in every_15_seconds(now, now + 59 * MIN):
        tick(moment)
    assert nags(sessions) == [("reminder", 1)]


def test_each_severity_keeps_its_own_interval(sessions, now, declare, tick):
    process = Process(interval_by_severity={"SEV1": timedelta(minutes=15)})
    declare(severity="SEV1", process_=process)
    declare(severity="SEV3", process_=process)
    tick(now + 15 * MIN, process_=process)
    assert [m.payload["ref"] for m in effects(sessions, Effect.REMINDER)] == ["INC-1"]
    tick(now + 30 * MIN, process_=process)
    assert [(m.kind, m.payload["ref"]) for m in effects(sessions, Effect.REMINDER, Effect.ESCALATION)] == [
        ("reminder", "INC-1"),
        ("escalation", "INC-1"),
        ("reminder", "INC-2"),
    ]


def test_posting_an_update_resets_the_clock(sessions, now, declare, tick, use, process):
    declare()
    tick(now + 30 * MIN)
    posted = now + 40 * MIN
    use(1, service.post_status_update, text="Rolled back", author_id="U03CARA", now=posted, process=process)
    tick(now + 60 * MIN)  # would have escalated without the update
    assert nags(sessions) == [("reminder", 1)]
    tick(posted + 30 * MIN)
    assert nags(sessions) == [("reminder", 1), ("reminder", 1)]
    second = effects(sessions, Effect.REMINDER)[1]
    assert second.payload["since_update_seconds"] == 30 * 60
    assert second.payload["silent_since"] == "updated"


def test_no_update_one_interval_after_it_fell_due_escalates_and_records_a_gap(sessions, now, declare, tick, use):
    declare()
    use(1, service.acknowledge, user_id="U02BOB", now=now)
    use(1, service.assign_role, role=Role.COMMUNICATE, user_id="U03CARA", by="U02BOB", now=now)
    use(1, service.assign_role, role=Role.MITIGATE, user_id="U04DAN", by="U02BOB", now=now)
    tick(now + 30 * MIN)
    result = tick(now + 60 * MIN)
    assert (result.reminders, result.escalations, result.gaps) == (0, 1, 1)
    [escalation] = effects(sessions, Effect.ESCALATION)
    assert escalation.payload["holders"] == {"acknowledge": "U02BOB", "mitigate": "U04DAN", "communicate": "U03CARA"}
    assert escalation.payload["since_update_seconds"] == 60 * 60
    assert escalation.payload["private"] is False
    [gap] = events(sessions, EventKind.UPDATE_MISSED)
    assert gap.occurred_at == now + 60 * MIN
    assert gap.data["due_at"] == (now + 30 * MIN).isoformat()
    assert "1h 00m" in event_mrkdwn(gap, ref="INC-1")
    assert len(events(sessions, EventKind.ESCALATED)) == 1


def test_each_later_window_adds_a_gap_and_one_more_reminder(sessions, now, declare, tick):
    declare()
    for moment in every_15_seconds(now, now + 120 * MIN):
        tick(moment)
    assert nags(sessions) == [("reminder", 1), ("escalation", 2), ("reminder", 3), ("reminder", 4)]
    gaps = events(sessions, EventKind.UPDATE_MISSED)
    assert [g.occurred_at for g in gaps] == [now + 60 * MIN, now + 90 * MIN, now + 120 * MIN]


def test_resolving_stops_the_reminders(sessions, now, declare, tick, use, process):
    declare()
    tick(now + 30 * MIN)
    use(1, service.resolve, by="U02BOB", now=now + 35 * MIN, process=process)
    for moment in every_15_seconds(now + 35 * MIN, now + 180 * MIN):
        tick(moment)
    assert nags(sessions) == [("reminder", 1)]


def test_reopening_starts_them_again(sessions, now, declare, tick, use, process):
    declare()
    use(1, service.resolve, by="U02BOB", now=now + 10 * MIN, process=process)
    reopened = now + 120 * MIN
    use(1, service.reopen, by="U02BOB", now=reopened, process=process)
    assert tick(reopened + 29 * MIN).sent == 0
    tick(reopened + 30 * MIN)
    [reminder] = effects(sessions, Effect.REMINDER)
    assert reminder.payload["due_at"] == (reopened + 30 * MIN).isoformat()


def test_a_long_downtime_sends_one_message_and_records_the_missed_windows_once(sessions, now, declare, tick):
    """The scheduler was down for 3 hours: the first tick after escalates once; it does not replay 720 ticks."""
    declare()
    result = tick(now + 3 * 60 * MIN + 5 * MIN)
    assert (result.reminders, result.escalations, result.gaps) == (0, 1, 1)
    assert nags(sessions) == [("escalation", 6)]
    [gap] = events(sessions, EventKind.UPDATE_MISSED)
    assert gap.data["windows"] == 5 and "5 update windows missed" in event_mrkdwn(gap, ref="INC-1")
    assert tick(now + 3 * 60 * MIN + 10 * MIN).sent == 0
    tick(now + 3 * 60 * MIN + 30 * MIN)
    assert nags(sessions) == [("escalation", 6), ("reminder", 7)]


def test_a_short_downtime_after_the_due_time_sends_the_reminder_once(sessions, now, declare, tick):
    declare()
    assert tick(now + 50 * MIN).reminders == 1
    assert tick(now + 50 * MIN).sent == 0
    assert nags(sessions) == [("reminder", 1)]


def test_a_tick_reads_only_the_due_incidents(sessions, now, declare, tick, use, process):
    for _ in range(5):
        declare()
    use(3, service.post_status_update, text="ok", author_id="U1", now=now + 10 * MIN, process=process)
    result = tick(now + 30 * MIN)
    assert result.examined == 4
    assert sorted(m.payload["ref"] for m in effects(sessions, Effect.REMINDER)) == [
        "INC-1",
        "INC-2",
        "INC-4",
        "INC-5",
    ]


def test_a_tick_works_through_every_batch(sessions, now, declare, tick):
    for _ in range(7):
        declare()
    result = tick(now + 30 * MIN, batch=3)
    assert (result.examined, result.reminders, result.batches) == (7, 7, 3)


def test_a_shorter_cadence_after_a_severity_change_counts_from_the_declaration(sessions, now, declare, tick, use):
    """Raised from SEV3 to SEV1 before any update: the first update is due 15 minutes after declaring."""
    process = Process(interval_by_severity={"SEV1": timedelta(minutes=15)})
    declare(severity="SEV3", process_=process)
    use(1, service.change_severity, severity="SEV1", by="U1", now=now + 5 * MIN, process=process)
    tick(now + 15 * MIN, process_=process)
    assert nags(sessions) == [("reminder", 1)]


def test_a_longer_cadence_after_the_reminder_reminds_again_at_the_new_due_time(sessions, now, declare, tick, use):
    process = Process(interval_by_severity={"SEV1": timedelta(minutes=15)})
    declare(severity="SEV1", process_=process)
    tick(now + 15 * MIN, process_=process)
    use(1, service.change_severity, severity="SEV3", by="U1", now=now + 20 * MIN, process=process)
    with sessions() as s:
        assert get_incident(s, 1).next_reminder_at == now + 30 * MIN
    tick(now + 30 * MIN, process_=process)
    assert nags(sessions) == [("reminder", 1), ("reminder", 1)]
    assert len({m.key for m in effects(sessions, Effect.REMINDER)}) == 2


def test_the_card_is_refreshed_when_the_reminder_state_changes(sessions, now, declare, tick):
    declare()
    before = len(effects(sessions, Effect.REFRESH_CARD))
    tick(now + 30 * MIN)
    tick(now + 60 * MIN)
    assert len(effects(sessions, Effect.REFRESH_CARD)) == before + 2


def test_a_private_incident_says_so_in_the_escalation(sessions, now, declare, tick):
    declare(private=True)
    tick(now + 60 * MIN)
    [escalation] = effects(sessions, Effect.ESCALATION)
    assert escalation.payload["private"] is True
    assert escalation.payload["ref"] == "INC-1"


def test_raising_the_severity_past_the_due_time_reminds_first_and_counts_no_missed_window(
    sessions, now, declare, tick, use
):
    """SEV3 (hourly) raised to SEV1 (every 15 minutes) 50 minutes in: under the hourly cadence nothing was late,
    so the new cadence makes the update due now: a reminder, not an escalation, and no gap."""
    process = Process(interval_by_severity={"SEV1": timedelta(minutes=15), "SEV3": timedelta(minutes=60)})
    declare(severity="SEV3", process_=process)
    raised = now + 50 * MIN
    use(1, service.change_severity, severity="SEV1", by="U1", now=raised, process=process)
    with sessions() as s:
        incident = get_incident(s, 1)
        assert (incident.next_update_due_at, incident.reminder_stage) == (raised, 0)
    result = tick(raised, process_=process)
    assert (result.reminders, result.escalations, result.gaps) == (1, 0, 0)
    assert events(sessions, EventKind.UPDATE_MISSED) == []
    tick(raised + 15 * MIN, process_=process)
    assert nags(sessions) == [("reminder", 1), ("escalation", 2)]
    [gap] = events(sessions, EventKind.UPDATE_MISSED)
    assert gap.data["windows"] == 1 and gap.occurred_at == raised + 15 * MIN


def test_raising_the_severity_of_an_overdue_incident_reminds_again_before_escalating(sessions, now, declare, tick, use):
    process = Process(interval_by_severity={"SEV1": timedelta(minutes=15), "SEV3": timedelta(minutes=60)})
    declare(severity="SEV3", process_=process)
    tick(now + 60 * MIN, process_=process)  # reminded under the hourly cadence
    raised = now + 70 * MIN
    use(1, service.change_severity, severity="SEV1", by="U1", now=raised, process=process)
    tick(raised, process_=process)
    assert nags(sessions) == [("reminder", 1), ("reminder", 1)]
    assert events(sessions, EventKind.UPDATE_MISSED) == []


def test_a_new_severity_with_the_same_interval_leaves_the_clock_alone(sessions, now, declare, tick, use, process):
    declare(severity="SEV2")
    tick(now + 30 * MIN)
    use(1, service.change_severity, severity="SEV1", by="U1", now=now + 40 * MIN, process=process)
    with sessions() as s:
        incident = get_incident(s, 1)
        assert (incident.next_update_due_at, incident.reminder_stage) == (now + 30 * MIN, 1)
    tick(now + 60 * MIN)
    assert nags(sessions) == [("reminder", 1), ("escalation", 2)]
