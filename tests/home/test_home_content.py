"""What the Home tab shows each person: signed `app_home_opened` events into the real app, the Home as the Slack
double holds it after `views.publish`.

The cast: Alice leads INC-1 (SEV1, public) and Bob communicates in it; Carol declared and leads INC-2, a private
SEV3 incident; Dan holds no role but owns a follow-up of INC-1; INC-3 is resolved, with its post-mortem draft
uploaded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.slack.ids import HomeAction
from incidents import service
from incidents.models import Role
from incidents.timeline import EventKind
from tests.home.conftest import home_blocks, home_text, open_home, section
from tests.slack.slack_harness import ALICE, BOB, CAROL, DAN, Harness, blocks_text

MINUTE = 60


def in_channel(h: Harness, number: int, text: str, *, user: str) -> None:
    result = h.command(text, user=user, channel=h.incident(number).channel_id)
    assert result.status == 200, result.text


@pytest.fixture
def cast(harness: Harness) -> Harness:
    h = harness
    h.declare("Checkout is failing", "SEV1", user=ALICE)  # INC-1
    in_channel(h, 1, "ack", user=ALICE)
    in_channel(h, 1, f"role communicate <@{BOB}|bob>", user=ALICE)
    in_channel(h, 1, f"followup Add an alert on queue depth <@{DAN}|dan>", user=ALICE)
    h.declare("Payroll export leaks <salaries> & names", "SEV3", user=CAROL, private=True)  # INC-2
    in_channel(h, 2, "ack", user=CAROL)
    h.declare("Search is slow", "SEV4", user=ALICE)  # INC-3
    in_channel(h, 3, "resolve", user=ALICE)
    in_channel(h, 3, "postmortem", user=ALICE)
    assert h.events(3, EventKind.POSTMORTEM_UPLOADED)
    h.clock.advance(minutes=10)
    return h


def buttons(block: dict | None) -> list[dict]:
    accessory = (block or {}).get("accessory")
    return [accessory] if accessory else []


def test_the_lead_sees_her_incident_the_open_public_ones_and_the_latest_post_mortems(cast: Harness) -> None:
    h = cast
    open_home(h, ALICE)
    duty = section(h, ALICE, "home_duties:INC-1")
    assert duty is not None
    text = duty["text"]["text"]
    assert "*INC-1*" in text and "SEV1" in text and "Checkout is failing" in text
    assert "You hold: Incident lead (acknowledge)" in text
    assert "Stakeholder update" not in text and not buttons(duty)  # Bob communicates: not hers to post
    assert section(h, ALICE, "home_open:INC-1") is not None
    assert section(h, ALICE, "home_open:INC-2") is None  # private, and she is no member
    assert "Payroll" not in home_text(h, ALICE) and "INC-2" not in home_text(h, ALICE)
    assert "Open incidents (1)" in home_text(h, ALICE)
    postmortem = section(h, ALICE, "home_postmortems:INC-3")
    assert postmortem is not None and "Draft uploaded" in postmortem["text"]["text"]
    assert "You own no open follow-up." in home_text(h, ALICE)


def test_the_communicator_sees_the_update_due_from_him_then_overdue_in_red(cast: Harness) -> None:
    h = cast
    open_home(h, BOB)
    duty = section(h, BOB, "home_duties:INC-1")
    assert duty is not None
    assert "You hold: Communication (communicate)" in duty["text"]["text"]
    assert ":hourglass_flowing_sand: Stakeholder update due in 20m 00s" in duty["text"]["text"]  # SEV1: 30 min
    [button] = buttons(duty)
    assert (button["action_id"], button["value"], button["style"]) == (HomeAction.POST_UPDATE, "INC-1", "primary")
    lead = section(h, BOB, "home_open:INC-1")
    assert lead is not None and f"lead <@{ALICE}>" in lead["text"]["text"] and "open 10m 00s" in lead["text"]["text"]

    h.clock.advance(minutes=25)
    open_home(h, BOB)
    duty = section(h, BOB, "home_duties:INC-1")
    assert duty is not None
    assert ":red_circle: *Stakeholder update overdue* by 5m 00s" in duty["text"]["text"]
    assert buttons(duty)[0]["style"] == "danger"


def test_a_private_incident_shows_to_its_members_only(cast: Harness) -> None:
    h = cast
    open_home(h, CAROL)
    duty = section(h, CAROL, "home_duties:INC-2")
    assert duty is not None
    text = duty["text"]["text"]
    assert ":lock: private" in text
    assert "Payroll export leaks &lt;salaries&gt; &amp; names" in text  # user text escaped for mrkdwn
    assert "Stakeholder update due in" in text  # nobody communicates: the lead is asked
    assert section(h, CAROL, "home_open:INC-2") is not None and section(h, CAROL, "home_open:INC-1") is not None
    assert "Open incidents (2)" in home_text(h, CAROL)
    order = [b.get("block_id") for b in home_blocks(h, CAROL)]
    assert order.index("home_open:INC-1") < order.index("home_open:INC-2")  # most severe first

    open_home(h, DAN)
    assert "INC-2" not in home_text(h, DAN)


def test_someone_without_a_role_sees_his_follow_ups_and_the_open_incidents(cast: Harness) -> None:
    h = cast
    open_home(h, DAN)
    text = home_text(h, DAN)
    assert "You hold no role in an open incident." in text
    followups = section(h, DAN, "home_followups")
    assert followups is not None
    assert "*INC-1*" in followups["text"]["text"] and "Add an alert on queue depth" in followups["text"]["text"]
    assert section(h, DAN, "home_open:INC-1") is not None
    assert section(h, DAN, "home_postmortems:INC-3") is not None


def test_the_home_starts_with_a_declare_incident_button(cast: Harness) -> None:
    h = cast
    open_home(h, DAN)
    actions = section(h, DAN, "home_actions")
    assert actions is not None
    [button] = actions["elements"]
    assert (button["action_id"], button["text"]["text"], button["style"]) == (
        HomeAction.DECLARE,
        "Declare incident",
        "primary",
    )
    assert "Incidents" in blocks_text(home_blocks(h, DAN)[:1])


def test_an_empty_workspace_says_there_is_nothing_yet(harness: Harness) -> None:
    open_home(harness, DAN)
    text = home_text(harness, DAN)
    assert "No open incidents." in text and "No incident has been resolved yet." in text
    assert "Open incidents (0)" in text


def test_the_most_pressing_update_comes_first_even_among_many_incidents(harness: Harness) -> None:
    """Bob communicates in 12 open incidents; only 10 fit, and the one whose update is overdue (the oldest) is
    shown first rather than dropped for being old."""
    h = harness
    process = h.runtime.process
    with h.runtime.sessions.begin() as session:
        for n in range(12):
            at = h.clock() - timedelta(minutes=40 if n == 0 else 5)
            incident = service.declare(
                session, title=f"Incident {n}", severity="SEV2", reporter_id=ALICE, now=at, process=process
            )
            service.assign_role(session, incident, role=Role.COMMUNICATE, user_id=BOB, by=ALICE, now=at)
    open_home(h, BOB)
    duties = [b for b in home_blocks(h, BOB) if str(b.get("block_id", "")).startswith("home_duties:")]
    assert len(duties) == 10
    assert duties[0]["block_id"] == "home_duties:INC-1"
    assert ":red_circle: *Stakeholder update overdue* by 10m 00s" in duties[0]["text"]["text"]
    assert "…and 2 more open incidents where you hold a role." in home_text(h, BOB)
