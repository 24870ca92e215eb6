"""Follow-up actions: they belong to the incident, outlive it, and land on its timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.slack.blocks.facts import event_mrkdwn
from incidents import service
from incidents.errors import InvalidInput, NotFound
from incidents.followups import add_followup, list_followups, mark_done
from incidents.queries import get_incident
from incidents.timeline_view import visible_events


def add(change, now, text="Alert on payments-api error rate", owner="U03CAROL", number=1):
    return change(lambda s, inc: add_followup(s, inc, text=text, owner_id=owner, by="U02BOB", now=now).id, number)


def test_a_followup_is_recorded_with_its_owner_and_lands_on_the_timeline(sessions, change, declared, now):
    add(change, now + timedelta(minutes=5))
    with sessions() as s:
        inc = get_incident(s, 1)
        [followup] = list_followups(s, inc)
        assert (followup.text, followup.owner_id, followup.created_by, followup.done) == (
            "Alert on payments-api error rate",
            "U03CAROL",
            "U02BOB",
            False,
        )
        last = visible_events(s, inc)[-1]
    assert last.kind == "followup_added"
    assert event_mrkdwn(last, ref="INC-1") == "Follow-up added: Alert on payments-api error rate (owner <@U03CAROL>)"
    assert last.data == {"followup_id": followup.id, "owner_id": "U03CAROL"}


def test_a_followup_needs_no_owner(sessions, change, declared, now):
    add(change, now, owner=None)
    with sessions() as s:
        assert list_followups(s, get_incident(s, 1))[0].owner_id is None


def test_marking_a_followup_done_is_recorded_once(sessions, change, declared, now):
    followup_id = add(change, now)
    done_at = now + timedelta(days=3)
    assert change(lambda s, inc: mark_done(s, inc, followup_id=followup_id, by="U03CAROL", now=done_at)) is True
    assert change(lambda s, inc: mark_done(s, inc, followup_id=followup_id, by="U03CAROL", now=done_at)) is False
    with sessions() as s:
        inc = get_incident(s, 1)
        [followup] = list_followups(s, inc)
        assert followup.done and followup.done_at == done_at
        assert [e.kind for e in visible_events(s, inc)].count("followup_done") == 1


def test_followups_can_be_added_and_closed_after_the_incident_is_resolved(sessions, change, declared, now, process):
    change(lambda s, inc: service.resolve(s, inc, by="U1", now=now + timedelta(hours=1), process=process))
    followup_id = add(change, now + timedelta(days=1))
    assert change(lambda s, inc: mark_done(s, inc, followup_id=followup_id, by="U1", now=now + timedelta(days=2)))


def test_followups_are_listed_oldest_first(sessions, change, declared, now):
    for text in ("first", "second", "third"):
        add(change, now, text=text)
    with sessions() as s:
        assert [f.text for f in list_followups(s, get_incident(s, 1))] == ["first", "second", "third"]


def test_a_followup_of_another_incident_cannot_be_closed_from_this_one(sessions, change, declared, now, process):

    with sessions.begin() as s:
        service.declare(s, title="other", severity="SEV3", reporter_id="U1", now=now, process=process)
    other = add(change, now, number=2)
    with pytest.raises(NotFound, match="INC-1 has no follow-up"):
        change(lambda s, inc: mark_done(s, inc, followup_id=other, by="U1", now=now))


@pytest.mark.parametrize(("text", "problem"), [("   ", "Say what needs doing"), ("x" * 1001, "keep it under 1000")])
def test_an_empty_or_overlong_followup_is_refused(change, declared, now, text, problem):
    with pytest.raises(InvalidInput, match=problem):
        add(change, now, text=text)


def test_whitespace_in_a_followup_is_tidied(sessions, change, declared, now):
    add(change, now, text="  add   an\nalert  ")
    with sessions() as s:
        assert list_followups(s, get_incident(s, 1))[0].text == "add an alert"
