"""`/incident engage <service|team>` in an incident channel: brings owners in later, tells the person who asked
who was invited and who could not be (and why), and puts it on the timeline."""

from __future__ import annotations

import pytest

from app.slack.blocks.facts import event_mrkdwn
from tests.owners_slack.owners_helpers import (
    ANA,
    PAYMENTS_GROUP,
    PAYMENTS_PRIMARY,
    PLATFORM_MEMBER,
    bookmarks,
    engagements,
    mentions_of,
)
from tests.slack.slack_harness import ALICE, BOB, GENERAL, Harness


@pytest.fixture
def channel(owned: Harness) -> str:
    """The channel of INC-1, declared by Alice without services."""
    return owned.declare("Payments are slow").channel_id


def test_engage_a_service_invites_its_owners_and_says_so(owned: Harness, channel: str) -> None:
    result = owned.command("engage co", channel=channel, settle=False)
    assert result.status == 200
    owned.settle()
    replies = owned.replies_to(ALICE, channel)
    assert replies[0] == (
        "Bringing in the owners of *checkout*: the first contacts of team *payments*. I will tell you who I invited."
    )
    assert replies[1] == f"Owners of checkout (team payments): invited <@{PAYMENTS_PRIMARY}>"
    assert PAYMENTS_PRIMARY in owned.workspace.channel(channel).members
    [message] = mentions_of(owned, channel, f"<!subteam^{PAYMENTS_GROUP}>")
    assert message.text == (
        f"<!subteam^{PAYMENTS_GROUP}> you own *checkout*, affected by *INC-1*: Payments are slow. "
        f"<@{ALICE}> brought you in."
    )
    assert bookmarks(owned, channel) == [("Runbook: checkout", "https://runbooks.example.com/checkout")]


def test_engage_reports_people_who_cannot_be_invited_and_why(owned: Harness, channel: str) -> None:
    """platform's members: one in Slack, one email nobody has, one user id that is not in the workspace."""
    owned.workspace.join(channel, BOB)
    owned.command("engage platform", channel=channel, user=BOB)
    assert owned.last_reply(BOB) == (
        f"Team platform: invited <@{PLATFORM_MEMBER}>; could not invite gone@example.com (no Slack account has "
        "this email), U0NOBODY1 (not in this Slack workspace, or deactivated)"
    )
    members = owned.workspace.channel(channel).members
    assert PLATFORM_MEMBER in members and "U0NOBODY1" not in members
    [event] = engagements(owned)
    assert event.actor_id == BOB
    assert event.data["missed"] == [
        {"contact": "gone@example.com", "reason": "no Slack account has this email"},
        {"contact": "U0NOBODY1", "reason": "not in this Slack workspace, or deactivated"},
    ]
    assert event_mrkdwn(event, ref="INC-1").startswith(
        f"Team platform brought in by <@{BOB}>: invited <@{PLATFORM_MEMBER}>; could not"
    )


def test_a_group_slack_does_not_know_is_replaced_by_the_people_brought_in(owned: Harness, channel: str) -> None:
    owned.command("engage gateway", channel=channel)
    [message] = mentions_of(owned, channel, "you own *gateway*")
    assert message.text.startswith(f"<@{PLATFORM_MEMBER}> you own *gateway*, affected by *INC-1*")
    assert "Slack has no user group @platform" in str(message.blocks)


def test_people_already_in_the_channel_are_fine(owned: Harness, channel: str) -> None:
    owned.command("engage checkout", channel=channel)
    owned.command("engage checkout", channel=channel)
    assert owned.last_reply() == (
        f"Owners of checkout (team payments): nobody new invited; already in the channel: <@{PAYMENTS_PRIMARY}>"
    )
    assert len(bookmarks(owned, channel)) == 1  # the runbook is bookmarked once
    assert [e.data["present"] for e in engagements(owned)] == [[], [PAYMENTS_PRIMARY]]


def test_engage_all_invites_the_whole_team(owned: Harness, channel: str) -> None:
    owned.command("engage payments --all", channel=channel)
    members = owned.workspace.channel(channel).members
    assert {PAYMENTS_PRIMARY, ANA} <= set(members)
    assert owned.last_reply() == (
        f"Team payments: invited <@{PAYMENTS_PRIMARY}>, <@{ANA}>; could not invite marc@example.com "
        "(no Slack account has this email)"
    )


def test_engage_an_unknown_name_suggests_the_closest(owned: Harness, channel: str) -> None:
    owned.command("engage ledgr", channel=channel)
    assert owned.last_reply() == "No service or team is called `ledgr` in the ownership map. Did you mean *ledger*?"
    assert engagements(owned) == []


def test_engage_outside_an_incident_channel_is_refused(owned: Harness) -> None:
    owned.command("engage checkout", channel=GENERAL)
    assert owned.last_reply().startswith("`/incident engage` works inside an incident channel, and this is not one.")


def test_engage_in_a_resolved_incident_is_refused(owned: Harness, channel: str) -> None:
    owned.command("resolve", channel=channel)
    owned.command("engage checkout", channel=channel)
    assert owned.last_reply() == "INC-1 is resolved; reopen it before bringing anyone in."
    assert PAYMENTS_PRIMARY not in owned.workspace.channel(channel).members


def test_the_result_goes_by_direct_message_to_someone_not_in_the_channel(owned: Harness, channel: str) -> None:
    owned.command("engage auth", channel=channel, user=BOB)
    [dm] = owned.dms_to(BOB)
    assert dm.text.startswith("Owners of auth (team identity): invited")


def test_an_engagement_interrupted_by_slack_resumes_without_inviting_anyone_twice(owned: Harness, channel: str) -> None:
    """Slack fails while looking up the second person: the outbox retries later, and the result still says who
    was invited (not "already in the channel" for the person invited before the failure)."""
    owned.workspace.faults.fail("users.lookupByEmail", http_status=500, times=2)  # the client retries once
    owned.command("engage payments --all", channel=channel)
    assert PAYMENTS_PRIMARY in owned.workspace.channel(channel).members
    assert ANA not in owned.workspace.channel(channel).members
    owned.later(60)
    assert ANA in owned.workspace.channel(channel).members
    assert owned.last_reply().startswith(f"Team payments: invited <@{PAYMENTS_PRIMARY}>, <@{ANA}>; could not")
    invited = [call.args["users"] for call in owned.calls("conversations.invite")]
    assert invited == [ALICE, PAYMENTS_PRIMARY, ANA]  # the reporter on declare; each owner once
