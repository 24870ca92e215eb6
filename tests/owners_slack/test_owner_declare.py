"""Declaring with affected services from the ownership map: the modal offers them; once the channel exists,
each owning team's first contacts are invited, its user group is told why, and the runbooks are bookmarked."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.bootstrap import load_ownership
from app.settings import Settings
from app.slack.blocks.facts import event_mrkdwn
from app.slack.ids import DeclareField
from incidents import service
from incidents.effects import Effect
from incidents.models import OutboxStatus
from incidents.outbox import NotReady
from tests.owners_slack.owners_helpers import (
    ANA,
    IDENTITY_GROUP,
    IDENTITY_PRIMARY,
    MAP,
    PAYMENTS_GROUP,
    PAYMENTS_PRIMARY,
    bookmarks,
    bot_messages,
    engagements,
    mentions_of,
)
from tests.slack.slack_harness import ALICE, Callback, Harness


def test_the_declare_modal_offers_the_services_of_the_map(owned: Harness) -> None:
    owned.command("declare")
    view = owned.open_view(ALICE, Callback.DECLARE)
    services = next(b for b in view.body["blocks"] if b.get("block_id") == DeclareField.SERVICES)
    assert services["element"]["type"] == "multi_static_select"
    assert [o["value"] for o in services["element"]["options"]] == ["auth", "checkout", "gateway", "ledger"]
    assert services["optional"] is True


def test_without_a_map_the_declare_modal_takes_typed_service_names(harness: Harness) -> None:
    harness.command("declare")
    view = harness.open_view(ALICE, Callback.DECLARE)
    services = next(b for b in view.body["blocks"] if b.get("block_id") == DeclareField.SERVICES)
    assert services["element"]["type"] == "plain_text_input"


def test_declaring_invites_first_contacts_mentions_their_group_and_bookmarks_runbooks(owned: Harness) -> None:
    incident = owned.declare("Checkout is failing", services=["checkout", "auth"])
    channel = owned.workspace.channel(incident.channel_id)
    assert {ALICE, PAYMENTS_PRIMARY, IDENTITY_PRIMARY} <= set(channel.members)
    assert ANA not in channel.members  # the secondary is the next step, not a first contact

    [payments] = mentions_of(owned, incident.channel_id, f"<!subteam^{PAYMENTS_GROUP}>")
    assert payments.text == (
        f"<!subteam^{PAYMENTS_GROUP}> you own *checkout*, affected by *INC-1*: Checkout is failing. "
        f"<@{ALICE}> declared it."
    )
    assert f"Invited <@{PAYMENTS_PRIMARY}>." in str(payments.blocks)
    [identity] = mentions_of(owned, incident.channel_id, f"<!subteam^{IDENTITY_GROUP}>")
    assert identity.text.startswith(f"<!subteam^{IDENTITY_GROUP}> you own *auth*, affected by *INC-1*")
    # The card stays the first message of the channel.
    assert bot_messages(owned, incident.channel_id)[0].ts == incident.card_ts

    assert bookmarks(owned, incident.channel_id) == [
        ("Runbook: checkout", "https://runbooks.example.com/checkout"),
        ("Runbook: auth", "https://runbooks.example.com/auth"),
    ]


def test_each_engagement_lands_on_the_timeline_with_who_and_why(owned: Harness) -> None:
    owned.declare(services=["checkout", "auth"])
    events = engagements(owned)
    assert [event_mrkdwn(e, ref="INC-1") for e in events] == [
        f"Owners of checkout (team payments) brought in by <@{ALICE}>: invited <@{PAYMENTS_PRIMARY}>",
        f"Owners of auth (team identity) brought in by <@{ALICE}>: invited <@{IDENTITY_PRIMARY}>",
    ]
    assert events[0].actor_id == ALICE
    assert events[0].data == {
        "team": "payments",
        "services": ["checkout"],
        "invited": [PAYMENTS_PRIMARY],
        "present": [],
        "missed": [],
        "trigger": "declared",
    }


def test_services_of_one_team_are_engaged_with_one_mention(owned: Harness) -> None:
    incident = owned.declare(services=["checkout", "ledger"])
    [message] = mentions_of(owned, incident.channel_id, f"<!subteam^{PAYMENTS_GROUP}>")
    assert message.text.startswith(f"<!subteam^{PAYMENTS_GROUP}> you own *checkout* and *ledger*, affected by")
    assert [title for title, _ in bookmarks(owned, incident.channel_id)] == ["Runbook: checkout", "Runbook: ledger"]
    assert len(engagements(owned)) == 1


def test_declaring_without_services_engages_nobody(owned: Harness) -> None:
    incident = owned.declare()
    assert owned.outbox(Effect.ENGAGE_OWNERS) == []
    assert bookmarks(owned, incident.channel_id) == []


def test_engaging_on_declare_waits_for_the_channel(owned: Harness) -> None:
    owned.command("declare")
    view = owned.open_view(ALICE, Callback.DECLARE)
    owned.submit(
        view.id, {"declare_title": "Down", "declare_severity": "SEV1", "declare_services": ["auth"]}, settle=False
    )
    [engage] = owned.outbox(Effect.ENGAGE_OWNERS)
    with pytest.raises(NotReady, match="channel is not created yet"):
        owned.handlers[Effect.ENGAGE_OWNERS](engage)
    owned.settle()
    [engage] = owned.outbox(Effect.ENGAGE_OWNERS)
    assert engage.status == OutboxStatus.DONE
    assert IDENTITY_PRIMARY in owned.workspace.channel(owned.incident().channel_id).members


def test_a_redelivered_engagement_does_nothing_twice(owned: Harness) -> None:
    """The outbox delivers at least once: a second delivery of the same effect invites, posts and bookmarks
    nothing new and adds no timeline entry."""
    incident = owned.declare(services=["checkout"])
    [engage] = owned.outbox(Effect.ENGAGE_OWNERS)
    before = (len(bot_messages(owned, incident.channel_id)), len(owned.calls("conversations.invite")))
    owned.handlers[Effect.ENGAGE_OWNERS](engage)
    after = (len(bot_messages(owned, incident.channel_id)), len(owned.calls("conversations.invite")))
    assert after == before
    assert len(bookmarks(owned, incident.channel_id)) == 1
    assert len(engagements(owned)) == 1


def test_a_typed_service_unknown_to_the_map_is_skipped(owned: Harness) -> None:
    """Without an exact match in the map (e.g. a service removed since), nobody is engaged for it."""
    with owned.runtime.sessions.begin() as session:
        service.declare(
            session,
            title="Legacy",
            severity="SEV3",
            reporter_id=ALICE,
            now=owned.clock(),
            process=owned.runtime.process,
            services=["mainframe"],
        )
    owned.settle()
    [engage] = owned.outbox(Effect.ENGAGE_OWNERS)
    assert engage.status == OutboxStatus.DONE
    assert engage.result["unknown"] == ["mainframe"]
    assert engagements(owned) == []


@pytest.fixture
def big_map(owned: Harness, map_settings: Settings, tmp_path: Path) -> Harness:
    """101 services: ownership.yml and a second file of 97 more (`OWNERSHIP_MAP_PATH=ownership.yml:more.yml`)."""
    more = tmp_path / "more.yml"
    more.write_text("services:\n" + "".join(f"  - {{name: batch-{n:03}, team: platform}}\n" for n in range(97)))
    owned.use_owners(load_ownership(map_settings.model_copy(update={"ownership_map_path": (MAP, more)})))
    return owned


def test_with_more_than_a_hundred_services_typed_names_and_aliases_are_engaged(big_map: Harness) -> None:
    """Past Slack's 100 options the modal takes typed names (aliases and case are fine)."""
    big_map.command("declare")
    view = big_map.open_view(ALICE, Callback.DECLARE)
    services = next(b for b in view.body["blocks"] if b.get("block_id") == DeclareField.SERVICES)
    assert services["element"]["type"] == "plain_text_input"

    values = {"declare_title": "Down", "declare_severity": "SEV1", "declare_services": "Login"}
    result = big_map.submit(view.id, values)
    assert result.json["response_action"] == "update"
    incident = big_map.incident()
    assert incident.services == ["auth"]
    assert IDENTITY_PRIMARY in big_map.workspace.channel(incident.channel_id).members


def test_a_typed_name_the_map_does_not_know_is_refused_in_the_form(big_map: Harness) -> None:
    big_map.command("declare")
    view = big_map.open_view(ALICE, Callback.DECLARE)
    values = {"declare_title": "Down", "declare_severity": "SEV1", "declare_services": "chekout"}
    result = big_map.submit(view.id, values)
    assert result.json["response_action"] == "errors"
    assert "chekout" in result.json["errors"][DeclareField.SERVICES]
