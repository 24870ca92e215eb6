"""What both tracker adapters share: one JSON call with a timeout, redirects followed (GitHub answers 301 for a
renamed repository or a transferred issue, 307 for a POST to a renamed repository), and the tracker's answer
turned into ours (2xx and 304: the response; 429, 5xx, timeouts and GitHub's rate limits: `TrackerUnavailable`;
other 4xx: `TrackerRefused` with the status and the tracker's own reason). GitHub's rate limits are a 403 or 429
with `x-ratelimit-remaining: 0` (the primary limit: wait until `x-ratelimit-reset`), or with Retry-After or a
message saying "rate limit" (the secondary limit: wait Retry-After, else a minute, as GitHub asks). The token is
sent, never put in an error or a log line."""

from __future__ import annotations

import time
from typing import Any

import httpx

from app.integrations.pager.http import MAX_AFTER, retry_after
from incidents.tickets import TrackerRefused, TrackerUnavailable

REASON_MAX = 500
SECONDARY_WAIT = 60.0  # GitHub: "wait for at least one minute" when a secondary limit gives no Retry-After


def call(
    http: httpx.Client,
    vendor: str,
    method: str,
    url: str,
    *,
    json: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    try:
        response = http.request(method, url, json=json, headers=headers, params=params)
    except httpx.TimeoutException:
        raise TrackerUnavailable(f"{vendor} did not answer in time") from None
    except httpx.HTTPError as exc:
        raise TrackerUnavailable(f"{vendor} could not be reached ({type(exc).__name__})") from None
    if response.is_success or response.status_code == 304:
        return response
    body = body_of(response)
    reason = _reason(body) or response.reason_phrase or "no reason given"
    status = response.status_code
    if status in (403, 429) and response.headers.get("x-ratelimit-remaining") == "0":
        raise TrackerUnavailable(f"{vendor} answered {status}: {reason}", after=_reset_after(response))
    if status == 429 or status >= 500:
        raise TrackerUnavailable(
            f"{vendor} answered {status}: {reason}", after=retry_after(response.headers.get("Retry-After"))
        )
    if status == 403 and ("Retry-After" in response.headers or "rate limit" in reason.lower()):
        after = retry_after(response.headers.get("Retry-After"))
        raise TrackerUnavailable(f"{vendor} answered 403: {reason}", after=SECONDARY_WAIT if after is None else after)
    raise TrackerRefused(f"{vendor} refused it ({status}): {reason}", status=status)


def body_of(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _reset_after(response: httpx.Response) -> float | None:
    """GitHub's primary rate limit: wait until `x-ratelimit-reset` (epoch seconds), else Retry-After."""
    after = retry_after(response.headers.get("Retry-After"))
    if after is not None:
        return after
    try:
        reset = float(response.headers.get("x-ratelimit-reset", ""))
    except ValueError:
        return None
    return min(max(reset - time.time(), 0.0), MAX_AFTER)


def _reason(body: dict[str, Any]) -> str:
    """Jira: `errorMessages` and `errors` (field -> message); GitHub: `message` and `errors` (objects with a
    resource, field and code, or a message)."""
    parts: list[str] = []
    if isinstance(body.get("message"), str) and body["message"]:
        parts.append(body["message"])
    messages = body.get("errorMessages")
    if isinstance(messages, list):
        parts += [str(m) for m in messages[:3] if m]
    errors = body.get("errors")
    if isinstance(errors, dict):
        parts += [f"{k}: {v}" for k, v in list(errors.items())[:5]]
    elif isinstance(errors, list):
        for error in errors[:5]:
            if isinstance(error, dict):
                if error.get("message"):
                    parts.append(str(error["message"]))
                else:
                    field, code = error.get("field"), error.get("code")
                    parts.append(" ".join(str(p) for p in (field, code) if p) or str(error))
            else:
                parts.append(str(error))
    return "; ".join(dict.fromkeys(parts))[:REASON_MAX]
