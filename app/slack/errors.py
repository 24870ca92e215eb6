"""Slack failures, sorted for the outbox: retry soon, retry later with a clear reason, or give up.

`with slack_step("create the channel"):` turns whatever slack_sdk raises into RetryLater (with Retry-After when
Slack gave one) or PermanentFailure, whose message becomes the outbox row's `last_error`.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.error import URLError

from slack_sdk.errors import SlackApiError

from app.slack.client import retry_after
from incidents.outbox import PermanentFailure, RetryLater

TRANSIENT = {
    "ratelimited",
    "rate_limited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}
# Retrying helps only once someone fixes the configuration; the reason says what to fix.
NEEDS_A_HUMAN = {
    "invalid_auth": "Slack refused the bot token (invalid_auth): check SLACK_BOT_TOKEN",
    "not_authed": "no bot token was sent (not_authed): set SLACK_BOT_TOKEN",
    "account_inactive": "the bot's Slack account is deactivated (account_inactive): reinstall the app",
    "token_revoked": "the bot token was revoked (token_revoked): reinstall the app",
    "missing_scope": "the Slack app lacks a permission (missing_scope{needed}): add it to the app and reinstall",
    "channel_not_found": "Slack cannot find the channel (channel_not_found): check the channel setting "
    "and that the bot can see it",
    "not_in_channel": "the bot is not in the channel (not_in_channel): invite it",
    "is_archived": "the channel is archived (is_archived)",
    "restricted_action": "a workspace policy forbids this (restricted_action)",
}
PERMANENT = {
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "no_text",
    "invalid_arguments",
    "invalid_json",
    "too_long",
}
PLAIN = {
    "ratelimited": "Slack is limiting how fast the bot may call it",
    "internal_error": "Slack had an internal error",
    "fatal_error": "Slack had an internal error",
    "service_unavailable": "Slack is unavailable",
    "request_timeout": "Slack did not answer in time",
    "invalid_auth": "Slack refused the bot's token (an admin must check it)",
    "not_authed": "the bot has no Slack token (an admin must set it)",
    "account_inactive": "the bot's Slack account is deactivated",
    "token_revoked": "the bot's Slack token was revoked",
    "missing_scope": "the Slack app lacks a permission it needs",
    "restricted_action": "a workspace policy does not let the bot create channels",
}


def error_code(exc: SlackApiError) -> str:
    """Slack's error code (`channel_not_found`), or "" when the answer carried none."""
    data = getattr(exc.response, "data", None)
    return str(data.get("error") or "") if isinstance(data, dict) else ""


def status_code(exc: SlackApiError) -> int:
    return getattr(exc.response, "status_code", 0) or 0


def classify(exc: BaseException, step: str) -> RetryLater | PermanentFailure | None:
    """The outbox exception for a Slack failure, or None when `exc` is not one."""
    if isinstance(exc, SlackApiError):
        code, status = error_code(exc), status_code(exc)
        if status == 429:
            return RetryLater(f"{step}: Slack rate limit (HTTP 429)", after=retry_after(exc.response.headers))
        if status >= 500:
            return RetryLater(f"{step}: Slack answered HTTP {status}")
        if code in TRANSIENT:
            return RetryLater(f"{step}: Slack answered {code}")
        if code in NEEDS_A_HUMAN:
            needed = exc.response.data.get("needed") if isinstance(exc.response.data, dict) else None
            reason = NEEDS_A_HUMAN[code].format(needed=f" {needed}" if needed else "")
            return RetryLater(f"{step}: {reason}")
        if code in PERMANENT:
            return PermanentFailure(f"{step}: Slack refused it ({code})")
        return RetryLater(f"{step}: Slack answered {code or f'HTTP {status}'}")
    if isinstance(exc, TimeoutError | URLError | ConnectionError | http.client.HTTPException | OSError):
        return RetryLater(f"{step}: could not reach Slack ({type(exc).__name__}: {exc})")
    return None


def in_plain_words(exc: BaseException) -> str:
    """Why a Slack step failed, for a person."""
    if isinstance(exc, SlackApiError):
        code, status = error_code(exc), status_code(exc)
        if status == 429:
            return PLAIN["ratelimited"]
        if status >= 500:
            return "Slack had an internal error"
        return PLAIN.get(code, f"Slack answered `{code or status}`")
    if isinstance(exc, TimeoutError):
        return "Slack did not answer in time"
    return "the bot could not reach Slack"


@contextmanager
def slack_step(step: str) -> Iterator[None]:
    try:
        yield
    except (RetryLater, PermanentFailure):
        raise
    except Exception as exc:
        translated = classify(exc, step)
        if translated is None:
            raise
        raise translated from exc


def is_error(exc: SlackApiError, *codes: str) -> bool:
    return error_code(exc) in codes
