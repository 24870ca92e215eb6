"""What the owner tests share: the people of `ownership.yml`, and reading what the bot did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.sandbox.models import Message
from incidents.models import TimelineEvent
from incidents.timeline import EventKind
from tests.slack.slack_harness import Harness, blocks_text

MAP = Path(__file__).with_name("ownership.yml")
PAYMENTS_PRIMARY = "U0PAYPRIM"
ANA = "U0ANA"  # ana@example.com, payments' secondary
IDENTITY_PRIMARY = "U0IDENT01"
PLATFORM_MEMBER = "U0PLAT001"
PAYMENTS_GROUP = "S0PAYMENTS"  # @payments-oncall
IDENTITY_GROUP = "S0IDENTITY"


def engagements(harness: Harness, number: int = 1) -> list[TimelineEvent]:
    """The incident's OWNERS_ENGAGED timeline events, oldest first."""
    incident = harness.incident(number)
    with harness.runtime.sessions() as session:
        return list(
            session.scalars(
                select(TimelineEvent)
                .where(TimelineEvent.incident_id == incident.id, TimelineEvent.kind == EventKind.OWNERS_ENGAGED)
                .order_by(TimelineEvent.id)
            )
        )


def bot_messages(harness: Harness, channel_id: str) -> list[Message]:
    return [m for m in harness.workspace.messages(channel_id) if m.user == harness.workspace.bot.id]


def mentions_of(harness: Harness, channel_id: str, needle: str) -> list[Message]:
    """The bot's messages in the channel whose text contains `needle` (a mention, usually)."""
    return [m for m in bot_messages(harness, channel_id) if needle in m.text]


def bookmarks(harness: Harness, channel_id: str) -> list[tuple[str, str]]:
    return [(b.title, b.link) for b in harness.workspace.channel(channel_id).bookmarks]


def last_reply_blocks(harness: Harness, user: str) -> str:
    """All the text of the last ephemeral answer to `user` (blocks included)."""
    ephemerals = harness.workspace.ephemerals_for(user)
    assert ephemerals, f"nothing was said to {user}"
    last: Any = ephemerals[-1]
    return last.text + "\n" + blocks_text(last.blocks)
