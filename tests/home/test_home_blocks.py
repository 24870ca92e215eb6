"""The Home tab is valid Block Kit however much there is to show (at most 100 blocks, section texts within
3,000 characters, user text escaped), and its buttons open the same forms as the slash command and the card.
Malformed `app_home_opened` events are refused at the edge with the reason."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from app.sandbox.blockkit import check_view
from app.slack.ids import Callback, DeclareField, HomeAction, UpdateField
from incidents import followups, home, service
from incidents.models import Role
from tests.home.conftest import home_blocks, open_home, publishes_to, section
from tests.slack.slack_harness import ALICE, BOB, Harness, blocks_text

ROOT_DIR = Path(__file__).resolve().parents[2]

NASTY = "<!channel> & <b>" * 20  # 320 characters of mrkdwn specials, cut to the title's 200


@pytest.fixture
def crowded(harness: Harness) -> Harness:
    """40 open incidents (Bob communicates in 15 of them, each overdue), 25 follow-ups of Bob's, 8 resolved."""
    h = harness
    process = h.runtime.process
    now = h.clock()
    with h.runtime.sessions.begin() as session:
        for n in range(48):
            incident = service.declare(
                session,
                title=(f"{n} " + NASTY)[:200],
                severity=process.severity_names[n % 4],
                reporter_id=ALICE,
                now=now - timedelta(hours=2),
                process=process,
                summary="x" * 3000,
            )
            if n < 15:
                service.assign_role(session, incident, role=Role.COMMUNICATE, user_id=BOB, by=ALICE, now=now)
            if n < 25:
                followups.add_followup(session, incident, text="y" * 1000, owner_id=BOB, by=ALICE, now=now)
            if n >= 40:
                service.resolve(session, incident, by=ALICE, now=now, process=process)
    return h


def test_a_crowded_home_is_valid_block_kit_within_slacks_limits(crowded: Harness) -> None:
    h = crowded
    open_home(h, BOB)
    assert publishes_to(h, BOB) == 1  # the Slack double validates every published view
    blocks = home_blocks(h, BOB)
    check_view({"type": "home", "blocks": blocks})
    assert len(blocks) <= 100
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        assert len(text) <= 3000, block.get("block_id")
    text = blocks_text(blocks)
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert f"…and {15 - home.DUTIES_SHOWN} more open incidents where you hold a role." in text
    assert f"…and {40 - home.OPEN_SHOWN} more: `/incident list` lists them all." in text
    assert f"…and {25 - home.FOLLOWUPS_SHOWN} more." in text
    assert sum(1 for b in blocks if str(b.get("block_id", "")).startswith("home_postmortems:")) == 5
    assert "Open incidents (40)" in text


def test_declare_incident_opens_the_declare_form(harness: Harness) -> None:
    h = harness
    open_home(h, BOB)
    home_view = h.workspace.modals.home(BOB)
    assert home_view is not None
    result = h.slack.click_in_view(BOB, home_view.id, HomeAction.DECLARE)
    assert result.status == 200, result.text
    h.settle()
    form = h.open_view(BOB, Callback.DECLARE)
    h.submit(form.id, {DeclareField.TITLE: "Login is down", DeclareField.SEVERITY: "SEV1"}, user=BOB)
    incident = h.latest_incident()
    assert (incident.title, incident.severity, incident.reporter_id) == ("Login is down", "SEV1", BOB)


def test_post_update_opens_the_update_form_of_that_incident(harness: Harness) -> None:
    h = harness
    h.declare("Checkout is failing", "SEV2")
    h.command(f"role communicate <@{BOB}|bob>", channel=h.incident(1).channel_id)
    open_home(h, BOB)
    home_view = h.workspace.modals.home(BOB)
    assert home_view is not None and section(h, BOB, "home_duties:INC-1") is not None
    result = h.slack.click_in_view(BOB, home_view.id, HomeAction.POST_UPDATE)
    assert result.status == 200, result.text
    h.settle()
    form = h.open_view(BOB, Callback.POST_UPDATE)
    h.submit(form.id, {UpdateField.TEXT: "Rolling back the deploy"}, user=BOB)
    assert h.incident(1).last_update.text == "Rolling back the deploy"


def test_post_update_for_an_incident_that_is_gone_says_so_in_a_direct_message(harness: Harness) -> None:
    h = harness
    h.declare("Checkout is failing", "SEV2")
    h.command(f"role communicate <@{BOB}|bob>", channel=h.incident(1).channel_id)
    open_home(h, BOB)
    home_view = h.workspace.modals.home(BOB)
    assert home_view is not None
    # The button as drawn, pointing at an incident this bot does not know (a Home drawn by another install).
    for block in home_view.body["blocks"]:
        if block.get("accessory", {}).get("action_id") == HomeAction.POST_UPDATE:
            block["accessory"]["value"] = "INC-99"
    h.slack.click_in_view(BOB, home_view.id, HomeAction.POST_UPDATE)
    h.settle()
    assert any("There is no incident INC-99." in (m.text or "") for m in h.dms_to(BOB))


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"type": "app_home_opened", "tab": "home"}, "event.user is missing"),
        ({"type": "app_home_opened", "user": "", "tab": "home"}, "event.user is empty"),
        ({"type": "app_home_opened", "user": {"id": BOB}, "tab": "home"}, "event.user must be str"),
        ({"type": "app_home_opened", "user": BOB}, "event.tab is missing"),
        ({"type": "app_home_opened", "user": BOB, "tab": ["home"]}, "event.tab must be str"),
    ],
)
def test_a_malformed_app_home_opened_is_refused_with_the_reason(harness: Harness, event: dict, reason: str) -> None:
    result = harness.slack.event(event)
    assert result.status == 400
    assert reason in result.text
    assert harness.calls("views.publish") == []


def test_the_manifest_enables_the_home_tab_and_subscribes_to_its_event() -> None:
    manifest = yaml.safe_load((ROOT_DIR / "manifest.yml").read_text())
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in manifest["settings"]["event_subscriptions"]["bot_events"]
