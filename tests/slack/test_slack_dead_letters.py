"""What a person asked for and Slack never got: when the outbox gives up a stakeholder update or a message about
someone's change, that person is told in plain words, and the incident's timeline says so."""

from __future__ import annotations

from app.slack.ids import UpdateField
from incidents.models import OutboxStatus
from tests.slack.slack_harness import BOB, Callback, Harness


def post_update_by_modal(harness: Harness, channel_id: str, text: str, *, user: str = BOB) -> None:
    harness.command("update", channel=channel_id, user=user)
    view = harness.open_view(user, Callback.POST_UPDATE)
    harness.submit(view.id, {UpdateField.TEXT: text}, user=user)


def test_an_update_slack_refuses_for_good_is_told_to_its_author_and_on_the_timeline(harness: Harness) -> None:
    incident = harness.declare()
    harness.workspace.faults.fail("chat.postMessage", error="msg_too_long")  # refused: retrying cannot help
    post_update_by_modal(harness, incident.channel_id, "Rolled back <!channel> release 142")
    [message] = harness.outbox("post_update")
    assert message.status == OutboxStatus.DEAD
    [dm] = harness.dms_to(BOB)
    assert dm.text == (
        "Your stakeholder update for *INC-1* did not reach Slack, because Slack refused it (msg_too_long). "
        "Nobody saw it in Slack; it is saved on the incident's timeline. Post it again with `/incident update` "
        "once this is fixed, or share it by hand:\n> Rolled back &lt;!channel&gt; release 142"
    )
    [problem] = harness.events(kind="slack_problem")
    assert problem.text == ("The stakeholder update by <@U01BOB> did not reach Slack: Slack refused it (msg_too_long).")


def test_an_update_whose_retries_run_out_is_told_once(harness: Harness) -> None:
    incident = harness.declare()
    harness.workspace.faults.fail("chat.postMessage", error="not_in_channel", times=10)
    harness.command("update Database failover in progress", channel=incident.channel_id, user=BOB)
    for _ in range(12):
        [message] = harness.outbox("post_update")
        if message.status == OutboxStatus.DEAD:
            break
        assert harness.dms_to(BOB) == []  # still retrying: nothing to tell yet
        harness.later(400)
    [message] = harness.outbox("post_update")
    assert (message.status, message.attempts) == (OutboxStatus.DEAD, 10)
    harness.later(400)
    [dm] = harness.dms_to(BOB)
    assert "did not reach Slack, because the bot is not in the channel (not_in_channel): invite it." in dm.text
    assert len(harness.events(kind="slack_problem")) == 1


def test_an_update_missing_only_under_the_announcement_says_where_it_did_arrive(harness: Harness) -> None:
    incident = harness.declare()
    harness.workspace.faults.fail("chat.postMessage", delay=0.01)  # the post in the channel goes through
    harness.workspace.faults.fail("chat.postMessage", error="invalid_blocks")  # the reply under the announcement
    harness.command("update Rolled back", channel=incident.channel_id, user=BOB)
    [dm] = harness.dms_to(BOB)
    assert dm.text.startswith(
        "Your stakeholder update for *INC-1* was posted in the incident channel, but not under the announcement, "
        "because Slack refused it (invalid_blocks). It is missing under the announcement;"
    )


def test_a_message_about_a_change_that_never_reaches_the_channel_is_told_to_who_made_it(harness: Harness) -> None:
    incident = harness.declare()
    harness.workspace.faults.fail("chat.postMessage", error="invalid_blocks")
    harness.command("sev SEV1", channel=incident.channel_id, user=BOB)
    [message] = harness.outbox("channel_message")
    assert message.status == OutboxStatus.DEAD
    [dm] = harness.dms_to(BOB)
    assert dm.text.startswith(
        "I could not tell *INC-1*'s channel about your change, because Slack refused it (invalid_blocks). "
        "The change itself is recorded. The message was:\n> Severity changed from SEV2 to *SEV1*"
    )
    assert harness.incident().severity == "SEV1"
    assert len(harness.events(kind="slack_problem")) == 1


def test_a_delivered_update_tells_nobody_anything(harness: Harness) -> None:
    incident = harness.declare()
    post_update_by_modal(harness, incident.channel_id, "All good")
    assert harness.dms_to(BOB) == []
    assert harness.events(kind="slack_problem") == []
