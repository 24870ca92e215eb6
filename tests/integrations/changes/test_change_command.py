"""`/incident changes [service] [--since 6h]`: in an incident channel, posted there and put on the timeline;
elsewhere, for the service named and only to the person who asked; usage errors say what to fix."""

from __future__ import annotations

from datetime import timedelta

from tests.integrations.changes.changes_helpers import change, changes_messages, listed, post_changes, shown_events
from tests.slack.slack_harness import ALICE, BOB, GENERAL, Harness


def _seed(bot: Harness) -> None:
    now = bot.clock.now
    post_changes(
        bot,
        [
            change("checkout", "deploy", "Checkout v2.4.0", now - timedelta(hours=1)),
            change("ledger", "config", "Ledger pool 40", now - timedelta(hours=3)),
            change("gateway", "infrastructure", "New load balancer", now - timedelta(hours=20)),
        ],
    )


def test_in_an_incident_channel_it_posts_the_incidents_changes_again_and_records_them(bot: Harness) -> None:
    _seed(bot)
    incident = bot.declare(services=["checkout"])
    bot.clock.advance(minutes=20)
    post_changes(bot, change("auth", "deploy", "Auth hotfix", bot.clock.now - timedelta(minutes=5)))
    bot.command("changes", user=BOB, channel=incident.channel_id)

    first, second = changes_messages(bot, incident.channel_id)
    assert [line.split(" · ")[2] for line in listed(second)] == ["Auth hotfix", "Checkout v2.4.0", "Ledger pool 40"]
    assert (
        bot.last_reply(BOB)
        == "Posting what changed for this incident's services and what they depend on in this channel."
    )
    declared, asked = shown_events(bot)
    assert asked.actor_id == BOB
    assert asked.data["services"] == ["checkout", "ledger", "auth"]
    assert [c["summary"] for c in asked.data["changes"]] == ["Auth hotfix", "Checkout v2.4.0", "Ledger pool 40"]


def test_since_reaches_further_back_for_the_service_named(bot: Harness) -> None:
    _seed(bot)
    incident = bot.declare(services=["checkout"])
    bot.command("changes gateway --since 24h", channel=incident.channel_id)
    message = changes_messages(bot, incident.channel_id)[-1]
    assert [line.split(" · ")[2] for line in listed(message)] == ["New load balancer"]
    event = shown_events(bot)[-1]
    assert event.data["services"] == ["gateway"]
    assert event.data["since"] == (bot.clock.now - timedelta(hours=24)).isoformat()


def test_elsewhere_it_answers_only_the_person_who_asked(bot: Harness) -> None:
    _seed(bot)
    bot.command("changes checkout-api --since 2h", channel=GENERAL)
    reply = bot.workspace.ephemerals_for(ALICE, GENERAL)[-1]
    assert reply.text == "What changed recently: 1 change for checkout"
    assert "Checkout v2.4.0" in str(reply.blocks)
    assert "Ledger" not in str(reply.blocks)  # a named service is shown alone
    assert not [m for m in bot.workspace.messages(GENERAL) if m.user == bot.workspace.bot.id]


def test_elsewhere_without_a_service_it_asks_for_one(bot: Harness) -> None:
    bot.command("changes", channel=GENERAL)
    assert bot.last_reply().startswith(
        "Name a service, like `/incident changes checkout`, or ask in an incident channel."
    )


def test_an_unknown_service_is_answered_with_suggestions(bot: Harness) -> None:
    bot.command("changes ledgr", channel=GENERAL)
    assert bot.last_reply() == (
        "I know no service called `ledgr`: neither the ownership map nor any recorded change names it. "
        "Did you mean *ledger*?"
    )


def test_a_service_only_change_events_know_is_shown(bot: Harness) -> None:
    post_changes(bot, change("search", "deploy", "Search 3.1", bot.clock.now - timedelta(minutes=5)))
    bot.command("changes Search", channel=GENERAL)
    assert "Search 3.1" in str(bot.workspace.ephemerals_for(ALICE, GENERAL)[-1].blocks)


def test_a_bad_since_is_a_usage_error(bot: Harness) -> None:
    for text, problem in [
        ("changes checkout --since soon", "`--since`: 'soon' is not a duration: write it like 30m, 6h, 2d or 1h30m."),
        ("changes checkout --since", "`--since` needs a duration, like `--since 6h` (30m, 2d, 1h30m)."),
        ("changes --until 2h", "I do not know the option `--until`; the only one is `--since`."),
    ]:
        bot.command(text, channel=GENERAL)
        assert problem in bot.last_reply(), text
        assert "Usage: `/incident changes [service] [--since 6h]`" in bot.last_reply()
