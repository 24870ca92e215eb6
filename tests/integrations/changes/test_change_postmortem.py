"""The post-mortem draft's "Changes in the 24 hours before the incident": the incident's services and the
dependencies "What changed recently" showed, newest first; in the Markdown and in the JSON export."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from app.postmortem.render import render_markdown, to_json
from incidents import postmortem
from incidents.models import ChangeEvent
from tests.integrations.changes.changes_helpers import change, post_changes
from tests.slack.slack_harness import Harness


def _draft(bot: Harness) -> postmortem.PostmortemData:
    with bot.runtime.sessions() as session:
        incident = bot.incident(1)
        return postmortem.build(session, session.merge(incident), now=bot.clock.now)


def test_the_draft_lists_the_changes_of_the_day_before(bot: Harness) -> None:
    now = bot.clock.now
    post_changes(
        bot,
        [
            change("ledger", "config", "Pool | 40", now - timedelta(hours=20), who="sam"),
            change(
                "checkout",
                "deploy",
                "Checkout v2.4.0",
                now - timedelta(minutes=30),
                version="v2.4.0",
                link="https://ci.example.com/runs/991",
            ),  # fmt: skip
            change("checkout", "deploy", "Two days ago", now - timedelta(hours=25)),
            change("gateway", "deploy", "Not related", now - timedelta(hours=1)),
        ],
    )
    bot.declare(services=["checkout"])
    bot.clock.advance(minutes=10)
    post_changes(bot, change("checkout", "deploy", "After the declaration", bot.clock.now))

    data = _draft(bot)
    assert data.changes_services == ("checkout", "ledger", "auth")
    assert [c.summary for c in data.changes] == ["Checkout v2.4.0", "Pool | 40"]
    assert data.changes[0].before_declared == timedelta(minutes=30)

    markdown = render_markdown(data)
    section = markdown.split("## Changes in the 24 hours before the incident\n", 1)[1].split("\n## ", 1)[0]
    assert "For checkout, ledger, auth, newest first:" in section
    rows = [line for line in section.splitlines() if line.startswith("| 2026")]
    assert rows == [
        "| 2026-11-21 13:30 | 30m 00s | checkout | deploy | Checkout v2.4.0 (<https://ci.example.com/runs/991>) "
        "| — | v2.4.0 |",
        "| 2026-11-20 18:00 | 20h 00m | ledger | config | Pool \\| 40 | sam | — |",
    ]

    exported = to_json(data)["changes_before"]
    assert exported["services"] == ["checkout", "ledger", "auth"]
    assert exported["changes"][0] == {
        "service": "checkout",
        "kind": "deploy",
        "summary": "Checkout v2.4.0",
        "who": "",
        "version": "v2.4.0",
        "link": "https://ci.example.com/runs/991",
        "occurred_at": "2026-11-21T13:30:00Z",
        "seconds_before_declared": 1800,
    }


def test_the_draft_says_when_nothing_changed(bot: Harness) -> None:
    bot.declare(services=["gateway"])
    markdown = render_markdown(_draft(bot))
    assert "_No changes were recorded for gateway in the 24 hours before it was declared._" in markdown
    assert to_json(_draft(bot))["changes_before"] == {"services": ["gateway"], "changes": []}


def test_the_draft_keeps_the_changes_shown_after_they_are_pruned(bot: Harness) -> None:
    """Change events are pruned after CHANGE_RETENTION_DAYS; an old incident's draft still lists what "What
    changed recently" showed, from the timeline."""
    now = bot.clock.now
    post_changes(bot, change("checkout", "deploy", "Checkout v2.4.0", now - timedelta(minutes=30), version="v2.4.0"))
    bot.declare(services=["checkout"])
    assert [c.summary for c in _draft(bot).changes] == ["Checkout v2.4.0"]

    with bot.runtime.sessions.begin() as session:
        assert session.execute(delete(ChangeEvent)).rowcount == 1

    data = _draft(bot)
    assert [(c.service, c.summary, c.version, c.before_declared) for c in data.changes] == [
        ("checkout", "Checkout v2.4.0", "v2.4.0", timedelta(minutes=30))
    ]
