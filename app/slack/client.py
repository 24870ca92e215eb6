"""The one `WebClient` the bot talks to Slack with, built from the settings.

Retries inside a call stay short (one retry for a connection reset, a 500/503, or a 429 whose Retry-After is
short); anything longer is the outbox's job, which retries effects with backoff for minutes.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from app.settings import Settings


class ShortRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Waits out a 429 in the call only when Retry-After is at most `max_wait` seconds."""

    def __init__(self, max_wait: float, max_retry_count: int = 1):
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return retry_after(response.headers) <= self.max_wait


def retry_after(headers: dict[str, list[str]] | dict[str, str] | None) -> float:
    """Seconds from a Retry-After header (either header shape slack_sdk uses); 1 when absent or unreadable."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            try:
                return max(float(raw), 0.0)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return 1.0
    return 1.0


def retry_handlers(settings: Settings) -> list[RetryHandler]:
    return [
        ShortRateLimitRetryHandler(max_wait=settings.slack_retry_max_wait_seconds),
        ConnectionErrorRetryHandler(max_retry_count=1),
        ServerErrorRetryHandler(max_retry_count=1),
    ]


def build_client(settings: Settings, *, meter: RetryHandler | None = None) -> WebClient:
    """`meter` (the metrics' Slack call meter) goes first, so that it sees every attempt; Bolt copies the list
    onto the client of each request."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return WebClient(
        token=token,
        base_url=settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/",
        timeout=settings.slack_timeout_seconds,  # type: ignore[arg-type]  # urllib takes float seconds
        retry_handlers=([meter] if meter is not None else []) + retry_handlers(settings),
    )
