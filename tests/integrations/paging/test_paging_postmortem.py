"""The post-mortem draft says who was paged, when, what the pager answered and what failed: a "Paging" section
in the Markdown and `pages` in the JSON export (docs/postmortem-json.md); the PAGE_* events are on its
timeline like every other fact."""

from __future__ import annotations

from app.postmortem.render import render_markdown, to_json
from incidents import postmortem
from tests.integrations.paging.doubles import OpsgenieDouble, PagerDutyDouble
from tests.slack.slack_harness import Harness


def _draft(bot: Harness) -> postmortem.PostmortemData:
    with bot.runtime.sessions() as session:
        return postmortem.build(session, session.merge(bot.incident(1)), now=bot.clock.now)


def test_the_draft_lists_the_pages_their_answers_and_failures(
    bot: Harness, pagerduty: PagerDutyDouble, opsgenie: OpsgenieDouble
) -> None:
    opsgenie.api_keys = set()  # search's page is refused
    incident = bot.declare("Checkout and search down", severity="SEV1", services=["checkout", "search"])
    bot.clock.advance(minutes=5)
    bot.command("resolve", channel=incident.channel_id)

    data = _draft(bot)
    exported = {p["team"]: p for p in to_json(data)["pages"]}
    payments, search = exported["payments"], exported["search"]
    assert payments["pager"] == "pagerduty" and payments["status"] == "resolved"
    assert payments["requested_by"] is None and payments["sent_at"] and payments["resolved_at"]
    assert payments["answer"] == f"incident-{incident.id}-payments" and payments["failures"] == []
    assert search["status"] == "failed" and search["sent_at"] is None
    assert search["failures"] == ["Opsgenie refused it (401): Could not authenticate"]

    markdown = render_markdown(data)
    section = markdown.split("## Paging", 1)[1].split("\n## ", 1)[0]
    assert "| payments | PagerDuty |" in section and "| automatically |" in section
    assert "| resolved |" in section and "| failed |" in section
    assert "Paging search failed 1 time: Opsgenie refused it (401): Could not authenticate." in section
    timeline = markdown.split("## Timeline", 1)[1]
    assert "Team payments paged through PagerDuty" in timeline


def test_no_paging_section_without_pages(bot: Harness) -> None:
    bot.declare("Checkout is slow", severity="SEV3", services=["checkout"])
    data = _draft(bot)
    assert to_json(data)["pages"] == [] and "## Paging" not in render_markdown(data)
