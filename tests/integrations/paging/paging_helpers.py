"""What the paging tests share: the map, the keys (fake, never real), reading pages."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from incidents.models import Page
from tests.slack.slack_harness import Harness

MAP = Path(__file__).with_name("ownership.yml")
PAGERDUTY_KEY = "R0UT1NGKEYpaymentsXXXXXXXXXXXXXX"
OPSGENIE_KEY = "0f0e0d0c-genie-key-search-000000000000"
KEYS = {"PAGERDUTY_PAYMENTS_KEY": PAGERDUTY_KEY, "OPSGENIE_SEARCH_KEY": OPSGENIE_KEY}


def pages(bot: Harness, number: int = 1) -> dict[str, Page]:
    incident = bot.incident(number)
    with bot.runtime.sessions() as session:
        return {p.team: p for p in session.scalars(select(Page).where(Page.incident_id == incident.id))}


def channel_texts(bot: Harness, number: int = 1) -> list[str]:
    incident = bot.incident(number)
    return [m.text for m in bot.workspace.messages(incident.channel_id)]
