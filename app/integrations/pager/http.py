"""What both pager adapters share: one JSON POST with a timeout, and the vendor's answer turned into ours
(2xx: its body; 429 and 5xx and timeouts: `PagerUnavailable`, honouring Retry-After; other 4xx: `PagerRefused`
with the vendor's reason). The secret is sent, never put in an error or a log line."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from incidents.paging import PagerRefused, PagerUnavailable

MAX_AFTER = 3600.0


def post(
    http: httpx.Client, vendor: str, url: str, *, json: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    try:
        response = http.post(url, json=json, headers=headers)
    except httpx.TimeoutException:
        raise PagerUnavailable(f"{vendor} did not answer in time") from None
    except httpx.HTTPError as exc:
        raise PagerUnavailable(f"{vendor} could not be reached ({type(exc).__name__})") from None
    body = _body(response)
    if response.is_success:
        return body
    reason = _reason(body) or response.reason_phrase or "no reason given"
    if response.status_code == 429 or response.status_code >= 500:
        raise PagerUnavailable(
            f"{vendor} answered {response.status_code}: {reason}",
            after=retry_after(response.headers.get("Retry-After")),
        )
    raise PagerRefused(f"{vendor} refused it ({response.status_code}): {reason}")


def retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_AFTER)


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _reason(body: dict[str, Any]) -> str:
    parts = [str(body[name]) for name in ("message", "status") if isinstance(body.get(name), str) and body[name]]
    errors = body.get("errors")
    if isinstance(errors, list):
        parts += [str(e) for e in errors[:3]]
    elif isinstance(errors, dict):
        parts += [f"{k}: {v}" for k, v in list(errors.items())[:3]]
    return "; ".join(dict.fromkeys(parts))[:500]
