"""Opening the incident channel: names Slack accepts, collisions, resuming after a crash, the announcement."""

from __future__ import annotations

import pytest

from app.delivery.handlers.names import NAME_MAX, channel_name, slugify
from app.sandbox.workspace import check_channel_name
from tests.slack.slack_harness import ALICE, INCIDENTS_CHANNEL_ID, Harness, blocks_text


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Checkout is failing", "inc-7-checkout-is-failing"),
        ("🔥 Checkout 🔥 is DOWN!!!", "inc-7-checkout-is-down"),
        ("Café crème — Straße", "inc-7-cafe-creme-strasse"),
        ("Платежи не проходят", "inc-7-platezhi-ne-prokhodyat"),
        ("Ποσά λάθος", "inc-7-posa-lathos"),
        ("支付失败", "inc-7"),
        ("🔥🔥🔥", "inc-7"),
        ("snake_case and  spaces", "inc-7-snake-case-and-spaces"),
    ],
)
def test_channel_names_are_slugs_slack_accepts(title: str, name: str) -> None:
    assert channel_name("inc", 7, title) == name
    assert check_channel_name(name) == name


def test_long_titles_are_cut_to_80_characters_without_a_trailing_dash() -> None:
    name = channel_name("incident", 123456, "word " * 100, attempt=12)
    assert len(name) <= NAME_MAX
    assert name.endswith("-13")
    assert "--" not in name
    check_channel_name(name)


def test_slugify_never_leaves_characters_slack_refuses() -> None:
    everything = "".join(chr(c) for c in range(32, 0x3000))
    assert set(slugify(everything)) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")


def test_an_incident_with_a_long_non_latin_title_gets_a_valid_channel(harness: Harness) -> None:
    incident = harness.declare("Оплата не работает у всех клиентов в Европе и Азии " * 3)
    assert incident.channel_name.startswith("inc-1-oplata-ne-rabotaet-u-vsekh")
    assert len(incident.channel_name) <= NAME_MAX
    assert harness.workspace.channel(incident.channel_id).name == incident.channel_name


def test_a_name_taken_by_someone_else_gets_a_suffix(harness: Harness) -> None:
    harness.workspace.create_channel("inc-1-checkout-is-failing", creator=ALICE)
    harness.workspace.create_channel("inc-1-checkout-is-failing-2", creator=ALICE)
    incident = harness.declare("Checkout is failing")
    assert incident.channel_name == "inc-1-checkout-is-failing-3"
    assert [c.error for c in harness.calls("conversations.create")] == ["name_taken", "name_taken", None]


def test_a_channel_the_bot_created_before_crashing_is_adopted(harness: Harness) -> None:
    """Slack created the channel, then the bot died before recording it: the retry takes that channel."""
    ws = harness.workspace
    orphan = ws.create_channel("inc-1-checkout-is-failing", creator=ws.bot.id)
    incident = harness.declare("Checkout is failing")
    assert incident.channel_id == orphan.id
    assert len([c for c in ws.channels.values() if c.name.startswith("inc-1")]) == 1
    assert ALICE in ws.channel(orphan.id).members


def test_a_channel_of_the_same_name_owned_by_another_incident_is_not_adopted(harness: Harness) -> None:
    """Someone renamed INC-1's channel to the name INC-2 wants: INC-2 gets its own channel."""
    first = harness.declare("Checkout is failing")
    harness.workspace.channel(first.channel_id).name = "inc-2-checkout-is-failing"
    second = harness.declare("Checkout is failing")
    assert second.channel_id != first.channel_id
    assert second.channel_name == "inc-2-checkout-is-failing-2"


def test_the_topic_names_the_incident_in_plain_text(harness: Harness) -> None:
    incident = harness.declare("*Checkout* <!channel> is failing\nbadly")
    topic = harness.workspace.channel(incident.channel_id).topic.value
    assert topic.startswith("INC-1: *Checkout* <!channel> is failing badly")
    assert len(topic) <= 250


def test_the_announcement_links_the_channel_and_mentions_nobody(harness: Harness) -> None:
    incident = harness.declare("<!channel> checkout & payments are down")
    announcement = harness.announcement()
    shown = blocks_text(announcement.blocks)
    assert f"Follow along in <#{incident.channel_id}>." in shown
    assert "&lt;!channel&gt; checkout &amp; payments are down" in shown
    assert "<!channel>" not in shown
    assert incident.announcement_channel_id == INCIDENTS_CHANNEL_ID


def test_the_bot_joins_the_announcements_channel_when_it_is_not_a_member(harness: Harness) -> None:
    ws = harness.workspace
    ws.channel(INCIDENTS_CHANNEL_ID).members.remove(ws.bot.id)
    harness.declare()
    assert ws.bot.id in ws.channel(INCIDENTS_CHANNEL_ID).members
    assert harness.incident().announcement_ts is not None


def test_the_announcements_channel_is_found_by_name(harness: Harness) -> None:
    channel = harness.workspace.create_channel("ops-incidents", creator=ALICE, members=[harness.workspace.bot.id])
    harness.deps.runtime.settings.announcements_channel = "#ops-incidents"
    harness.declare()
    assert harness.incident().announcement_channel_id == channel.id
