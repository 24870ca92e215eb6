"""What the ticket tests share: the map, the credentials (fake, never real), reading tickets, signing webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.slack.ids import TicketAction
from incidents.models import FollowUp, Ticket
from tests.slack.slack_harness import Harness

MAP = Path(__file__).with_name("ownership.yml")
JIRA_EMAIL = "bot@example.com"
JIRA_TOKEN = "ATATT3xFfGF0-jira-test-token"
GITHUB_TOKEN = "github_pat_11TEST_issues_token"
WEBHOOK_SECRET = "issues-webhook-secret"


def tickets(bot: Harness) -> list[Ticket]:
    with bot.runtime.sessions() as session:
        return list(session.scalars(select(Ticket).order_by(Ticket.id)))


def followups(bot: Harness) -> list[FollowUp]:
    with bot.runtime.sessions() as session:
        return list(session.scalars(select(FollowUp).order_by(FollowUp.id)))


def channel_texts(bot: Harness, number: int = 1) -> list[str]:
    incident = bot.incident(number)
    return [m.text for m in bot.workspace.messages(incident.channel_id)]


def listing(bot: Harness, user: str) -> Any:
    """The last follow-up list shown to `user`."""
    return [m for m in bot.workspace.ephemerals_for(user) if "Follow-up actions for" in str(m.blocks)][-1]


def create_ticket_button(message: Any, followup_id: int) -> tuple[str, dict[str, Any]]:
    """The block id and the button of the follow-up's Create ticket."""
    for block in message.blocks:
        for element in block.get("elements") or []:
            if element.get("action_id") == TicketAction.CREATE and element["value"].endswith(f":{followup_id}"):
                return block["block_id"], element
    raise AssertionError(f"no Create ticket button for follow-up {followup_id}")


def signed(
    body: dict[str, Any] | bytes, *, event: str = "issues", secret: str = WEBHOOK_SECRET
) -> tuple[bytes, dict[str, str]]:
    """The body (JSON, or bytes as they are) and the headers GitHub sends with it, signed with `secret`."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Hub-Signature-256": signature, "X-GitHub-Event": event, "X-GitHub-Delivery": "d-1"}


def issues_event(issue: dict[str, Any], repo: str, action: str) -> dict[str, Any]:
    return {"action": action, "issue": issue, "repository": {"full_name": repo, "name": repo.split("/")[1]}}
