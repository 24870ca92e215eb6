"""Slack failing: the incident is never lost, the reporter is told once in plain words, every step is retried and
resumes where it stopped, and nothing is done twice."""

from __future__ import annotations

from datetime import timedelta

from app.slack.ids import CardAction
from incidents.models import OutboxStatus
from tests.slack.slack_harness import ALICE, BOB, INCIDENTS_CHANNEL_ID, Harness


def open_channel(harness: Harness):  # type: ignore[no-untyped-def]
    [message] = harness.outbox("open_channel")
    return message


def test_a_refused_channel_creation_keeps_the_incident_and_tells_the_reporter_once(harness: Harness) -> None:
    harness.workspace.faults.fail("conversations.create", error="restricted_action", times=3)
    incident = harness.declare("Checkout is failing")
    assert incident.ref == "INC-1" and incident.channel_id is None
    message = open_channel(harness)
    assert message.status == OutboxStatus.PENDING
    assert message.last_error == "create the channel: a workspace policy forbids this (restricted_action)"
    harness.later(message.next_attempt_at.timestamp() - harness.clock().timestamp())
    assert open_channel(harness).attempts == 2
    [dm] = harness.dms_to(ALICE)
    assert dm.text == (
        "INC-1 is recorded, but creating its channel failed because a workspace policy does not let the bot "
        "create channels. The bot keeps retrying; nothing you entered is lost."
    )
    [problem] = harness.events(kind="slack_problem")
    assert problem.text.startswith("Could not create the channel: ")


def test_the_channel_is_created_on_a_later_attempt_and_the_reporter_hears_it_is_ready(harness: Harness) -> None:
    harness.workspace.faults.fail("conversations.create", error="internal_error")
    harness.declare()
    assert harness.incident().channel_id is None
    harness.later(600)
    incident = harness.incident()
    assert incident.channel_id and incident.card_ts and incident.announcement_ts
    assert [m.text for m in harness.dms_to(ALICE)][-1] == f"INC-1's channel is ready now: <#{incident.channel_id}>."
    assert open_channel(harness).status == OutboxStatus.DONE


def test_a_rate_limit_is_retried_after_retry_after(harness: Harness) -> None:
    harness.workspace.faults.fail("conversations.create", http_status=429, retry_after=30)
    harness.declare()
    message = open_channel(harness)
    assert message.last_error == "create the channel: Slack rate limit (HTTP 429)"
    assert message.next_attempt_at >= harness.clock() + timedelta(seconds=30)
    assert "Slack is limiting how fast the bot may call it" in harness.dms_to(ALICE)[0].text
    harness.later(29)
    assert harness.incident().channel_id is None
    harness.later(message.next_attempt_at.timestamp() - harness.clock().timestamp())
    assert harness.incident().channel_id is not None


def test_server_errors_are_retried_in_the_call_then_by_the_outbox(harness: Harness) -> None:
    harness.workspace.faults.fail("chat.postMessage", http_status=503, times=2)
    harness.declare()
    incident = harness.incident()
    assert incident.channel_id is not None and incident.card_ts is None  # resumes after the channel
    assert open_channel(harness).last_error == "post the incident card: Slack answered HTTP 503"
    harness.later(600)
    incident = harness.incident()
    assert incident.card_ts is not None
    assert len(harness.calls("conversations.create")) == 1
    assert len(harness.calls("conversations.setTopic")) == 1


def test_a_timeout_is_retried_and_nothing_is_created_twice(harness: Harness) -> None:
    harness.deps.client.timeout = 0.5
    harness.workspace.faults.fail("chat.postMessage", delay=1.0)  # the card: Slack posts it, the bot hears nothing
    harness.declare()
    message = open_channel(harness)
    assert message.last_error.startswith("post the incident card: could not reach Slack")
    harness.later(600)
    incident = harness.incident()
    assert incident.card_ts is not None and incident.announcement_ts is not None
    assert len(harness.calls("conversations.create")) == 1
    assert len(harness.calls("conversations.invite")) == 1


def test_a_missing_announcements_channel_is_a_clear_error_while_the_incident_works(harness: Harness) -> None:
    harness.deps.runtime.settings.announcements_channel = "no-such-channel"
    incident = harness.declare()
    assert incident.channel_id and incident.card_ts
    message = open_channel(harness)
    assert message.last_error == (
        "announce the incident: there is no public channel #no-such-channel; create it or set ANNOUNCEMENTS_CHANNEL"
    )
    harness.click(CardAction.ACKNOWLEDGE, user=BOB)
    assert harness.incident().acknowledged_at is not None
    assert harness.dms_to(ALICE) == []  # the channel works: nothing to tell the reporter


def test_an_invalid_token_is_reported_as_such(harness: Harness) -> None:
    harness.workspace.faults.fail("conversations.create", error="invalid_auth")
    harness.declare()
    assert open_channel(harness).last_error == (
        "create the channel: Slack refused the bot token (invalid_auth): check SLACK_BOT_TOKEN"
    )


def test_blocks_slack_refuses_are_not_retried(harness: Harness) -> None:
    harness.declare()
    harness.workspace.faults.fail("chat.update", error="invalid_blocks")
    harness.click(CardAction.ACKNOWLEDGE, user=BOB)
    [refresh] = [m for m in harness.outbox("refresh_card") if m.status == OutboxStatus.DEAD]
    assert refresh.last_error == "update the incident card: Slack refused it (invalid_blocks)"


def test_updates_wait_for_the_announcement_then_reply_under_it(harness: Harness) -> None:
    harness.workspace.faults.fail("conversations.list", error="internal_error")
    incident = harness.declare()
    harness.command("update First look: the database is saturated", channel=incident.channel_id)
    [update] = harness.outbox("post_update")
    assert update.status == OutboxStatus.PENDING and update.last_error.startswith("waiting: ")
    harness.later(600)
    incident = harness.incident()
    thread = harness.workspace.replies(INCIDENTS_CHANNEL_ID, incident.announcement_ts)
    assert [m.text for m in thread[1:]] == ["Stakeholder update for INC-1: First look: the database is saturated"]
    in_channel = [m for m in harness.workspace.history(incident.channel_id) if "First look" in m.text]
    assert len(in_channel) == 1


def test_a_deleted_card_is_posted_again_and_kept_current(harness: Harness) -> None:
    incident = harness.declare()
    harness.workspace.delete_message(incident.channel_id, incident.card_ts)
    harness.command("sev SEV1", channel=incident.channel_id)
    fresh = harness.incident()
    assert fresh.card_ts != incident.card_ts
    assert harness.workspace.channel(incident.channel_id).pins[-1].ts == fresh.card_ts


def test_role_holders_get_one_briefing_and_are_invited(harness: Harness) -> None:
    incident = harness.declare()
    harness.command(f"role investigate <@{BOB}|bob>", channel=incident.channel_id)
    [briefing] = harness.dms_to(BOB)
    assert briefing.text.startswith(
        f"<@{ALICE}> gave you the *Investigation* role (investigate) in *INC-1* (<#{incident.channel_id}>)."
    )
    assert "Find the root cause once service is back" in briefing.text
    assert BOB in harness.workspace.channel(incident.channel_id).members
    harness.later(600)
    assert len(harness.dms_to(BOB)) == 1
