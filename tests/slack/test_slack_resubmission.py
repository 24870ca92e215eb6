"""A form or a click counts once: Slack resending a submission, a second click on Submit, a double click on a card
button; and a form left open never undoes what others changed meanwhile."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.slack.ids import CardAction, RoleField, TimelineAction, UpdateField
from incidents.models import Role, StatusUpdate
from tests.slack.slack_harness import BOB, CAROL, DAN, INCIDENTS_CHANNEL_ID, Callback, Harness


def stakeholder_updates(harness: Harness, channel_id: str) -> list[str]:
    return [m.text for m in harness.workspace.history(channel_id) if m.text.startswith("Stakeholder update")]


def count_updates(harness: Harness) -> int:
    with harness.runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(StatusUpdate))


def test_a_resent_update_submission_posts_one_update(harness: Harness) -> None:
    incident = harness.declare()
    harness.click(CardAction.POST_UPDATE, user=BOB)
    view = harness.open_view(BOB, Callback.POST_UPDATE)
    first = harness.submit(view.id, {UpdateField.TEXT: "Rolled back release 142"}, user=BOB)
    again = harness.resend_last()  # Slack's retry, or a second click on Submit before the form closed
    harness.settle()
    assert (first.status, again.status) == (200, 200)
    assert not again.body.strip()  # the form closes as the first time
    assert count_updates(harness) == 1
    assert len(harness.events(kind="status_update")) == 1
    updates = stakeholder_updates(harness, incident.channel_id)
    assert updates == ["Stakeholder update for INC-1: Rolled back release 142"]
    thread = harness.workspace.replies(INCIDENTS_CHANNEL_ID, harness.incident().announcement_ts)
    assert len(thread) == 2  # the announcement and one reply


def test_a_resent_roles_submission_does_not_undo_a_handover_made_since(harness: Harness) -> None:
    incident = harness.declare()
    harness.click(CardAction.ASSIGN_ROLES, user=CAROL)
    view = harness.open_view(CAROL, Callback.ASSIGN_ROLES)
    harness.submit(view.id, {RoleField.MITIGATE: DAN}, user=CAROL)
    submission, headers = harness.sent[-1]
    harness.command(f"role mitigate <@{BOB}>", channel=incident.channel_id)  # Dan hands over to Bob
    status, _, _ = harness.slack.deliver(submission, headers)  # Slack resends the submission late
    harness.settle()
    assert status == 200
    assert harness.incident().holder(Role.MITIGATE) == BOB
    assert len(harness.outbox("role_briefing")) == 2  # Dan's and Bob's, not Dan's twice


def test_an_untouched_role_picker_keeps_a_handover_made_while_the_form_was_open(harness: Harness) -> None:
    """Slack returns every picker's value, the prefilled ones too: only the pickers changed are applied."""
    incident = harness.declare()
    harness.click(CardAction.ACKNOWLEDGE, user=BOB)
    harness.click(CardAction.ASSIGN_ROLES, user=CAROL)
    view = harness.open_view(CAROL, Callback.ASSIGN_ROLES)  # the lead picker shows Bob
    harness.command(f"role acknowledge <@{DAN}>", channel=incident.channel_id, user=BOB)  # Bob hands over to Dan
    result = harness.submit(view.id, {RoleField.COMMUNICATE: CAROL}, user=CAROL)  # only the comms picker changed
    assert result.status == 200 and not result.body.strip()
    assert harness.incident().holders() == {
        Role.ACKNOWLEDGE: DAN,
        Role.MITIGATE: None,
        Role.INVESTIGATE: None,
        Role.COMMUNICATE: CAROL,
    }
    assert [e.data["to"] for e in harness.events(kind="role_handover")] == [DAN]


def test_a_changed_role_picker_still_hands_the_role_over(harness: Harness) -> None:
    incident = harness.declare()
    harness.click(CardAction.ACKNOWLEDGE, user=BOB)
    harness.click(CardAction.ASSIGN_ROLES, user=CAROL)
    view = harness.open_view(CAROL, Callback.ASSIGN_ROLES)
    harness.command(f"role acknowledge <@{DAN}>", channel=incident.channel_id, user=BOB)
    harness.submit(view.id, {RoleField.ACKNOWLEDGE: CAROL}, user=CAROL)  # a deliberate choice wins
    assert harness.incident().holder(Role.ACKNOWLEDGE) == CAROL


def test_a_refused_submission_can_be_corrected_and_submitted_again(harness: Harness) -> None:
    """The view id is remembered with the change: a refusal remembers nothing."""
    incident = harness.declare()
    harness.click(CardAction.ASSIGN_ROLES, user=CAROL)
    view = harness.open_view(CAROL, Callback.ASSIGN_ROLES)
    harness.command("resolve", channel=incident.channel_id)
    refused = harness.submit(view.id, {RoleField.MITIGATE: DAN}, user=CAROL)
    assert refused.json["response_action"] == "errors"
    harness.command("reopen", channel=incident.channel_id)
    accepted = harness.submit(view.id, {RoleField.MITIGATE: DAN}, user=CAROL)
    assert accepted.status == 200 and not accepted.body.strip()
    assert harness.incident().holder(Role.MITIGATE) == DAN


@pytest.mark.parametrize(
    ("action", "value", "kind", "said"),
    [
        (CardAction.ACKNOWLEDGE, None, "acknowledged", None),
        (CardAction.CHANGE_SEVERITY, "INC-1:SEV1", "severity_changed", "Severity changed"),
        (CardAction.MARK_MITIGATED, None, "mitigated", "as *mitigated*"),
        (CardAction.RESOLVE, None, "resolved", "resolved INC-1"),
    ],
)
def test_a_double_click_on_a_card_button_acts_once(
    harness: Harness, action: str, value: str | None, kind: str, said: str | None
) -> None:
    incident = harness.declare()
    harness.click(action, value=value, settle=False)
    harness.click(action, value=value, settle=False)
    harness.settle()
    assert len(harness.events(kind=kind)) == 1
    if said is not None:
        assert len([m for m in harness.workspace.history(incident.channel_id) if said in m.text]) == 1


def test_a_double_click_on_post_mortem_draft_uploads_one_file(harness: Harness) -> None:
    incident = harness.declare()
    harness.command("resolve", channel=incident.channel_id)
    harness.click(TimelineAction.POSTMORTEM, settle=False)
    harness.click(TimelineAction.POSTMORTEM, settle=False)
    harness.settle()
    assert len(harness.calls("files.completeUploadExternal")) == 1
