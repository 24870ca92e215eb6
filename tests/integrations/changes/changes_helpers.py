"""What the change-event tests share: the secrets, sending to the endpoints, a GitHub `deployment_status` event
shaped as GitHub documents it, and reading what was stored."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.sandbox.models import Message
from app.slack.ids import ChangesBlock
from incidents.models import ChangeEvent, TimelineEvent
from incidents.timeline import EventKind
from tests.slack.slack_harness import Harness, WebhookAnswer

MAP = Path(__file__).with_name("ownership.yml")
TOKEN = "change-token-for-tests"
GITHUB_SECRET = "github-secret-for-tests"


def post_changes(bot: Harness, body: Any, *, token: str | None = TOKEN, headers: dict[str, str] | None = None):
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    return bot.post("/changes", body, sent)


def sign(body: bytes, secret: str = GITHUB_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_github(
    bot: Harness,
    body: Any,
    *,
    event: str = "deployment_status",
    delivery: str = "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    secret: str = GITHUB_SECRET,
    signature: str | None = None,
) -> WebhookAnswer:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature if signature is not None else sign(raw, secret),
        "User-Agent": "GitHub-Hookshot/044aadd",
    }
    return bot.post("/changes/github", raw, headers)


_DEPLOYMENT_STATUS: dict[str, Any] = {
    "action": "created",
    "deployment_status": {
        "url": "https://api.github.com/repos/acme/checkout/deployments/145988746/statuses/1",
        "id": 2463000001,
        "node_id": "DES_kwDOAAAB",
        "state": "success",
        "creator": {"login": "octocat", "id": 1, "type": "User"},
        "description": "Rolled out to 12 of 12 pods",
        "environment": "production",
        "target_url": "https://ci.example.com/runs/991",
        "log_url": "https://ci.example.com/runs/991/log",
        "environment_url": "https://checkout.example.com",
        "created_at": "2026-11-21T13:50:00Z",
        "updated_at": "2026-11-21T13:50:00Z",
        "deployment_url": "https://api.github.com/repos/acme/checkout/deployments/145988746",
        "repository_url": "https://api.github.com/repos/acme/checkout",
    },
    "deployment": {
        "url": "https://api.github.com/repos/acme/checkout/deployments/145988746",
        "id": 145988746,
        "node_id": "DE_kwDOAAAB",
        "sha": "a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d",
        "ref": "v2.4.0",
        "task": "deploy",
        "payload": {},
        "original_environment": "production",
        "environment": "production",
        "description": None,
        "creator": {"login": "deploy-bot[bot]", "id": 2, "type": "Bot"},
        "created_at": "2026-11-21T13:45:00Z",
        "updated_at": "2026-11-21T13:50:00Z",
        "statuses_url": "https://api.github.com/repos/acme/checkout/deployments/145988746/statuses",
        "repository_url": "https://api.github.com/repos/acme/checkout",
    },
    "repository": {
        "id": 1296269,
        "name": "checkout",
        "full_name": "acme/checkout",
        "html_url": "https://github.com/acme/checkout",
        "private": True,
    },
    "sender": {"login": "octocat", "id": 1, "type": "User"},
}


def deployment_status(**changes: Any) -> dict[str, Any]:
    """A `deployment_status` event; `state=`, `service=` (the deployment's payload), `repo=`, `at=`."""
    event = copy.deepcopy(_DEPLOYMENT_STATUS)
    if "state" in changes:
        event["deployment_status"]["state"] = changes["state"]
    if "service" in changes:
        event["deployment"]["payload"] = {"service": changes["service"]}
    if "repo" in changes:
        event["repository"]["name"] = changes["repo"]
        event["repository"]["full_name"] = f"acme/{changes['repo']}"
    if "at" in changes:
        event["deployment_status"]["created_at"] = changes["at"]
    return event


PING = {
    "zen": "Keep it logically awesome.",
    "hook_id": 30,
    "hook": {"type": "Repository", "id": 30, "events": ["deployment_status"], "config": {"content_type": "json"}},
    "repository": {"id": 1296269, "name": "checkout", "full_name": "acme/checkout"},
    "sender": {"login": "octocat"},
}


def stored(bot: Harness) -> list[ChangeEvent]:
    """Every change event stored, oldest first."""
    with bot.runtime.sessions() as session:
        return list(session.scalars(select(ChangeEvent).order_by(ChangeEvent.id)))


def change(service: str, kind: str, summary: str, at: datetime, **more: Any) -> dict[str, Any]:
    """Our JSON for one change."""
    return {"service": service, "kind": kind, "summary": summary, "occurred_at": at.isoformat(), **more}


def changes_messages(bot: Harness, channel_id: str) -> list[Message]:
    """The bot's "What changed recently" messages in a channel, oldest first."""
    return [
        m
        for m in bot.workspace.messages(channel_id)
        if m.user == bot.workspace.bot.id and any(b.get("block_id") == ChangesBlock.HEADER for b in m.blocks)
    ]


def shown_events(bot: Harness, number: int = 1) -> list[TimelineEvent]:
    return bot.events(number, EventKind.CHANGES_SHOWN)


def listed(message: Message) -> list[str]:
    """The change lines of a message (its section blocks), top first."""
    return [b["text"]["text"] for b in message.blocks if b.get("type") == "section"]
