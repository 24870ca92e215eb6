"""PagerDuty Events API v2: `POST {PAGERDUTY_EVENTS_URL}/v2/enqueue` with the team's integration (routing) key.

A trigger carries `payload.summary` (at most 1024 characters), `source`, `severity` (critical, error, warning,
info), `custom_details` and `links`; acknowledge and resolve name only the `dedup_key`. PagerDuty answers
202 `{status, message, dedup_key}`, 400 for an invalid event (a wrong routing key too), 429 when rate-limited.
"""

from __future__ import annotations

from typing import Any

import httpx

from app.integrations.pager.http import post
from incidents.paging import PageCall

SUMMARY_MAX = 1024
SOURCE_MAX = 255
# Our severities to PagerDuty's; anything past SEV3 is a warning.
SEVERITIES = {"SEV1": "critical", "SEV2": "error", "SEV3": "warning"}


def severity(ours: str) -> str:
    return SEVERITIES.get(ours.upper(), "warning")


class PagerDuty:
    name = "pagerduty"

    def __init__(self, base_url: str, *, timeout: float, transport: httpx.BaseTransport | None = None):
        self.url = f"{base_url.rstrip('/')}/v2/enqueue"
        self.http = httpx.Client(timeout=timeout, transport=transport)

    def trigger(self, call: PageCall) -> dict[str, Any]:
        event = self._event(call, "trigger")
        event["payload"] = {
            "summary": call.summary[:SUMMARY_MAX] or call.dedup_key,
            "source": call.source[:SOURCE_MAX] or "incident-bot",
            "severity": severity(call.severity),
            "custom_details": dict(call.details),
        }
        event["links"] = [{"href": url, "text": text} for text, url in call.links]
        return self._send(event)

    def acknowledge(self, call: PageCall) -> dict[str, Any]:
        return self._send(self._event(call, "acknowledge"))

    def resolve(self, call: PageCall) -> dict[str, Any]:
        return self._send(self._event(call, "resolve"))

    def _event(self, call: PageCall, action: str) -> dict[str, Any]:
        return {"routing_key": call.secret, "event_action": action, "dedup_key": call.dedup_key}

    def _send(self, event: dict[str, Any]) -> dict[str, Any]:
        return post(self.http, "PagerDuty", self.url, json=event)
