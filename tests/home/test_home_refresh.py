"""The Home is redrawn when it is opened and when something it shows changes for that person: changes are
coalesced per person within `incidents.home.DEBOUNCE` (one `views.publish` per window), only people who opened
their Home are redrawn, and a private incident's changes reach only its members' Homes."""

from __future__ import annotations

import json

from app.delivery.scheduler import ReminderScheduler
from incidents import followups
from incidents.effects import Effect
from incidents.home import DEBOUNCE, WATCH_DEBOUNCE
from incidents.queries import get_incident
from tests.home.conftest import home_text, open_home, publishes_to, section
from tests.slack.slack_harness import ALICE, BOB, CAROL, DAN, Harness

WINDOW = DEBOUNCE.total_seconds()
WATCH_WINDOW = WATCH_DEBOUNCE.total_seconds()


def in_channel(h: Harness, number: int, text: str, *, user: str = ALICE) -> None:
    result = h.command(text, user=user, channel=h.incident(number).channel_id)
    assert result.status == 200, result.text


def test_changes_within_a_window_are_published_once_when_it_closes(harness: Harness) -> None:
    h = harness
    h.declare("Checkout is failing", "SEV2")
    open_home(h, BOB)
    assert publishes_to(h, BOB) == 1 and "SEV2" in home_text(h, BOB)

    in_channel(h, 1, "sev SEV1")
    in_channel(h, 1, "ack")
    in_channel(h, 1, "mitigated")
    assert publishes_to(h, BOB) == 1  # not yet: the window is still open
    assert "SEV2" in home_text(h, BOB)

    h.later(WATCH_WINDOW)  # Bob only watches the lists: his window is the longer one
    assert publishes_to(h, BOB) == 1 + 1  # three changes, one publish
    shown = section(h, BOB, "home_open:INC-1")
    assert shown is not None
    assert "SEV1" in shown["text"]["text"] and "Mitigated" in shown["text"]["text"]
    assert f"lead <@{ALICE}>" in shown["text"]["text"]

    h.later(WINDOW * 3)
    assert publishes_to(h, BOB) == 2  # nothing changed since


def test_a_watcher_is_redrawn_at_most_once_per_five_minutes_and_the_people_concerned_within_30_seconds(
    harness: Harness,
) -> None:
    """A busy public incident would otherwise publish to everyone who opened their Home in the last day every
    30 seconds."""
    h = harness
    h.declare("Checkout is failing", "SEV2")
    in_channel(h, 1, f"role communicate <@{CAROL}|carol>")
    open_home(h, BOB)  # watches
    open_home(h, CAROL)  # communicates in INC-1
    into_window = h.clock().timestamp() % WATCH_WINDOW
    h.later(WATCH_WINDOW - into_window + 1)  # 1 s into a 5-minute window (what is pending is delivered)
    bob, carol = publishes_to(h, BOB), publishes_to(h, CAROL)
    for changes, severity in enumerate(("SEV1", "SEV2", "SEV1", "SEV2", "SEV1"), start=1):  # one every 60 s
        in_channel(h, 1, f"sev {severity}")
        h.later(WINDOW)
        assert publishes_to(h, CAROL) == carol + changes  # each change reaches her within its 30 s window
        h.later(60 - WINDOW)
    # 1 s + 5 x 60 s: the window closed just now, having held the five changes (at 1 s, 61 s, ... 241 s)
    assert publishes_to(h, BOB) == bob + 1
    assert "SEV1" in section(h, BOB, "home_open:INC-1")["text"]["text"]  # type: ignore[index]  # the last change
    h.later(WATCH_WINDOW * 2)
    assert publishes_to(h, BOB) == bob + 1  # nothing changed since


def test_a_new_incident_and_a_new_role_reach_the_homes_that_show_them(harness: Harness) -> None:
    h = harness
    open_home(h, BOB)
    assert "No open incidents." in home_text(h, BOB)
    h.declare("Checkout is failing", "SEV2")
    in_channel(h, 1, f"role communicate <@{BOB}|bob>")
    h.later(WINDOW)
    assert section(h, BOB, "home_open:INC-1") is not None
    duty = section(h, BOB, "home_duties:INC-1")
    assert duty is not None and "Communication (communicate)" in duty["text"]["text"]


def test_people_who_never_opened_their_home_are_not_published_to(harness: Harness) -> None:
    h = harness
    h.declare("Checkout is failing", "SEV2")
    in_channel(h, 1, "ack")
    in_channel(h, 1, f"role communicate <@{BOB}|bob>")
    h.later(WINDOW * 2)
    assert h.calls("views.publish") == []
    assert h.outbox(Effect.REFRESH_HOME.value) == []


def test_a_private_incident_redraws_only_its_members_homes(harness: Harness) -> None:
    h = harness
    h.declare("Payroll export leaks", "SEV3", user=CAROL, private=True)
    open_home(h, CAROL)
    open_home(h, DAN)
    assert section(h, CAROL, "home_open:INC-1") is not None
    assert "INC-1" not in home_text(h, DAN)
    before = publishes_to(h, DAN)

    in_channel(h, 1, "sev SEV1", user=CAROL)
    h.later(WINDOW)
    assert "SEV1" in section(h, CAROL, "home_open:INC-1")["text"]["text"]  # type: ignore[index]
    assert publishes_to(h, DAN) == before  # not a member: nothing of it reaches him
    assert "INC-1" not in home_text(h, DAN)

    in_channel(h, 1, f"followup Rotate the export keys <@{DAN}|dan>", user=CAROL)  # Dan becomes a member
    h.later(WINDOW)
    assert section(h, DAN, "home_open:INC-1") is not None
    assert "Rotate the export keys" in home_text(h, DAN)


def test_the_overdue_update_turns_red_when_the_reminder_falls_due(harness: Harness) -> None:
    h = harness
    h.declare("Checkout is failing", "SEV2")
    in_channel(h, 1, f"role communicate <@{BOB}|bob>")
    open_home(h, BOB)
    assert ":hourglass_flowing_sand:" in home_text(h, BOB)

    h.clock.advance(minutes=31)
    assert ReminderScheduler(h.runtime).run_once() is not None
    h.settle()
    assert ":hourglass_flowing_sand:" in home_text(h, BOB)  # coalesced: drawn when the window closes
    h.later(WINDOW)
    assert ":red_circle: *Stakeholder update overdue*" in home_text(h, BOB)


def test_closing_a_follow_up_takes_it_off_the_owners_home(harness: Harness) -> None:
    h = harness
    h.declare("Checkout is failing", "SEV2")
    in_channel(h, 1, f"followup Add an alert on queue depth <@{DAN}|dan>")
    open_home(h, DAN)
    assert "Add an alert on queue depth" in home_text(h, DAN)
    with h.runtime.sessions.begin() as session:
        incident = get_incident(session, 1)
        followups.mark_done(session, incident, followup_id=incident.followups[0].id, by=DAN, now=h.clock())
    h.later(WINDOW)
    assert "You own no open follow-up." in home_text(h, DAN)


def test_opening_the_home_publishes_at_once_and_a_retried_event_publishes_once(harness: Harness) -> None:
    h = harness
    h.declare("Checkout is failing", "SEV2")
    result = open_home(h, BOB)
    assert publishes_to(h, BOB) == 1
    event_id = json.loads(h.sent[-1][0])["event_id"]
    again = h.slack.event({}, retry_num=1, event_id=event_id)
    assert again.status == 200, result.text
    h.settle()
    assert publishes_to(h, BOB) == 1
    open_home(h, BOB)  # a second visit: drawn again
    assert publishes_to(h, BOB) == 2


def test_the_messages_tab_draws_nothing(harness: Harness) -> None:
    h = harness
    open_home(h, BOB, tab="messages")
    assert h.calls("views.publish") == []
    assert h.workspace.modals.home(BOB) is None


def test_a_home_left_days_ago_is_redrawn_only_for_what_concerns_its_person(harness: Harness) -> None:
    """Everyone's lists reach the Homes opened within a day; a person's own incidents reach theirs for two weeks
    (opening a Home redraws it anyway)."""
    h = harness
    h.declare("Checkout is failing", "SEV2")
    in_channel(h, 1, f"role communicate <@{BOB}|bob>")
    open_home(h, BOB)
    open_home(h, DAN)
    h.clock.advance(days=2)
    bob, dan = publishes_to(h, BOB), publishes_to(h, DAN)
    in_channel(h, 1, "sev SEV1")
    h.later(WINDOW)
    assert publishes_to(h, BOB) == bob + 1  # he communicates in it
    assert "SEV1" in section(h, BOB, "home_duties:INC-1")["text"]["text"]  # type: ignore[index]
    assert publishes_to(h, DAN) == dan  # not his, and he has not looked for two days
    h.clock.advance(days=13)
    in_channel(h, 1, "sev SEV2")
    h.later(WINDOW)
    assert publishes_to(h, BOB) == bob + 1  # fifteen days without opening it: no longer kept current
