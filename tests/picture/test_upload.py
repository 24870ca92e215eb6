"""The post-mortem upload through the real handler against the Slack double: the timeline chart goes beside the
draft in one files_upload_v2 (one message, two files), the draft links it, and a retry uploads nothing."""

from __future__ import annotations

import io

import matplotlib.image

from app.charts import incident as incident_chart
from app.delivery.handlers.postmortem import _file_ids
from incidents.effects import Effect
from tests.slack.slack_harness import BOB, CAROL, Harness

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LINK = "](INC-1-timeline.png)"


def an_incident_worked_on(harness: Harness) -> str:
    channel = harness.declare().channel_id
    harness.clock.advance(minutes=3)
    harness.command("ack", channel=channel, user=BOB)
    harness.clock.advance(minutes=2)
    harness.command(f"role mitigate <@{CAROL}>", channel=channel, user=BOB)
    harness.clock.advance(minutes=5)
    harness.command("update Card payments fail; rolling back.", channel=channel, user=BOB)
    harness.clock.advance(minutes=20)
    harness.command("mitigated", channel=channel, user=CAROL)
    harness.clock.advance(minutes=5)
    return channel


def test_the_upload_sends_the_timeline_chart_beside_the_draft_which_links_it(harness):
    channel = an_incident_worked_on(harness)
    harness.command("postmortem", channel=channel, user=BOB)
    draft, picture = harness.workspace.files.all()
    assert (draft.name, picture.name) == ("INC-1-postmortem.md", "INC-1-timeline.png")
    assert picture.channels == [channel] and picture.title == "INC-1 timeline"
    assert picture.content.startswith(PNG_SIGNATURE)
    height, width, _ = matplotlib.image.imread(io.BytesIO(picture.content), format="png").shape
    assert (width, height) == (
        incident_chart.WIDTH_IN * incident_chart.DPI,
        incident_chart.HEIGHT_IN * incident_chart.DPI,
    )
    markdown = draft.content.decode()
    assert (
        f"![INC-1 timeline: phases, stakeholder updates, missed update windows, role changes and pinned messages{LINK}"
        in markdown
    )
    comment = harness.workspace.messages(channel)[-1]
    assert comment.files == [draft.id, picture.id], "one message carries both"
    [uploaded] = harness.events(kind="postmortem_uploaded")
    assert uploaded.data == {"file_id": draft.id, "picture_file_id": picture.id}
    [message] = harness.outbox(Effect.UPLOAD_POSTMORTEM)
    assert message.result["steps"] == {"uploaded": draft.id, "picture": picture.id}
    assert len(harness.calls("files.completeUploadExternal")) == 1


def test_a_retry_after_the_upload_sends_neither_file_again(harness):
    channel = an_incident_worked_on(harness)
    harness.command("postmortem", channel=channel, user=BOB)
    [message] = harness.outbox(Effect.UPLOAD_POSTMORTEM)
    result = harness.handlers[Effect.UPLOAD_POSTMORTEM](message)  # as if the worker died before settling
    draft, picture = harness.workspace.files.all()
    assert (result["file_id"], result["picture_file_id"]) == (draft.id, picture.id)
    assert len(harness.calls("files.completeUploadExternal")) == 1
    assert len(harness.events(kind="postmortem_uploaded")) == 1


def test_a_chart_that_cannot_be_drawn_leaves_the_draft_to_go_alone_without_a_link(harness, monkeypatch):
    channel = an_incident_worked_on(harness)

    def broken(*args, **kwargs):
        raise RuntimeError("no fonts today")

    monkeypatch.setattr(incident_chart, "draw", broken)
    harness.command("postmortem", channel=channel, user=BOB)
    [draft] = harness.workspace.files.all()
    assert draft.name == "INC-1-postmortem.md"
    assert LINK not in draft.content.decode()
    [uploaded] = harness.events(kind="postmortem_uploaded")
    assert uploaded.data == {"file_id": draft.id}


def test_file_ids_are_matched_by_name_then_title_and_a_file_slack_left_out_has_none():
    """Slack's answer may leave out names, reorder files or list fewer than were sent (it used to raise IndexError)."""
    uploads = [
        {"filename": "INC-1-postmortem.md", "title": "INC-1 post-mortem draft"},
        {"filename": "INC-1-timeline.png", "title": "INC-1 timeline"},
    ]
    by_title = [{"id": "F2", "title": "INC-1 timeline"}, {"id": "F1", "title": "INC-1 post-mortem draft"}]
    assert _file_ids(by_title, uploads) == {"INC-1-postmortem.md": "F1", "INC-1-timeline.png": "F2"}
    assert _file_ids([{"id": "F1"}, {"id": "F2"}], uploads) == {  # as many as sent, nameless: in their order
        "INC-1-postmortem.md": "F1",
        "INC-1-timeline.png": "F2",
    }
    assert _file_ids([{"id": "F2", "name": "INC-1-timeline.png"}], uploads) == {"INC-1-timeline.png": "F2"}
    assert _file_ids([{"id": "F9"}], uploads) == {}  # one nameless file of two sent: which one is unknown
    assert _file_ids([], uploads) == {}
