"""The incident card: what it shows, its buttons, and that it is redrawn (with the announcement) after changes."""

from __future__ import annotations

from app.slack.blocks.facts import event_mrkdwn
from app.slack.ids import CardAction, CardBlock, RoleField, TimelineAction, UpdateField
from incidents.models import Role, Status
from tests.slack.slack_harness import ALICE, BOB, CAROL, DAN, INCIDENTS_CHANNEL_ID, Callback, Harness, blocks_text


def action_ids(blocks: list[dict]) -> list[str]:
    actions = next(b for b in blocks if b.get("block_id") == CardBlock.ACTIONS)
    return [e["action_id"] for e in actions["elements"]]


def test_the_card_shows_reference_title_severity_status_roles_and_update_clock(harness: Harness) -> None:
    harness.declare("Checkout is failing", "SEV2", services="checkout, payments", impact="EU customers get 500s")
    text = blocks_text(harness.card().blocks)
    assert "INC-1: Checkout is failing" in text
    assert "*Severity*\nSEV2 — Major" in text
    assert "*Status*\n:large_orange_circle: Triage" in text
    assert "*Services*\ncheckout, payments" in text
    assert "*Impact*\nEU customers get 500s" in text
    for title in ("Incident lead", "Mitigation", "Investigation", "Communication"):
        assert f"*{title}*" in text
    assert "*Stakeholder update*\nNone yet.\nNext update due <!date^" in text
    assert action_ids(harness.card().blocks) == [
        CardAction.ACKNOWLEDGE,
        CardAction.ASSIGN_ROLES,
        CardAction.POST_UPDATE,
        CardAction.CHANGE_SEVERITY,
        CardAction.MARK_MITIGATED,
        CardAction.PAGE_OWNERS,  # the incident names services: their owning teams can be paged
        CardAction.RESOLVE,
    ]


def test_the_card_is_pinned_in_the_incident_channel(harness: Harness) -> None:
    incident = harness.declare()
    pins = harness.workspace.channel(incident.channel_id).pins
    assert [p.ts for p in pins] == [incident.card_ts]


def test_acknowledge_button_makes_the_clicker_lead_and_redraws_card_and_announcement(harness: Harness) -> None:
    harness.declare()
    harness.click(CardAction.ACKNOWLEDGE, user=BOB)
    incident = harness.incident()
    assert incident.status == Status.ACKNOWLEDGED
    assert incident.holder(Role.ACKNOWLEDGE) == BOB
    card = blocks_text(harness.card().blocks)
    assert "*Incident lead* (acknowledge)\n<@U01BOB>" in card
    assert ":large_yellow_circle: Acknowledged" in card
    assert CardAction.ACKNOWLEDGE not in action_ids(harness.card().blocks)
    assert ":large_yellow_circle: Acknowledged" in blocks_text(harness.announcement().blocks)


def test_repeated_acknowledge_clicks_change_nothing_twice(harness: Harness) -> None:
    """Clicks on the card before it is redrawn: a double click, and a second person a moment later."""
    harness.declare()
    harness.click(CardAction.ACKNOWLEDGE, user=BOB, settle=False)
    harness.click(CardAction.ACKNOWLEDGE, user=BOB, settle=False)
    harness.click(CardAction.ACKNOWLEDGE, user=CAROL, settle=False)
    harness.settle()
    assert harness.incident().holder(Role.ACKNOWLEDGE) == BOB
    assert len(harness.events(kind="acknowledged")) == 1
    assert len(harness.events(kind="role_assigned")) == 1
    assert len(harness.outbox("role_briefing")) == 1
    assert harness.last_reply(CAROL) == f"INC-1 is already acknowledged; <@{BOB}> leads it."


def test_mark_mitigated_and_resolve_buttons(harness: Harness) -> None:
    incident = harness.declare()
    harness.click(CardAction.MARK_MITIGATED, user=BOB)
    assert harness.incident().status == Status.MITIGATED
    assert CardAction.MARK_MITIGATED not in action_ids(harness.card().blocks)
    harness.click(CardAction.RESOLVE, user=BOB)
    assert harness.incident().status == Status.RESOLVED
    assert action_ids(harness.card().blocks) == [CardAction.POST_UPDATE, TimelineAction.POSTMORTEM]
    said = [m.text for m in harness.workspace.history(incident.channel_id)]
    assert f"<@{BOB}> marked INC-1 as *mitigated*: service is restored. Next: find the root cause." in said
    assert ":white_check_mark: *INC-1*" in blocks_text(harness.announcement().blocks)


def test_a_reopened_incident_can_be_mitigated_again_from_the_card(harness: Harness) -> None:
    """A reopen keeps the first mitigation as the milestone, but the problem is back: the button returns."""
    harness.declare()
    harness.click(CardAction.MARK_MITIGATED, user=BOB)
    first = harness.incident().mitigated_at
    harness.click(CardAction.RESOLVE, user=BOB)
    harness.clock.advance(minutes=10)
    harness.command("reopen", user=BOB, channel=harness.incident().channel_id)
    assert CardAction.MARK_MITIGATED in action_ids(harness.card().blocks)
    harness.clock.advance(minutes=10)
    harness.click(CardAction.MARK_MITIGATED, user=BOB)
    assert harness.incident().status == Status.MITIGATED
    assert harness.incident().mitigated_at == first
    assert (
        event_mrkdwn(harness.events(kind="mitigated")[-1], ref="INC-1")
        == f"Mitigated again (service restored) per <@{BOB}>"
    )


def test_resolve_button_asks_for_confirmation(harness: Harness) -> None:
    harness.declare()
    actions = next(b for b in harness.card().blocks if b.get("block_id") == CardBlock.ACTIONS)
    resolve = next(e for e in actions["elements"] if e["action_id"] == CardAction.RESOLVE)
    assert resolve["confirm"]["title"]["text"] == "Resolve the incident?"
    assert resolve["style"] == "danger"


def test_repeated_resolve_clicks_post_once(harness: Harness) -> None:
    incident = harness.declare()
    before = len(harness.workspace.history(incident.channel_id))
    harness.click(CardAction.RESOLVE, settle=False)
    harness.click(CardAction.RESOLVE, settle=False)
    harness.settle()
    # the resolution, and the request to schedule the post-mortem review (incidents.review), once each
    assert len(harness.workspace.history(incident.channel_id)) == before + 2
    assert len(harness.events(kind="resolved")) == 1
    assert harness.last_reply() == "INC-1 is already resolved."


def test_severity_picker_changes_the_severity(harness: Harness) -> None:
    harness.declare()
    harness.click(CardAction.CHANGE_SEVERITY, value="INC-1:SEV1", user=BOB)
    assert harness.incident().severity == "SEV1"
    assert "*Severity*\nSEV1 — Critical" in blocks_text(harness.card().blocks)
    assert "SEV1" in blocks_text(harness.announcement().blocks)


def test_assign_roles_button_opens_a_modal_with_a_person_picker_per_role(harness: Harness) -> None:
    harness.declare()
    harness.click(CardAction.ACKNOWLEDGE, user=BOB)
    harness.click(CardAction.ASSIGN_ROLES, user=CAROL)
    view = harness.open_view(CAROL, Callback.ASSIGN_ROLES)
    pickers = {b["block_id"]: b["element"] for b in view.body["blocks"] if b["type"] == "input"}
    assert list(pickers) == [f.value for f in RoleField]
    assert all(e["type"] == "users_select" for e in pickers.values())
    assert pickers[RoleField.ACKNOWLEDGE]["initial_user"] == BOB


def test_assigning_roles_in_the_modal_records_each_and_keeps_the_rest(harness: Harness) -> None:
    harness.declare()
    harness.click(CardAction.ACKNOWLEDGE, user=BOB)
    harness.click(CardAction.ASSIGN_ROLES, user=CAROL)
    view = harness.open_view(CAROL, Callback.ASSIGN_ROLES)
    result = harness.submit(view.id, {RoleField.MITIGATE: DAN, RoleField.COMMUNICATE: CAROL}, user=CAROL)
    assert result.status == 200 and not result.body.strip()  # an empty 200 closes the modal
    incident = harness.incident()
    assert incident.holders() == {
        Role.ACKNOWLEDGE: BOB,
        Role.MITIGATE: DAN,
        Role.INVESTIGATE: None,
        Role.COMMUNICATE: CAROL,
    }
    assert harness.workspace.open_views(CAROL) == []
    assert "<@U01DAN>" in blocks_text(harness.card().blocks)


def test_post_update_button_opens_the_update_modal_and_posts_everywhere(harness: Harness) -> None:
    incident = harness.declare()
    harness.click(CardAction.POST_UPDATE, user=BOB)
    view = harness.open_view(BOB, Callback.POST_UPDATE)
    harness.submit(
        view.id,
        {
            UpdateField.TEXT: "Rolled back release 142",
            UpdateField.IMPACT: "Checkout errors for 5% of EU users",
            UpdateField.NEXT_STEPS: "Watch error rates",
            UpdateField.ETA: "15:30 UTC",
        },
        user=BOB,
    )
    in_channel = [m for m in harness.workspace.history(incident.channel_id) if "Stakeholder update" in m.text]
    assert len(in_channel) == 1
    shown = blocks_text(in_channel[0].blocks)
    for part in (
        "Rolled back release 142",
        "*Impact*\nCheckout errors for 5% of EU users",
        "*Next steps*\nWatch error rates",
        "*ETA*\n15:30 UTC",
        "Posted by <@U01BOB>",
    ):
        assert part in shown
    thread = harness.workspace.replies(INCIDENTS_CHANNEL_ID, incident.announcement_ts)
    assert [m.text for m in thread[1:]] == ["Stakeholder update for INC-1: Rolled back release 142"]
    assert "Rolled back release 142" in blocks_text(harness.card().blocks)


def test_update_modal_requires_what_is_happening(harness: Harness) -> None:
    harness.declare()
    harness.click(CardAction.POST_UPDATE)
    view = harness.open_view(ALICE, Callback.POST_UPDATE)
    result = harness.submit(view.id, {UpdateField.TEXT: "   ", UpdateField.ETA: "soon"})
    assert result.json == {
        "response_action": "errors",
        "errors": {UpdateField.TEXT: "Say what is happening, in a few words."},
    }
    assert harness.incident().last_update is None


def test_a_click_on_a_card_of_an_unknown_incident_is_told_plainly(harness: Harness) -> None:
    incident = harness.declare()
    harness.slack.click(ALICE, incident.channel_id, incident.card_ts, CardAction.MARK_MITIGATED, "INC-99")
    harness.settle()
    assert harness.last_reply() == "There is no incident INC-99."
