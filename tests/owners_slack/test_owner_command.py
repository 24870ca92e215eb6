"""`/incident owner <service>`: who owns it, who to call first, the runbook, dashboards and dependencies' owners.
Works in any channel; forgiving of case, aliases and typos."""

from __future__ import annotations

from tests.owners_slack.owners_helpers import ANA, IDENTITY_PRIMARY, PAYMENTS_PRIMARY, last_reply_blocks
from tests.slack.slack_harness import ALICE, GENERAL, Harness


def test_owner_by_alias_in_any_case_shows_contacts_runbook_dashboards_and_dependencies(owned: Harness) -> None:
    result = owned.command("owner CO", channel=GENERAL)
    assert result.status == 200
    reply = last_reply_blocks(owned, ALICE)
    assert "*checkout* (alias _co_) · tier 1" in reply
    assert "Owned by *payments* · `@payments-oncall` · #payments" in reply
    assert f"*Contact first:* <@{PAYMENTS_PRIMARY}>" in reply
    # The escalation order, emails shown as the people Slack knows, or marked when nobody has them.
    assert (
        f"*Escalation:* 1. <@{PAYMENTS_PRIMARY}> (primary) → 2. <@{ANA}> (secondary) → "
        "3. marc@example.com _(no Slack account has this email)_ (manager)"
    ) in reply
    assert "*How to reach them:* Page 'Payments' in PagerDuty" in reply
    assert "*Runbook:* <https://runbooks.example.com/checkout|open the runbook>" in reply
    assert "*Dashboards:* <https://grafana.example.com/d/checkout|Checkout overview>" in reply
    assert f"• *ledger*: payments, first <@{PAYMENTS_PRIMARY}>" in reply
    assert f"• *auth*: identity, first <@{IDENTITY_PRIMARY}>" in reply
    assert "`/incident engage checkout` brings them in" in reply


def test_owner_reply_is_only_for_the_person_who_asked(owned: Harness) -> None:
    owned.command("owner checkout")
    assert owned.workspace.messages(GENERAL) == []
    assert len(owned.workspace.ephemerals_for(ALICE)) == 1


def test_owner_with_a_typo_gets_the_closest_suggestions(owned: Harness) -> None:
    owned.command("owner chekout")
    assert owned.last_reply() == (
        "No service or team is called `chekout` in the ownership map. Did you mean *checkout*?"
    )


def test_owner_of_an_unknown_name_says_so(owned: Harness) -> None:
    owned.command("owner frobnicator")
    assert owned.last_reply() == "No service or team is called `frobnicator` in the ownership map."


def test_owner_of_a_team_lists_its_contacts_and_services(owned: Harness) -> None:
    owned.command("owner identity")
    reply = last_reply_blocks(owned, ALICE)
    assert "*Team identity* · `S0IDENTITY` · <#C0IDENTITY>" in reply
    assert f"*Contact first:* <@{IDENTITY_PRIMARY}>" in reply
    assert "*Services:* auth" in reply


def test_owner_without_a_name_shows_the_usage(owned: Harness) -> None:
    result = owned.command("owner")
    assert result.json["text"] == (
        "Name a service (or a team), like `owner checkout`.\nUsage: `/incident owner <service>`"
    )


def test_without_an_ownership_map_owner_says_how_to_configure_one(harness: Harness) -> None:
    harness.command("owner checkout")
    assert "OWNERSHIP_MAP_PATH" in harness.last_reply()


def test_email_lookups_are_cached_between_questions(owned: Harness) -> None:
    owned.command("owner checkout")
    owned.command("owner ledger")
    looked_up = [call.args.get("email") for call in owned.calls("users.lookupByEmail")]
    assert sorted(looked_up) == ["ana@example.com", "marc@example.com"]


def test_help_lists_owner_anywhere_and_engage_in_incident_channels(owned: Harness) -> None:
    text = owned.command("help").json["text"]
    anywhere, inside = text.split("*In an incident channel*")
    assert "`/incident owner <service>`" in anywhere
    assert "`/incident engage <service|team> [--all]`" in inside
