"""Opsgenie Alert API v2, authenticated with `Authorization: GenieKey <the team's API key>`.

Trigger: `POST {OPSGENIE_API_URL}/v2/alerts` (message at most 130 characters, alias 512 (our dedup key),
description, priority P1..P5, details, source, tags). Acknowledge and close by alias:
`POST /v2/alerts/{alias}/acknowledge?identifierType=alias`, `.../close?identifierType=alias`. Opsgenie
answers 202 `{result, took, requestId}` (it processes the request later); 401/403 for a bad key, 404, 422 for
a body it cannot process, 429 when rate-limited.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from app.integrations.pager.http import post
from incidents.paging import PageCall

MESSAGE_MAX = 130
ALIAS_MAX = 512
DESCRIPTION_MAX = 15000
SOURCE_MAX = 100
PRIORITIES = {"SEV1": "P1", "SEV2": "P2", "SEV3": "P3", "SEV4": "P4", "SEV5": "P5"}


def priority(ours: str) -> str:
    return PRIORITIES.get(ours.upper(), "P3")


class Opsgenie:
    name = "opsgenie"

    def __init__(self, base_url: str, *, timeout: float, transport: httpx.BaseTransport | None = None):
        self.base = f"{base_url.rstrip('/')}/v2/alerts"
        self.http = httpx.Client(timeout=timeout, transport=transport)

    def trigger(self, call: PageCall) -> dict[str, Any]:
        links = "\n".join(f"{text}: {url}" for text, url in call.links)
        description = "\n\n".join(part for part in (call.summary, links) if part)
        body = {
            "message": _cut(call.summary, MESSAGE_MAX) or call.dedup_key[:MESSAGE_MAX],
            "alias": call.dedup_key[:ALIAS_MAX],
            "description": description[:DESCRIPTION_MAX],
            "priority": priority(call.severity),
            "details": {str(k): str(v) for k, v in call.details.items()},
            "source": call.source[:SOURCE_MAX] or "incident-bot",
            "tags": ["incident-bot", call.severity.upper()],
        }
        return self._post(self.base, call, body)

    def acknowledge(self, call: PageCall) -> dict[str, Any]:
        return self._post(self._action(call, "acknowledge"), call, {"source": call.source[:SOURCE_MAX]})

    def resolve(self, call: PageCall) -> dict[str, Any]:
        return self._post(self._action(call, "close"), call, {"source": call.source[:SOURCE_MAX]})

    def _action(self, call: PageCall, action: str) -> str:
        return f"{self.base}/{quote(call.dedup_key[:ALIAS_MAX], safe='')}/{action}?identifierType=alias"

    def _post(self, url: str, call: PageCall, body: dict[str, Any]) -> dict[str, Any]:
        return post(self.http, "Opsgenie", url, json=body, headers={"Authorization": f"GenieKey {call.secret}"})


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
