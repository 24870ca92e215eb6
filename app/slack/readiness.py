"""Slack's part of `GET /readyz`: does Slack accept our token? `auth.test`, remembered for a minute when it
passes and for a few seconds when it fails, so that a probe every few seconds never becomes a call to Slack
every few seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cachetools import TLRUCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.observability.health import first_line
from app.slack.errors import error_code, status_code


class SlackAuthCheck:
    """`auth.test`, cached: `ttl` seconds after a pass, `retry_seconds` after a failure."""

    def __init__(
        self,
        client: WebClient,
        *,
        ttl: float = 60.0,
        retry_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.client = client
        self._answers: TLRUCache[str, str | None] = TLRUCache(
            maxsize=1, ttu=lambda _key, problem, now: now + (ttl if problem is None else retry_seconds), timer=clock
        )
        self._lock = threading.Lock()  # held while asking: probes arriving meanwhile wait and share the answer

    def __call__(self) -> str | None:
        with self._lock:
            try:
                return self._answers["auth.test"]
            except KeyError:
                problem = self._answers["auth.test"] = self._ask()
                return problem

    def _ask(self) -> str | None:
        try:
            self.client.auth_test()
        except SlackApiError as exc:
            error, status = error_code(exc) or None, status_code(exc)
            if status >= 400:
                return f"Slack answered auth.test with HTTP {status} ({error or 'no error code'})"
            return f"Slack refused auth.test: {error}"
        except Exception as exc:  # noqa: BLE001
            return f"cannot reach Slack: {type(exc).__name__}: {first_line(exc)}"
        return None
