"""The post-mortem draft and the card show what is still open: each follow-up's ticket with its key, link and
status in the Markdown and `followups[].ticket` in the JSON export; the card counts open follow-ups (a follow-up
is done when its ticket is)."""

from __future__ import annotations

from app.delivery.scheduler import ReminderScheduler
from app.postmortem.render import render_markdown, to_json
from incidents import postmortem
from tests.integrations.tracker.doubles import GitHubDouble, JiraDouble
from tests.slack.slack_harness import BOB, Harness, blocks_text


def _draft(bot: Harness) -> postmortem.PostmortemData:
    with bot.runtime.sessions() as session:
        return postmortem.build(session, session.merge(bot.incident(1)), now=bot.clock.now)


def test_the_draft_and_the_card_show_each_followups_ticket(
    bot: Harness, jira: JiraDouble, github: GitHubDouble
) -> None:
    incident = bot.declare("Checkout is failing", services=["checkout"])
    bot.command("followup alert on checkout errors --ticket", channel=incident.channel_id, user=BOB)
    bot.command("followup write the runbook --ticket", channel=incident.channel_id, user=BOB)
    bot.command("followup add a canary", channel=incident.channel_id, user=BOB)
    assert "Follow-ups: 3 open, 0 done" in blocks_text(bot.card().blocks)

    jira.transition("OPS-2", "Done", "done")
    bot.clock.advance(seconds=bot.deps.settings.ticket_sync_seconds)
    ReminderScheduler(bot.runtime).ticket_tick()
    bot.settle()
    assert "Follow-ups: 2 open, 1 done" in blocks_text(bot.card().blocks)

    data = _draft(bot)
    exported = {f["text"]: f.get("ticket") for f in to_json(data)["followups"]}
    assert exported["alert on checkout errors"] == {
        "key": "OPS-1",
        "url": f"{jira.url}/browse/OPS-1",
        "status": "To Do",
        "state": "open",
    }
    assert exported["write the runbook"]["state"] == "done"  # type: ignore[index]
    assert exported["add a canary"] is None
    section = render_markdown(data).split("## Follow-up actions", 1)[1]
    assert f"alert on checkout errors: no owner yet, open; ticket [OPS-1]({jira.url}/browse/OPS-1) (To Do)" in section
    assert f"; ticket [OPS-2]({jira.url}/browse/OPS-2) (Done)" in section
    assert "- [x] write the runbook" in section
    assert "add a canary: no owner yet, open\n" in section
