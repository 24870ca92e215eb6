"""The pure decisions: which step the clock has reached, and who is nagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from incidents.models import Incident, Role, RoleAssignment, Status
from incidents.process import Process
from incidents.reminders import Target, plan, target
from incidents.schedule import next_action_at

T0 = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
PROCESS = Process()


def incident(*, stage: int = 0, due: datetime | None = T0, status: Status = Status.TRIAGE) -> Incident:
    return Incident(
        severity="SEV2", status=status.value, next_update_due_at=due, reminder_stage=stage, declared_at=T0 - 30 * MIN
    )


def test_nothing_before_the_due_time():
    assert plan(incident(), now=T0 - timedelta(seconds=1), process=PROCESS) is None


def test_a_reminder_at_the_due_time():
    step = plan(incident(), now=T0, process=PROCESS)
    assert step is not None
    assert (step.stage, step.escalate, step.new_gaps) == (1, False, 0)


def test_an_escalation_one_interval_later():
    step = plan(incident(stage=1), now=T0 + 30 * MIN, process=PROCESS)
    assert step is not None
    assert (step.stage, step.escalate, step.new_gaps, step.missed_at) == (2, True, 1, T0 + 30 * MIN)


def test_later_windows_remind_without_escalating_again():
    step = plan(incident(stage=2), now=T0 + 61 * MIN, process=PROCESS)
    assert step is not None
    assert (step.stage, step.escalate, step.new_gaps) == (3, False, 1)


def test_a_resolved_incident_is_never_due():
    assert plan(incident(status=Status.RESOLVED), now=T0 + 600 * MIN, process=PROCESS) is None
    assert next_action_at(incident(status=Status.RESOLVED), PROCESS) is None


def test_the_next_action_is_one_interval_per_stage_after_the_due_time():
    assert [next_action_at(incident(stage=k), PROCESS) for k in range(4)] == [T0 + k * 30 * MIN for k in range(4)]


def with_roles(**holders: str) -> Incident:
    inc = incident()
    inc.roles = [
        RoleAssignment(role=role, user_id=user, assigned_by=user, assigned_at=T0) for role, user in holders.items()
    ]
    return inc


def test_the_target_is_the_communicator_then_the_lead_then_the_channel():
    assert target(with_roles(communicate="UC", acknowledge="UA")) == Target("UC", Role.COMMUNICATE, False)
    assert target(with_roles(acknowledge="UA", mitigate="UM")) == Target("UA", Role.ACKNOWLEDGE, True)
    assert target(with_roles(mitigate="UM")) == Target(None, None, True)


@given(st.lists(st.integers(min_value=1, max_value=4 * 60 * 60), min_size=1, max_size=60))
def test_whatever_the_tick_times_one_message_per_window_at_most(gaps_in_seconds):
    """Ticks at arbitrary moments (downtime included): the stage is the number of windows begun, never more,
    and each tick that acts sends one message."""
    inc = incident()
    moment, messages = T0 - 5 * MIN, 0
    for seconds in gaps_in_seconds:
        moment += timedelta(seconds=seconds)
        step = plan(inc, now=moment, process=PROCESS)
        if step is not None:
            assert step.stage > inc.reminder_stage
            inc.reminder_stage = step.stage
            messages += 1
        expected = 0 if moment < T0 else (moment - T0) // (30 * MIN) + 1
        assert inc.reminder_stage == expected
        assert next_action_at(inc, PROCESS) > moment
    assert messages <= inc.reminder_stage
