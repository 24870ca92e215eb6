"""One summary line per Slack request: what it was, who sent it, the incident, the outcome, and how long the ack
and the whole work took.

A request is acked from a Bolt listener thread and its work often goes on after the HTTP response has left, so
the line is written by whichever finishes last: the dispatch (after the ack) or the listener work. The object is
shared through a ContextVar, copied into the listener thread by `app.slack.bolt_app.ContextExecutor`.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import structlog

_current: ContextVar[RequestLog | None] = ContextVar("slack_request_log", default=None)
logger = structlog.get_logger("app.slack")

STATUS_OUTCOME = {200: "ok", 401: "unauthorized", 404: "unhandled"}


Observer = Callable[[str | None, str, float], None]  # (kind, outcome, seconds), e.g. the latency histogram


class RequestLog:
    def __init__(self, observer: Observer | None = None) -> None:
        self.observer = observer
        self.request_id = uuid.uuid4().hex[:12]
        self.started = time.perf_counter()
        self.fields: dict[str, Any] = {}
        self.outcome: str | None = None
        self.error: str | None = None
        self.ack_ms: float | None = None
        self.status: int | None = None
        self._pending = 0
        self._acked = False
        self._written = False
        self._lock = threading.Lock()

    # Filled in as the request is understood.

    def bind(self, **fields: Any) -> None:
        fields = {k: v for k, v in fields.items() if v is not None}
        with self._lock:
            self.fields.update(fields)
        structlog.contextvars.bind_contextvars(**fields)

    def set_outcome(self, outcome: str, error: str | None = None) -> None:
        with self._lock:
            if self.outcome in (None, "ok") or outcome == "error":
                self.outcome = outcome
            if error:
                self.error = error

    # The two halves.

    def acked(self, status: int) -> None:
        with self._lock:
            self.ack_ms = round((time.perf_counter() - self.started) * 1000, 1)
            self.status = status
            self._acked = True
            write = self._pending == 0 and not self._written
            self._written = self._written or write
        if write:
            self._write()

    def work_started(self) -> None:
        with self._lock:
            self._pending += 1

    def work_finished(self) -> None:
        with self._lock:
            self._pending -= 1
            write = self._acked and self._pending == 0 and not self._written
            self._written = self._written or write
        if write:
            self._write()

    def _write(self) -> None:
        outcome = self.outcome or STATUS_OUTCOME.get(self.status or 0, "error")
        line = {
            "request_id": self.request_id,
            **self.fields,
            "outcome": outcome,
            "status": self.status,
            "ack_ms": self.ack_ms,
            "total_ms": round((time.perf_counter() - self.started) * 1000, 1),
        }
        if self.error:
            line["error"] = self.error
        log = logger.error if outcome == "error" else logger.info
        log("slack_request", **line)
        if self.observer is not None:
            self.observer(self.fields.get("kind"), outcome, line["total_ms"] / 1000)


def start(observer: Observer | None = None) -> RequestLog:
    """A new request on this thread: fresh structlog context with its request id."""
    structlog.contextvars.clear_contextvars()
    log = RequestLog(observer)
    _current.set(log)
    structlog.contextvars.bind_contextvars(request_id=log.request_id)
    return log


def end() -> None:
    _current.set(None)
    structlog.contextvars.clear_contextvars()


def current() -> RequestLog | None:
    return _current.get()


def bind(**fields: Any) -> None:
    """Add fields to this request's summary line and to every log line written while handling it."""
    log = current()
    if log is not None:
        log.bind(**fields)
    else:
        structlog.contextvars.bind_contextvars(**{k: v for k, v in fields.items() if v is not None})


def bind_incident(incident: Any) -> None:
    """The request is about this incident: its reference, and whether it is private, which makes the log
    processor (`app.observability.logging.redact`) drop the bodies (text, title, ...) of every line written for
    the request."""
    bind(incident=incident.ref, private=bool(incident.private))


def set_outcome(outcome: str, error: str | None = None) -> None:
    log = current()
    if log is not None:
        log.set_outcome(outcome, error)
