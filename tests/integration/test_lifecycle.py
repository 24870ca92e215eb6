"""The incident lifecycle on a real database: declare, acknowledge, mitigate, resolve, reopen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.slack.blocks.facts import event_mrkdwn
from incidents import service
from incidents.durations import durations
from incidents.effects import Effect
from incidents.errors import InvalidInput, InvalidTransition
from incidents.models import Incident, OutboxMessage, Role, Status, TimelineEvent
from incidents.queries import get_incident


def declare(sessions, now, process, **kw):
    args = {"title": "Checkout is failing", "severity": "SEV2", "reporter_id": "U01ALICE"} | kw
    with sessions.begin() as s:
        return service.declare(s, now=now, process=process, **args).number


def test_declared_incidents_get_sequential_references(sessions, now, process):
    assert [declare(sessions, now, process) for _ in range(3)] == [1, 2, 3]
    with sessions() as s:
        inc = get_incident(s, "INC-2")
        assert inc.ref == "INC-2"
        assert inc.status == Status.TRIAGE
        assert inc.next_update_due_at == now + timedelta(minutes=30)


def test_declaring_records_the_event_and_asks_for_a_channel(sessions, now, process):
    declare(sessions, now, process, services=["checkout", " ", "checkout", "payments"])
    with sessions() as s:
        inc = get_incident(s, 1)
        assert inc.services == ["checkout", "payments"]
        assert [e.kind for e in inc.events] == ["declared"]
        kinds = s.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
        assert kinds == [Effect.OPEN_CHANNEL.value, Effect.ENGAGE_OWNERS.value]  # the services' owners, once it exists


def test_the_same_declare_key_declares_once(sessions, now, process):
    first = declare(sessions, now, process, declare_key="V123")
    second = declare(sessions, now, process, declare_key="V123")
    assert first == second
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Incident)) == 1


def test_unknown_severity_is_refused_and_leaves_nothing(sessions, now, process):
    with pytest.raises(InvalidInput, match="SEV1, SEV2, SEV3, SEV4"), sessions.begin() as s:
        service.declare(s, title="x", severity="SEV9", reporter_id="U1", now=now, process=process)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Incident)) == 0


def test_a_failure_mid_use_case_leaves_no_rows(sessions, now, process):
    """declare writes the incident, its event and its outbox row; a failure after that undoes all three."""
    with pytest.raises(RuntimeError), sessions.begin() as s:
        service.declare(s, title="t", severity="SEV1", reporter_id="U1", now=now, process=process)
        raise RuntimeError("the database hiccuped")
    with sessions() as s:
        for model in (Incident, TimelineEvent, OutboxMessage):
            assert s.scalar(select(func.count()).select_from(model)) == 0


def test_acknowledging_records_time_to_acknowledge_and_gives_the_lead_role(sessions, now, process):
    declare(sessions, now, process)
    with sessions.begin() as s:
        service.acknowledge(s, get_incident(s, 1), user_id="U02BOB", now=now + timedelta(minutes=4))
    with sessions() as s:
        inc = get_incident(s, 1)
        assert inc.status == Status.ACKNOWLEDGED
        assert inc.holder(Role.ACKNOWLEDGE) == "U02BOB"
        assert durations(inc).to_acknowledge == timedelta(minutes=4)


def test_resolving_an_unacknowledged_incident_fills_the_milestones_and_says_so(sessions, now, process):
    declare(sessions, now, process)
    later = now + timedelta(minutes=20)
    with sessions.begin() as s:
        service.resolve(s, get_incident(s, 1), by="U1", now=later, process=process)
    with sessions() as s:
        inc = get_incident(s, 1)
        assert (inc.acknowledged_at, inc.mitigated_at, inc.resolved_at) == (later, later, later)
        d = durations(inc)
        assert d.to_acknowledge == d.to_mitigate == d.to_resolve == timedelta(minutes=20)
        filled = [e for e in inc.events if e.kind == "milestones_filled"]
        assert filled and filled[0].data["filled"] == ["acknowledged", "mitigated"]
        assert inc.next_reminder_at is None


def test_going_backwards_is_refused(sessions, now, process):
    declare(sessions, now, process)
    with sessions.begin() as s:
        service.resolve(s, get_incident(s, 1), by="U1", now=now, process=process)
    with pytest.raises(InvalidTransition, match="Reopen it first"), sessions.begin() as s:
        service.mark_mitigated(s, get_incident(s, 1), by="U1", now=now)
    with pytest.raises(InvalidTransition, match="not resolved"), sessions.begin() as s:
        inc = get_incident(s, 1)
        service.reopen(s, inc, by="U1", now=now, process=process)
        service.reopen(s, inc, by="U1", now=now, process=process)


def test_reopening_restarts_the_update_clock(sessions, now, process):
    declare(sessions, now, process)
    with sessions.begin() as s:
        service.resolve(s, get_incident(s, 1), by="U1", now=now, process=process)
    later = now + timedelta(hours=1)
    with sessions.begin() as s:
        service.reopen(s, get_incident(s, 1), by="U1", now=later, process=process)
    with sessions() as s:
        inc = get_incident(s, 1)
        assert inc.status == Status.ACKNOWLEDGED and inc.resolved_at is None
        assert inc.next_reminder_at == later + timedelta(minutes=30)


def test_reopening_keeps_the_first_milestones_and_resolving_again_claims_no_skip(sessions, now, process):
    """Milestones are firsts: time to mitigate is until service was first restored, time to resolve until the
    final resolution; the reopen and the second mitigation are on the timeline, and nothing is 'skipped'."""
    minutes = lambda n: now + timedelta(minutes=n)  # noqa: E731
    declare(sessions, now, process)
    with sessions.begin() as s:
        service.acknowledge(s, get_incident(s, 1), user_id="U1", now=minutes(5))
        service.mark_mitigated(s, get_incident(s, 1), by="U1", now=minutes(20))
        service.resolve(s, get_incident(s, 1), by="U1", now=minutes(30), process=process)
    with sessions.begin() as s:
        service.reopen(s, get_incident(s, 1), by="U1", now=minutes(60), process=process)
    with sessions() as s:
        inc = get_incident(s, 1)
        assert (inc.status, inc.mitigated_at, inc.resolved_at) == (Status.ACKNOWLEDGED, minutes(20), None)
    with sessions.begin() as s:
        assert service.mark_mitigated(s, get_incident(s, 1), by="U1", now=minutes(80)) is True  # the problem was back
        assert service.mark_mitigated(s, get_incident(s, 1), by="U1", now=minutes(81)) is False
        service.resolve(s, get_incident(s, 1), by="U1", now=minutes(90), process=process)
    with sessions() as s:
        inc = get_incident(s, 1)
        d = durations(inc)
        assert (d.to_acknowledge, d.to_mitigate, d.to_resolve) == tuple(timedelta(minutes=n) for n in (5, 20, 90))
        kinds = [e.kind for e in inc.events if e.kind not in ("role_assigned",)]
        assert kinds == ["declared", "acknowledged", "mitigated", "resolved", "reopened", "mitigated", "resolved"]
        assert event_mrkdwn(inc.events[-2], ref=inc.ref) == "Mitigated again (service restored) per <@U1>"


def test_resolving_a_reopened_incident_directly_keeps_the_first_mitigation(sessions, now, process):
    declare(sessions, now, process)
    with sessions.begin() as s:
        service.mark_mitigated(s, get_incident(s, 1), by="U1", now=now + timedelta(minutes=10))
        service.resolve(s, get_incident(s, 1), by="U1", now=now + timedelta(minutes=15), process=process)
        service.reopen(s, get_incident(s, 1), by="U1", now=now + timedelta(minutes=20), process=process)
        service.resolve(s, get_incident(s, 1), by="U1", now=now + timedelta(minutes=40), process=process)
    with sessions() as s:
        inc = get_incident(s, 1)
        assert inc.mitigated_at == now + timedelta(minutes=10)
        [filled] = [e for e in inc.events if e.kind == "milestones_filled"]
        assert filled.data["filled"] == ["acknowledged"]  # by the first mitigation, not by either resolve


def test_role_handover_keeps_history(sessions, now, process):
    declare(sessions, now, process)
    with sessions.begin() as s:
        inc = get_incident(s, 1)
        service.assign_role(s, inc, role="communicate", user_id="U1", by="U1", now=now)
        service.assign_role(s, inc, role=Role.COMMUNICATE, user_id="U2", by="U3", now=now + timedelta(minutes=1))
        service.assign_role(s, inc, role=Role.MITIGATE, user_id="U2", by="U2", now=now + timedelta(minutes=2))
    with sessions() as s:
        inc = get_incident(s, 1)
        assert inc.holder(Role.COMMUNICATE) == "U2"
        assert inc.holder(Role.MITIGATE) == "U2"
        history = [(a.role, a.user_id, a.assigned_by, a.ended_at is None) for a in inc.roles]
        assert history == [
            ("communicate", "U1", "U1", False),
            ("communicate", "U2", "U3", True),
            ("mitigate", "U2", "U2", True),
        ]
        assert [e.kind for e in inc.events][-3:] == ["role_assigned", "role_handover", "role_assigned"]


def test_unknown_role_is_refused_with_the_list(sessions, now, process):
    declare(sessions, now, process)
    with (
        pytest.raises(InvalidInput, match="acknowledge, mitigate, investigate, communicate"),
        sessions.begin() as s,
    ):
        service.assign_role(s, get_incident(s, 1), role="boss", user_id="U1", by="U1", now=now)


def test_status_update_resets_the_clock_for_the_severity(sessions, now):
    from incidents.process import Process

    process = Process(interval_by_severity={"SEV1": timedelta(minutes=15)})
    declare(sessions, now, process, severity="SEV1")
    later = now + timedelta(minutes=10)
    with sessions.begin() as s:
        service.post_status_update(
            s, get_incident(s, 1), text="Rolling back", author_id="U1", now=later, process=process, eta="15:00"
        )
    with sessions() as s:
        inc = get_incident(s, 1)
        assert inc.next_update_due_at == later + timedelta(minutes=15)
        assert inc.last_update.eta == "15:00"
