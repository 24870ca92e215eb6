"""The picture's data (incidents/incident_picture.py), from incidents built through the use cases with a fixed
clock: phases as bands, updates as ticks, missed update windows as spans, role changes and pins as points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incidents import capture, reminders, service
from incidents.incident_picture import Band, MissedWindow, Tick, picture_of
from incidents.postmortem import build
from incidents.queries import get_incident
from tests.timeline import timeline_scenario as scenario

T0 = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def data_of(sessions, process, *, now: datetime, timezone: str = "UTC"):
    with sessions() as s:
        return build(s, get_incident(s, 1), now=now, timezone=timezone, process=process)


def test_the_scripted_incident_is_pictured_from_its_facts(scripted):
    """Declared 14:00, acknowledged 14:04, mitigated 14:45, resolved 15:30 (UTC); updates at 14:12 and 15:15
    with a window missed in between; four role changes and two pinned messages."""
    picture = picture_of(scripted)
    assert (picture.ref, picture.timezone, picture.still_open) == ("INC-1", "Europe/Paris", False)
    assert (picture.starts_at, picture.ends_at) == (scenario.at(0), scenario.at(90))
    assert picture.bands == (
        Band("triage", scenario.at(0), scenario.at(4)),
        Band("acknowledged", scenario.at(4), scenario.at(45)),
        Band("mitigated", scenario.at(45), scenario.at(90)),
    ), "the final resolution is the picture's end, not a band"
    assert picture.ticks == (Tick(scenario.at(12), "U05ERIN"), Tick(scenario.at(75), "U01ALICE"))
    assert picture.missed == (MissedWindow(scenario.at(12), scenario.at(42), scenario.at(75)),)
    assert [(p.kind, p.at, p.role, p.user_id, p.from_user_id, p.actor_id) for p in picture.points] == [
        ("role_assigned", scenario.at(4), "acknowledge", "U02BOB", None, "U02BOB"),
        ("message", scenario.at(5.2), None, None, None, "U03CAROL"),
        ("role_assigned", scenario.at(6), "mitigate", "U03CAROL", None, "U02BOB"),
        ("message", scenario.at(8.5), None, None, None, "U04DAN"),
        ("role_assigned", scenario.at(9), "communicate", "U05ERIN", None, "U02BOB"),
        ("role_handover", scenario.at(55), "communicate", "U01ALICE", "U05ERIN", "U05ERIN"),
    ]
    timeline = {e.id: e for e in scripted.timeline}
    assert all(timeline[p.event_id].kind == p.kind for p in picture.points), "each point is its timeline event"
    assert "lunch order" not in " ".join(p.text or "" for p in picture.points), "an unpinned message is no point"


def test_an_open_incident_ends_at_now_in_its_open_phase_with_its_missed_window_still_open(
    sessions, process, declared, change
):
    change(lambda s, inc: service.acknowledge(s, inc, user_id="U02BOB", now=at(3)))
    change(
        lambda s, inc: service.post_status_update(
            s, inc, text="Looking", author_id="U02BOB", now=at(5), process=process
        )
    )
    reminders.tick(sessions, now=at(40), process=process)  # SEV2: the next update was due 30 minutes later
    reminders.tick(sessions, now=at(70), process=process)
    picture = picture_of(data_of(sessions, process, now=at(80)))
    assert picture.still_open and picture.ends_at == at(80)
    assert picture.bands == (Band("triage", at(0), at(3)), Band("acknowledged", at(3), at(80), open=True))
    [missed] = picture.missed
    assert (missed.started_at, missed.ended_at, missed.open) == (at(5), at(80), True)
    assert missed.due_at > at(5)


def test_an_incident_without_updates_has_no_ticks_but_its_bands(sessions, process, declared, change):
    change(lambda s, inc: service.resolve(s, inc, by="U01ALICE", now=at(20), process=process))
    picture = picture_of(data_of(sessions, process, now=at(60)))
    assert picture.ticks == () and picture.points == ()
    assert picture.bands == (Band("triage", at(0), at(20)),), "milestones filled at resolution add no band"
    assert not picture.empty


def test_a_very_short_incident_keeps_its_seconds(sessions, process, declared, change):
    change(lambda s, inc: service.acknowledge(s, inc, user_id="U02BOB", now=T0 + timedelta(seconds=10)))
    change(lambda s, inc: service.resolve(s, inc, by="U02BOB", now=T0 + timedelta(seconds=40), process=process))
    picture = picture_of(data_of(sessions, process, now=at(60)))
    assert picture.bands == (
        Band("triage", T0, T0 + timedelta(seconds=10)),
        Band("acknowledged", T0 + timedelta(seconds=10), T0 + timedelta(seconds=40)),
    )
    assert picture.ends_at - picture.starts_at == timedelta(seconds=40)


def test_a_reopened_incident_shows_its_resolved_stretch_and_the_cycle_after(sessions, process, declared, change):
    change(lambda s, inc: service.acknowledge(s, inc, user_id="U02BOB", now=at(2)))
    change(lambda s, inc: service.mark_mitigated(s, inc, by="U02BOB", now=at(10)))
    change(lambda s, inc: service.resolve(s, inc, by="U02BOB", now=at(20), process=process))
    change(lambda s, inc: service.reopen(s, inc, by="U02BOB", now=at(35), process=process))
    change(lambda s, inc: service.mark_mitigated(s, inc, by="U02BOB", now=at(50)))
    change(lambda s, inc: service.resolve(s, inc, by="U02BOB", now=at(60), process=process))
    picture = picture_of(data_of(sessions, process, now=at(120)))
    assert [(b.phase, b.started_at, b.ended_at) for b in picture.bands] == [
        ("triage", at(0), at(2)),
        ("acknowledged", at(2), at(10)),
        ("mitigated", at(10), at(20)),
        ("resolved", at(20), at(35)),
        ("acknowledged", at(35), at(50)),
        ("mitigated", at(50), at(60)),
    ]
    assert picture.ends_at == at(60) and not picture.still_open


def test_a_message_pinned_from_before_the_declaration_widens_the_picture(sessions, process, declared, change):
    posted = at(-15)
    change(
        lambda s, inc: capture.mark_message(
            s,
            inc,
            channel="C0INC1",
            ts=f"{posted.timestamp():.6f}",
            thread_ts=None,
            author_id="U03CAROL",
            text="first alert fired",
            permalink="https://example.slack.com/archives/C0INC1/p1",
            mark=capture.PIN,
            now=at(5),
        )
    )
    picture = picture_of(data_of(sessions, process, now=at(30)))
    [point] = picture.points
    assert (point.kind, point.at, point.text) == ("message", posted, "first alert fired")
    assert picture.starts_at == posted and picture.bands[0].started_at == at(0)
