"""`/incident stats` through the real app: the figures only to the asker, the charts uploaded to the conversation,
and clear usage for bad flags."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from incidents.effects import Effect
from incidents.models import OutboxMessage
from tests.metrics.fixture import NOW, PRIVATE_WORDS, seed, seed_private
from tests.slack.slack_harness import ALICE, BOB, GENERAL, blocks_text


@pytest.fixture
def now():
    return NOW


@pytest.fixture
def month(harness, process):
    seed(harness.runtime.sessions, process)
    with harness.runtime.sessions.begin() as s:  # the fixture's own Slack effects are not what these tests are about
        s.execute(update(OutboxMessage).values(status="done"))
    return harness


def ephemerals(harness, user):
    return [e for e in harness.workspace.ephemerals_for(user, None)]


def test_stats_answers_only_the_asker_and_uploads_the_charts_here(month):
    result = month.command("stats --since 30d", user=BOB)
    assert result.status == 200
    reply = month.last_reply(BOB)
    assert reply == "6 incidents: 2 open, 4 resolved; time to mitigate median 27m 30s"
    [answer] = [e for e in ephemerals(month, BOB) if e.text == reply]
    shown = blocks_text(answer.blocks)
    assert "*Time to mitigate* median 27m 30s, p90 1h 30m (4 measured, 1 skipped, 1 still open)" in shown
    assert "*Time to acknowledge* median 12m 30s, p90 20m 00s (4 measured, 2 skipped)" in shown
    # FOLLOWUP_OVERDUE_DAYS is 30 here: INC-7's (opened 20 Oct, 41 days ago), though INC-7 is outside the period
    assert "*Follow-ups:* 4 opened, 1 done, 1 overdue" in shown
    assert "• INC-7: Outside the period (<@U03CAROL>, 41 days)" in shown
    assert not month.replies_to(ALICE), "nobody else is told"
    files = month.workspace.files.all()
    assert sorted(f.name for f in files) == ["incidents-per-service.png", "time-to-mitigate.png", "update-gaps.png"]
    assert all(f.channels == [GENERAL] and f.content.startswith(b"\x89PNG") for f in files)
    [effect] = month.outbox(Effect.UPLOAD_STATS)
    assert effect.status == "done" and set(effect.result["files"]) == {
        "time-to-mitigate",
        "incidents-per-service",
        "update-gaps",
    }


def test_stats_show_a_private_incident_only_by_reference_and_severity(month, process):
    seed_private(month.runtime.sessions, process)
    with month.runtime.sessions.begin() as s:
        s.execute(update(OutboxMessage).values(status="done"))
    month.command("stats --since 30d", user=BOB)
    # INC-1..6 and the private INC-9 (26 Nov, ack +10m, mitigated +40m, open)
    assert month.last_reply(BOB) == "7 incidents: 3 open, 4 resolved; time to mitigate median 30m 00s"
    [answer] = [e for e in ephemerals(month, BOB) if e.text == month.last_reply(BOB)]
    shown = blocks_text(answer.blocks)
    assert "*By severity:* SEV1 2, SEV2 3, SEV3 1, SEV4 1" in shown
    assert "*By service:* checkout 3, payments 2, search 2, (private) 1" in shown
    # INC-8's follow-up (opened 1 Oct 12:00, 60 days) and INC-7's (20 Oct 11:00, 41 days)
    assert "*Follow-ups:* 5 opened, 1 done, 2 overdue" in shown  # the fixture's 4 and INC-9's
    assert "• INC-8: a follow-up of a private incident (60 days)" in shown
    assert not any(word in shown for word in PRIVATE_WORDS)
    month.command("stats --since 30d --service payroll", user=BOB)  # would tell INC-9's service
    assert month.last_reply(BOB).startswith("0 incidents")


def test_stats_filters_by_service_and_severity(month):
    month.command("stats --since=30d --service checkout --severity sev1", user=BOB)
    assert month.last_reply(BOB) == "2 incidents: 1 open, 1 resolved; time to mitigate median 30m 00s"


def test_stats_on_an_empty_period_says_so_and_uploads_nothing(month):
    month.command("stats --since 1d", user=BOB)
    assert month.last_reply(BOB).startswith("0 incidents")
    assert month.workspace.files.all() == []
    assert month.outbox(Effect.UPLOAD_STATS) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stats --since soon", "`--since`: 'soon' is not a duration"),
        ("stats --since", "`--since` needs a value, like `--since 30d`"),
        ("stats --colour red", "I do not know the option `--colour`"),
        ("stats checkout", "`checkout` is not an option"),
        ("stats --since 2d --since 3d", "`--since` is given twice"),
        ("stats --severity SEV9", "I know no severity `SEV9`: the severities are SEV1, SEV2, SEV3, SEV4."),
    ],
)
def test_bad_flags_get_a_clear_usage_message(month, text, expected):
    result = month.command(text, user=BOB)
    assert result.status == 200
    reply = month.last_reply(BOB)
    assert expected in reply
    if "severity" not in text:
        assert "/incident stats [--since 90d] [--service S] [--severity SEV1]" in reply
    assert month.outbox(Effect.UPLOAD_STATS) == []


def test_a_failed_chart_upload_is_retried_without_uploading_the_others_again(month):
    month.workspace.faults.fail("files.getUploadURLExternal", delay=0.001)  # the first chart goes through
    month.workspace.faults.fail("files.getUploadURLExternal", error="internal_error")  # the second fails
    month.command("stats --since 30d", user=BOB)
    assert [f.name for f in month.workspace.files.all()] == ["time-to-mitigate.png"]
    [effect] = month.outbox(Effect.UPLOAD_STATS)
    assert effect.status == "pending" and list(effect.result["steps"]) == ["chart:time-to-mitigate"]
    month.later(600)
    names = [f.name for f in month.workspace.files.all()]
    assert sorted(names) == ["incidents-per-service.png", "time-to-mitigate.png", "update-gaps.png"]
    assert month.outbox(Effect.UPLOAD_STATS)[0].status == "done"


def test_the_conversation_sees_only_the_charts_and_who_asked(month):
    month.command("stats --since 30d", user=BOB)
    posted = [m.text for m in month.workspace.messages(GENERAL) if m.text]  # file shares carry no text
    assert posted == ["Incident metrics charts, asked for by <@U01BOB>."]
    assert len(month.workspace.messages(GENERAL)) == 3  # the three charts, nothing else


def test_in_a_public_channel_the_bot_is_not_in_it_joins_to_upload_the_charts(month):
    month.workspace.create_channel("random", creator=ALICE, channel_id="C0RANDOM", members=[BOB])
    month.command("stats --since 30d", user=BOB, channel="C0RANDOM")
    files = month.workspace.files.all()
    assert len(files) == 3 and all(f.channels == ["C0RANDOM"] for f in files)
    assert [c.args.get("channel") for c in month.calls("conversations.join") if c.ok] == ["C0RANDOM"]
    assert month.outbox(Effect.UPLOAD_STATS)[0].status == "done"


def _dm_with(harness, user):
    [dm] = [c for c in harness.workspace.channels.values() if getattr(c, "is_im", False) and user in c.members]
    return dm.id


def test_asked_in_a_direct_message_the_charts_go_to_the_askers_dm_with_the_bot(month):
    """A group DM (or a DM between two people) takes no upload from the bot: the charts go to the asker's DM."""
    month.workspace.create_channel(
        "mpdm-alice--bob-1", creator=ALICE, channel_id="G0GROUPDM", is_private=True, members=[BOB]
    )
    month.command("stats --since 30d", user=BOB, channel="G0GROUPDM")
    [answer] = [e for e in ephemerals(month, BOB) if e.text == month.last_reply(BOB)]
    assert "are being uploaded to you in a direct message from me." in blocks_text(answer.blocks)
    dm = _dm_with(month, BOB)
    files = month.workspace.files.all()
    assert len(files) == 3 and all(f.channels == [dm] for f in files)
    told = [m.text for m in month.dms_to(BOB) if m.text]
    assert told == [
        "I cannot post in the conversation you asked in, so here are the incident metrics charts you asked for."
    ]
    [effect] = month.outbox(Effect.UPLOAD_STATS)
    assert effect.status == "done" and effect.attempts == 0 and effect.result["steps"]["target"] == dm  # no retry
    assert month.calls("files.completeUploadExternal")[0].args.get("channel_id") == dm  # never tried the group


def test_in_a_private_channel_the_bot_is_not_in_the_charts_go_to_the_askers_dm_at_once(month):
    """Slack's "cannot post there" answers are final for that conversation: no retries, the asker's DM instead."""
    month.workspace.create_channel("secret", creator=ALICE, channel_id="C0SECRET", is_private=True, members=[BOB])
    month.command("stats --since 30d", user=BOB, channel="C0SECRET")
    dm = _dm_with(month, BOB)
    files = month.workspace.files.all()
    assert len(files) == 3 and all(f.channels == [dm] for f in files)
    assert [m.text for m in month.dms_to(BOB) if m.text] == [
        "I cannot post in <#C0SECRET>, so here are the incident metrics charts you asked for."
    ]
    assert month.workspace.messages("C0SECRET") == []
    [effect] = month.outbox(Effect.UPLOAD_STATS)
    assert effect.status == "done" and effect.attempts == 0 and effect.last_error is None  # no retry
