"""`/incident note|timeline|followup|followups|postmortem` and their buttons, through signed requests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.slack.blocks.facts import event_mrkdwn
from app.slack.ids import TimelineAction
from incidents import service
from incidents.effects import Effect
from incidents.queries import get_incident
from tests.slack.slack_harness import ALICE, BOB, CAROL, GENERAL, CardAction, Harness, blocks_text


@pytest.fixture
def channel(harness: Harness) -> str:
    return harness.declare().channel_id


def last_ephemeral(harness: Harness, user: str = ALICE):
    return harness.workspace.ephemerals_for(user)[-1]


def add_notes(harness: Harness, count: int) -> None:
    with harness.runtime.sessions.begin() as s:
        inc = get_incident(s, 1)
        for i in range(count):
            moment = harness.clock.now + timedelta(minutes=i + 1)
            service.add_note(s, inc, text=f"note {i + 1}", author_id=BOB, now=moment)
    harness.clock.advance(hours=2)


# --- notes --------------------------------------------------------------------------------------------------


def test_a_note_is_added_now(harness, channel):
    harness.command("note looking at the payments dashboards", channel=channel, user=BOB)
    assert harness.last_reply(BOB) == "Noted on the timeline."
    [note] = harness.events(kind="note")
    assert (note.text, note.actor_id, note.occurred_at) == (
        "looking at the payments dashboards",
        BOB,
        harness.clock.now,
    )


def test_a_note_starting_with_a_time_is_dated_then_and_the_reply_says_when(harness, channel):
    written = harness.clock.now
    harness.command("note at 13:05, the cache was flushed", channel=channel, user=BOB)
    assert harness.last_reply(BOB) == "Noted on the timeline at 13:05 (UTC)."
    [note] = harness.events(kind="note")
    assert note.text == "the cache was flushed"
    assert note.occurred_at == written.replace(hour=13, minute=5)
    assert note.recorded_at == written


def test_a_note_dated_in_the_future_is_refused(harness, channel):
    harness.command("note today at 23:00, we will deploy", channel=channel, user=BOB)
    assert harness.last_reply(BOB).startswith("A note cannot be dated in the future.")
    assert harness.events(kind="note") == []


def test_a_note_outside_an_incident_channel_says_where_it_works(harness, channel):
    harness.command("note hello", channel=GENERAL, user=BOB)
    assert "works inside an incident channel" in harness.last_reply(BOB)


# --- timeline -----------------------------------------------------------------------------------------------


def test_the_timeline_shows_the_latest_events_newest_last_to_the_person_who_asked(harness, channel):
    add_notes(harness, 3)
    harness.command("timeline", channel=channel, user=CAROL)
    shown = blocks_text(last_ephemeral(harness, CAROL).blocks)
    assert shown.index("note 1") < shown.index("note 2") < shown.index("note 3")
    assert "events 1–4 of 4" in shown and "page 1 of 1" in shown
    assert "INC-1 declared as SEV2" in shown


def test_a_long_timeline_comes_in_pages_with_an_earlier_button(harness, channel):
    add_notes(harness, 45)  # and the declaration: 46 events
    harness.command("timeline", channel=channel, user=CAROL)
    page_one = last_ephemeral(harness, CAROL)
    shown = blocks_text(page_one.blocks)
    assert "events 27–46 of 46 · page 1 of 3, newest last" in shown
    assert "note 45" in shown and "note 25" not in shown and "note 26" in shown
    harness.slack.click(CAROL, channel, page_one.ts, TimelineAction.PAGE)
    harness.settle()
    page_two = blocks_text(last_ephemeral(harness, CAROL).blocks)
    assert "events 7–26 of 46 · page 2 of 3" in page_two
    assert "note 25" in page_two and "note 6" in page_two and "note 26" not in page_two
    assert len(harness.workspace.ephemerals_for(CAROL)) == 1, "the page replaces the one before"


def test_a_page_can_be_asked_for_by_number(harness, channel):
    add_notes(harness, 45)
    harness.command("timeline 3", channel=channel, user=CAROL)
    shown = blocks_text(last_ephemeral(harness, CAROL).blocks)
    assert "events 1–6 of 46 · page 3 of 3" in shown
    assert "Earlier" not in shown and "Later" in shown


def test_a_page_number_that_is_not_one_is_refused_before_anything_runs(harness, channel):
    result = harness.command("timeline last", channel=channel)
    assert "`last` is not a page number" in result.json["text"]


def test_unpinned_messages_are_not_in_the_timeline(harness, channel):
    ts = harness.workspace.post_user_message(BOB, channel, "lunch order?").ts
    harness.slack.pin(BOB, channel, ts)
    harness.slack.unpin(BOB, channel, ts)
    harness.settle()
    harness.command("timeline", channel=channel)
    assert "lunch order" not in blocks_text(last_ephemeral(harness).blocks)


# --- follow-ups ---------------------------------------------------------------------------------------------


def test_a_followup_with_an_owner_is_recorded_and_the_owner_is_told(harness, channel):
    harness.command(f"followup alert on payments-api error rate <@{CAROL}|carol>", channel=channel, user=BOB)
    assert (
        harness.last_reply(BOB) == "Follow-up added to INC-1, owned by <@U01CAROL>. `/incident followups` lists them."
    )
    [event] = harness.events(kind="followup_added")
    assert event_mrkdwn(event, ref="INC-1") == "Follow-up added: alert on payments-api error rate (owner <@U01CAROL>)"
    [dm] = harness.dms_to(CAROL)
    assert "<@U01BOB> gave you a follow-up action from INC-1" in dm.text


def test_a_followup_without_an_owner_needs_no_mention(harness, channel):
    harness.command("followup write the runbook for queue backlogs", channel=channel, user=BOB)
    assert harness.last_reply(BOB) == "Follow-up added to INC-1. `/incident followups` lists them."
    assert harness.dms_to(BOB) == []


def test_an_owner_typed_without_picking_the_mention_is_explained(harness, channel):
    result = harness.command("followup add an alert @carol", channel=channel, user=BOB)
    assert "pick the person from Slack's @-mention list" in result.json["text"]


def test_followups_are_listed_with_a_done_button_that_closes_them(harness, channel):
    harness.command(f"followup add an alert <@{CAROL}>", channel=channel, user=BOB)
    harness.command("followup write the runbook", channel=channel, user=BOB)
    harness.command("followups", channel=channel, user=CAROL)
    listing = last_ephemeral(harness, CAROL)
    shown = blocks_text(listing.blocks)
    assert "Follow-up actions for INC-1* · 2 open, 0 done" in shown
    assert "add an alert · <@U01CAROL>" in shown and "write the runbook · _no owner yet_" in shown
    first = listing.blocks[1]["accessory"]
    harness.slack.click(
        CAROL, channel, listing.ts, TimelineAction.FOLLOWUP_DONE, block_id=listing.blocks[1]["block_id"]
    )
    harness.settle()
    assert first["value"].startswith("INC-1:")
    shown = blocks_text(last_ephemeral(harness, CAROL).blocks)
    assert "1 open, 1 done" in shown and "~add an alert~" in shown
    assert [e.actor_id for e in harness.events(kind="followup_done")] == [CAROL]


def test_followups_can_be_added_after_the_incident_is_resolved(harness, channel):
    harness.command("resolve", channel=channel)
    harness.command("followup remove the feature flag", channel=channel, user=BOB)
    assert harness.last_reply(BOB).startswith("Follow-up added to INC-1")


# --- the post-mortem draft ----------------------------------------------------------------------------------


def test_postmortem_uploads_a_markdown_draft_to_the_incident_channel(harness, channel):
    harness.command("note at 13:30, the first alert fired", channel=channel, user=BOB)
    harness.command("postmortem", channel=channel, user=BOB)
    assert harness.last_reply(BOB) == (
        "Preparing the post-mortem draft: it will appear in this channel as `INC-1-postmortem.md`. "
        "INC-1 is still open: the draft covers it so far."
    )
    file, picture = harness.workspace.files.all()  # the draft and its timeline chart, in one upload
    assert file.name == "INC-1-postmortem.md" and file.channels == [channel]
    assert picture.name == "INC-1-timeline.png" and picture.channels == [channel]
    draft = file.content.decode()
    assert draft.startswith("# INC-1 post-mortem: Checkout is failing\n")
    assert "Note by @Bob" in draft or "Note by @bob" in draft, "names resolved with users.info"
    [uploaded] = harness.events(kind="postmortem_uploaded")
    assert uploaded.data == {"file_id": file.id, "picture_file_id": picture.id}
    assert harness.outbox(Effect.UPLOAD_POSTMORTEM)[0].result["file_id"] == file.id
    comment = harness.workspace.messages(channel)[-1]
    assert comment.text.startswith("Post-mortem draft for INC-1, asked for by <@U01BOB>.")


def test_a_resolved_incidents_card_has_a_post_mortem_button(harness, channel):
    harness.click(CardAction.RESOLVE, user=BOB)
    harness.click(TimelineAction.POSTMORTEM, user=BOB)
    assert [f.name for f in harness.workspace.files.all()] == ["INC-1-postmortem.md", "INC-1-timeline.png"]
    assert harness.last_reply(BOB) == (
        "Preparing the post-mortem draft: it will appear in this channel as `INC-1-postmortem.md`."
    )


def test_asking_twice_before_the_first_draft_is_out_uploads_one(harness, channel):
    harness.command("postmortem", channel=channel, user=BOB, settle=False)
    harness.command("postmortem", channel=channel, user=CAROL, settle=False)
    harness.settle()
    replies = [harness.last_reply(BOB), harness.last_reply(CAROL)]
    assert sum("already on its way" in reply for reply in replies) == 1, "whichever came second"
    assert len(harness.workspace.files.all()) == 2, "one draft and its chart"


def test_a_retry_after_a_successful_upload_uploads_nothing(harness, channel):
    harness.command("postmortem", channel=channel, user=BOB)
    [message] = harness.outbox(Effect.UPLOAD_POSTMORTEM)
    result = harness.handlers[Effect.UPLOAD_POSTMORTEM](message)  # as if the worker died before settling
    assert result["file_id"] == harness.workspace.files.all()[0].id
    assert len(harness.workspace.files.all()) == 2, "one draft and its chart"
    assert len(harness.calls("files.completeUploadExternal")) == 1
    assert len(harness.events(kind="postmortem_uploaded")) == 1


def test_a_second_request_later_uploads_a_fresh_draft(harness, channel):
    harness.command("postmortem", channel=channel, user=BOB)
    harness.clock.advance(minutes=30)
    harness.command("postmortem", channel=channel, user=BOB)
    first, second = (f for f in harness.workspace.files.all() if f.name.endswith(".md"))
    assert "Post-mortem draft uploaded to the channel" in second.content.decode()
    assert first.id != second.id
