"""The Block Kit builders: always within Slack's limits (slack_sdk's models check them), user text escaped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from app.sandbox.blockkit import check_message_blocks, check_view
from app.slack.blocks.announcement import announcement_blocks, announcement_text
from app.slack.blocks.card import card_blocks, card_text
from app.slack.blocks.messages import briefing_text, update_blocks, update_text
from app.slack.blocks.modals import declare_modal, declared_view, roles_modal, update_modal
from app.slack.blocks.text import cut, escape, md
from incidents.models import Incident, Role, RoleAssignment, StatusUpdate
from incidents.process import Process

NOW = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
HUGE = "🔥 <!channel> & <@U01BOB> " + "x" * 5000 + "\n" * 50


def incident(**overrides) -> Incident:  # type: ignore[no-untyped-def]
    values = dict(
        id=1,
        number=123456789,
        title=HUGE[:200],
        summary=HUGE,
        severity="SEV1",
        status="acknowledged",
        private=False,
        services=[f"service-{n}" * 5 for n in range(80)],
        reporter_id="U01ALICE",
        channel_id="C0123",
        declared_at=NOW,
        updated_at=NOW,
        next_update_due_at=NOW + timedelta(minutes=30),
        acknowledged_at=NOW,
    )
    inc = Incident(**(values | overrides))
    inc.roles = [RoleAssignment(role=r.value, user_id="U01BOB", assigned_by="U01ALICE", assigned_at=NOW) for r in Role]
    inc.updates = [
        StatusUpdate(
            id=1,
            text=HUGE[:3000],
            impact=HUGE[:3000],
            next_steps=HUGE[:3000],
            eta=HUGE[:200],
            author_id="U01BOB",
            posted_at=NOW,
        )
    ]
    return inc


def as_dicts(blocks: list[Block]) -> list[dict]:
    return [b.to_dict() for b in blocks]


@pytest.mark.parametrize("private", [False, True])
def test_the_card_and_announcement_stay_within_limits_with_huge_text(private: bool) -> None:
    inc = incident(private=private)
    check_message_blocks(as_dicts(card_blocks(inc, Process())))
    check_message_blocks(as_dicts(announcement_blocks(inc)))
    assert len(card_text(inc)) <= 3000 and len(announcement_text(inc)) <= 3000


def test_update_messages_stay_within_limits_with_huge_text() -> None:
    inc = incident()
    check_message_blocks(as_dicts(update_blocks(inc, inc.updates[0])))


def test_modals_stay_within_limits_with_huge_prefills() -> None:
    inc = incident()
    process = Process()
    for view in (
        declare_modal(
            process,
            services=[f"s{n}" * 40 for n in range(100)],
            title=HUGE,
            impact=HUGE,
            source={"channel": "C1", "ts": "1.2", "user": "U1"},
            origin_channel="C1",
        ),
        declare_modal(process, services=None, title=HUGE, impact=HUGE),
        declared_view(inc),
        update_modal(inc, text=HUGE),
        roles_modal(inc),
    ):
        assert isinstance(view, View)
        check_view(view.to_dict())


def test_user_text_cannot_ping_everyone_but_mentions_still_work() -> None:
    assert escape("<!channel> a & b <@U01BOB|bob> <#C0123> <https://x.io>") == (
        "&lt;!channel&gt; a &amp; b <@U01BOB|bob> <#C0123> <https://x.io>"
    )
    assert escape("already &amp; escaped &lt;b&gt;") == "already &amp; escaped &lt;b&gt;"


def test_notification_fallbacks_escape_user_text_before_cutting_it() -> None:
    """The `text` of a message is mrkdwn too: a title or update saying <!channel> must not ping #incidents."""
    inc = incident(title="<!channel> checkout & <!here> <@U01BOB>", private=False)
    inc.updates[0].text = "<!everyone> " + "&" * 3000
    fallbacks = [card_text(inc), announcement_text(inc), update_text(inc, inc.updates[0])]
    for text in fallbacks:
        assert "<!" not in text, text
        assert len(text) <= 3000
        assert not text.rstrip("…").endswith(("&", "&a", "&am", "&amp")), text[-10:]
    assert "&lt;!channel&gt; checkout &amp; &lt;!here&gt; <@U01BOB>" in card_text(inc)
    assert "&lt;!channel&gt;" in announcement_text(inc)
    assert update_text(inc, inc.updates[0]).startswith("Stakeholder update for INC-123456789: &lt;!everyone&gt; &amp;")


def test_cutting_escaped_text_never_leaves_half_an_entity() -> None:
    text = "&" * 100
    for limit in range(1, 60):
        result = md(text, limit)
        assert len(result) <= limit
        assert result.rstrip("…").replace("&amp;", "") == ""
    assert cut("abcdef", 4) == "abc…"
    assert cut("abc", 4) == "abc"


def test_a_private_announcement_shows_only_reference_and_severity() -> None:
    inc = incident(private=True, title="Payroll leak", summary="Secret")
    shown = announcement_text(inc) + str(as_dicts(announcement_blocks(inc)))
    assert "INC-123456789" in shown and "SEV1" in shown
    for secret in ("Payroll", "Secret", "C0123", "acknowledged", "Acknowledged"):
        assert secret not in shown


def test_the_briefing_explains_the_duty() -> None:
    text = briefing_text(incident(), Role.COMMUNICATE, by="U01BOB", user_id="U01BOB")
    assert text.startswith("You took the *Communication* role (communicate) in *INC-123456789* (<#C0123>).")
    assert "post a stakeholder update now" in text
