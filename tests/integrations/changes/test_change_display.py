"""On declare, the incident channel gets "What changed recently": the affected services and what they depend on
(the ownership map's depends_on), newest first, within CHANGES_WINDOW_HOURS; what was shown goes on the
timeline once, however often the effect is delivered."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from app.delivery.handlers.changes import NOT_ENABLED
from app.slack.blocks.changes import MAX_SHOWN
from app.slack.blocks.facts import event_mrkdwn
from incidents import changes
from incidents.effects import Effect
from incidents.models import OutboxMessage, OutboxStatus
from tests.integrations.changes.changes_helpers import (
    change,
    changes_messages,
    listed,
    post_changes,
    shown_events,
)
from tests.slack.slack_harness import Harness


def test_declaring_shows_the_changes_to_the_service_and_its_dependencies_newest_first(bot: Harness) -> None:
    now = bot.clock.now
    post_changes(
        bot,
        [
            change("ledger", "config", "Raised the ledger's pool to 40", now - timedelta(hours=2), who="sam"),
            change(
                "checkout",
                "deploy",
                "Checkout v2.4.0",
                now - timedelta(minutes=30),
                who="jdoe",
                version="v2.4.0",
                link="https://ci.example.com/runs/991",
            ),
            change("gateway", "deploy", "Gateway 1.9 (not a dependency)", now - timedelta(minutes=10)),
            change("auth", "migration", "Dropped the old sessions table", now - timedelta(hours=7)),
            change("auth", "feature_flag", "new-login on for 10%", now - timedelta(hours=5, minutes=59)),
        ],
    )
    incident = bot.declare("Checkout is failing", services=["checkout"])

    [message] = changes_messages(bot, incident.channel_id)
    lines = listed(message)
    assert len(lines) == 3
    assert lines[0].startswith("*Deploy* · *checkout* · Checkout v2.4.0 · by jdoe · `v2.4.0` · ")
    assert "<https://ci.example.com/runs/991|details> · 30m ago (<!date^" in lines[0]
    assert lines[1].startswith("*Config* · *ledger* · Raised the ledger's pool to 40 · by sam · 2h 00m ago")
    assert lines[2].startswith("*Feature flag* · *auth* · new-login on for 10% · 5h 59m ago")
    assert "Gateway" not in str(message.blocks)  # not a dependency of checkout
    assert "sessions table" not in str(message.blocks)  # 7 h ago: outside the 6 h window
    scope = message.blocks[1]["elements"][0]["text"]
    assert scope.startswith("For *checkout* and what they depend on (*ledger*, *auth*), since <!date^")
    assert message.text == "What changed recently: 3 changes for checkout, ledger, auth"
    # The card stays the first message of the channel.
    assert bot.workspace.messages(incident.channel_id)[0].ts == incident.card_ts

    [event] = shown_events(bot)
    assert event.actor_id is None
    assert event.data["services"] == ["checkout", "ledger", "auth"]
    assert event.data["since"] == (incident.declared_at - timedelta(hours=6)).isoformat()
    assert [c["summary"] for c in event.data["changes"]] == [
        "Checkout v2.4.0",
        "Raised the ledger's pool to 40",
        "new-login on for 10%",
    ]
    assert event.data["changes"][0] == {
        "service": "checkout",
        "kind": "deploy",
        "summary": "Checkout v2.4.0",
        "who": "jdoe",
        "version": "v2.4.0",
        "link": "https://ci.example.com/runs/991",
        "occurred_at": (now - timedelta(minutes=30)).isoformat(),
    }
    assert event_mrkdwn(event, ref=incident.ref) == "3 recent changes shown for checkout, ledger, auth"


def test_no_changes_says_so_in_one_line(bot: Harness) -> None:
    incident = bot.declare(services=["gateway"])
    [message] = changes_messages(bot, incident.channel_id)
    assert listed(message)[0].startswith("No changes recorded in this window.")
    assert message.text == "What changed recently: no changes recorded for gateway"
    [event] = shown_events(bot)
    assert event.data["changes"] == []
    assert event_mrkdwn(event, ref=incident.ref).startswith("No changes recorded for gateway since ")


def test_without_services_every_services_changes_are_shown(bot: Harness) -> None:
    post_changes(bot, change("gateway", "deploy", "Gateway 1.9", bot.clock.now - timedelta(minutes=10)))
    incident = bot.declare(services=[])
    [message] = changes_messages(bot, incident.channel_id)
    assert message.blocks[1]["elements"][0]["text"].startswith("Every service, since ")
    assert "Gateway 1.9" in listed(message)[0]


def test_a_long_list_is_cut_and_says_how_many_more(bot: Harness) -> None:
    now = bot.clock.now
    post_changes(bot, [change("checkout", "deploy", f"deploy {i}", now - timedelta(minutes=i + 1)) for i in range(40)])
    incident = bot.declare(services=["checkout"])
    [message] = changes_messages(bot, incident.channel_id)
    assert len(listed(message)) == MAX_SHOWN
    assert "deploy 0 " in listed(message)[0]  # the newest
    assert message.blocks[-1]["elements"][0]["text"].startswith(f"…and {40 - MAX_SHOWN} more not shown.")
    assert len(message.blocks) <= 50
    assert message.text == "What changed recently: 40 changes for checkout, ledger, auth"


def test_a_redelivery_never_posts_twice_nor_records_twice(bot: Harness) -> None:
    post_changes(bot, change("checkout", "deploy", "Checkout v2.4.0", bot.clock.now - timedelta(minutes=30)))
    incident = bot.declare(services=["checkout"])
    [row] = bot.outbox(Effect.SHOW_CHANGES)
    # As when the worker died after the post was marked and Slack posted it, before its ts and the timeline
    # entry were kept: the retry finds the message by its block id, and the entry is there once.
    steps = {"shown": row.result["steps"]["shown"], "post_sent": True}
    with bot.runtime.sessions.begin() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id)
            .values(status=OutboxStatus.PENDING.value, next_attempt_at=bot.clock.now, result={"steps": steps})
        )
    bot.settle()
    assert len(changes_messages(bot, incident.channel_id)) == 1  # found by its block id, adopted
    assert len(shown_events(bot)) == 1


def test_a_bot_that_takes_no_change_events_posts_nothing_on_declare(harness: Harness) -> None:
    incident = harness.declare(services=["checkout"])
    assert changes_messages(harness, incident.channel_id) == []
    assert shown_events(harness) == []
    assert harness.outbox(Effect.SHOW_CHANGES) == []  # nothing even queued


def test_a_post_queued_before_change_events_were_turned_off_is_skipped(harness: Harness) -> None:
    incident = harness.declare(services=["checkout"])
    with harness.runtime.sessions.begin() as session:  # as a replica that still had CHANGE_EVENTS_TOKEN queued it
        changes.request_on_declare(session, session.merge(incident), now=harness.clock.now)
    harness.settle()
    [row] = harness.outbox(Effect.SHOW_CHANGES)
    assert row.result == {"skipped": NOT_ENABLED}
    assert changes_messages(harness, incident.channel_id) == []
