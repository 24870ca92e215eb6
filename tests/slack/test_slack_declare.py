"""Declaring: the command opens the modal, the submission records the incident and the outbox opens its channel."""

from __future__ import annotations

from tests.slack.slack_harness import ALICE, Callback, Harness, blocks_text


def test_bare_command_opens_the_declare_modal(harness: Harness) -> None:
    result = harness.command("")
    assert result.status == 200
    view = harness.open_view(ALICE, Callback.DECLARE)
    assert view.body["title"]["text"] == "Declare an incident"


def test_declaring_creates_the_channel_card_and_announcement(harness: Harness) -> None:
    incident = harness.declare("Checkout is failing", "SEV2")
    assert incident.ref == "INC-1"
    assert incident.channel_name == "inc-1-checkout-is-failing"
    card = harness.card()
    assert "INC-1: Checkout is failing" in blocks_text(card.blocks)
    announcement = harness.announcement()
    assert "Checkout is failing" in blocks_text(announcement.blocks)
