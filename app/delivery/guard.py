"""The circuit breaker around outbox deliveries: which failures mean "Slack is down", and what a delivery does
when the circuit is open.

Outage failures: Slack answering 5xx or an internal/unavailable error code, Slack refusing the bot's token
(every call would fail until someone fixes it), and not reaching Slack at all (timeouts, refused connections).
Rate limits (429 with Retry-After) and per-message refusals (channel_not_found, invalid_blocks) say Slack is up.
A delivery that fails while tripping or probing the circuit is rescheduled as `Unavailable`: it does not use up
one of its attempts, so an outage of any length dead-letters nothing and everything goes out once Slack is back.

Effects that never call Slack (`NOT_SLACK`: the pager calls) are not guarded: a Slack outage is exactly when a
page must go out, and a pager's failure says nothing about Slack (it has its own retries and Retry-After).
"""

from __future__ import annotations

import http.client
from collections.abc import Collection, Mapping
from typing import Any
from urllib.error import URLError

from slack_sdk.errors import SlackApiError

from app.delivery.circuit import CircuitBreaker
from app.slack.errors import error_code, status_code
from incidents.effects import Effect
from incidents.models import OutboxMessage
from incidents.outbox import Handler, NotReady, PermanentFailure, RetryLater, Unavailable

OUTAGE_CODES = {
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
}


def is_outage(error: BaseException) -> bool:
    """Does this failure say something about Slack as a whole (rather than about this one message)?"""
    cause: BaseException | None = error
    while isinstance(cause, RetryLater | PermanentFailure) and cause.__cause__ is not None:
        cause = cause.__cause__
    if isinstance(cause, SlackApiError):
        status, code = status_code(cause), error_code(cause)
        return status >= 500 or (status != 429 and code in OUTAGE_CODES)
    return isinstance(cause, TimeoutError | URLError | ConnectionError | http.client.HTTPException)


NOT_SLACK = frozenset(
    {Effect.PAGE_TRIGGER.value, Effect.PAGE_ACKNOWLEDGE.value, Effect.PAGE_RESOLVE.value, Effect.PAGE_OWNERS.value}
    | {Effect.TICKET_CREATE.value, Effect.TICKET_SYNC.value, Effect.TICKET_FOLLOWUPS.value}  # the trackers
)


def guard(
    handlers: Mapping[str, Handler], circuit: CircuitBreaker, *, bypass: Collection[str] = NOT_SLACK
) -> dict[str, Handler]:
    """The same handlers, each reporting to `circuit` and refusing to call Slack while it is open; the `bypass`
    kinds (they do not call Slack) as they are."""
    return {kind: handler if kind in bypass else _Guarded(handler, circuit) for kind, handler in handlers.items()}


class _Guarded:
    def __init__(self, handler: Handler, circuit: CircuitBreaker):
        self.handler = handler
        self.circuit = circuit

    def __call__(self, message: OutboxMessage) -> Mapping[str, Any] | None:
        circuit = self.circuit
        if not circuit.allow():
            raise Unavailable("Slack is failing: the circuit breaker is open", after=_after(circuit))
        try:
            result = self.handler(message)
        except NotReady:
            circuit.record_neutral()
            raise
        except Exception as exc:
            if not is_outage(exc):
                if isinstance(exc, PermanentFailure | RetryLater):
                    circuit.record_success()  # Slack answered: it is up
                else:
                    circuit.record_neutral()  # our own bug: says nothing about Slack
                raise
            if circuit.record_failure(exc):
                raise Unavailable(f"{exc} (Slack is failing: circuit breaker open)", after=_after(circuit)) from exc
            raise
        circuit.record_success()
        return result


def _after(circuit: CircuitBreaker) -> float:
    """Until the next probe, at least a second (never a busy loop)."""
    return max(circuit.retry_after(), 1.0)
