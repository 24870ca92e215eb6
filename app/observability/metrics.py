"""Prometheus metrics, in a registry of the bot's own (never prometheus_client's global one).

Counters live in the process: Slack API calls and errors by method (seen by `SlackCallMeter`, a retry handler
that never retries and so sees every HTTP attempt, on our client and on Bolt's per-request copies), outbox
deliveries and reminders sent, and the request latency histogram. Gauges that describe shared state (incidents,
overdue updates, the outbox) are read from the database at scrape time, with cheap grouped counts, so every
replica reports the same numbers and nothing drifts across restarts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, Protocol

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from incidents import outbox_admin
from incidents.effects import Effect
from incidents.models import Incident, Status

log = structlog.get_logger("app.observability.metrics")
PREFIX = "incidentbot"
CONTENT_TYPE = CONTENT_TYPE_LATEST
# Slack payload types, as the request log names them, to the histogram's `kind` label.
REQUEST_KINDS = {
    "command": "command",
    "block_actions": "action",
    "view_submission": "view",
    "view_closed": "view",
    "event_callback": "event",
    "shortcut": "shortcut",
    "message_action": "shortcut",
    "block_suggestion": "options",
}
REMINDER_KINDS = {Effect.REMINDER.value: "reminder", Effect.ESCALATION.value: "escalation"}
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session] | None = None,
        now: Callable[[], datetime] | None = None,
        circuit: Circuit | None = None,
    ):
        self.registry = CollectorRegistry()
        r = self.registry
        self.slack_calls = Counter(
            f"{PREFIX}_slack_api_calls", "Slack Web API HTTP attempts, by method.", ["method"], registry=r
        )
        self.slack_errors = Counter(
            f"{PREFIX}_slack_api_errors",
            "Slack Web API attempts that failed, by method and error (Slack's error code, http_<status> or the "
            "exception type).",
            ["method", "error"],
            registry=r,
        )
        self.requests = Histogram(
            f"{PREFIX}_request_seconds",
            "Time from receiving a Slack request to the end of its work, by kind and outcome.",
            ["kind", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.deliveries = Counter(
            f"{PREFIX}_outbox_deliveries",
            "Outbox delivery attempts, by effect kind and outcome.",
            ["kind", "outcome"],
            registry=r,
        )
        self.reminders_sent = Counter(
            f"{PREFIX}_reminders_sent", "Update reminders and escalations delivered to Slack.", ["kind"], registry=r
        )
        if sessions is not None and now is not None:
            r.register(DatabaseCollector(sessions, now))
        if circuit is not None:
            r.register(CircuitCollector(circuit))

    # --- hooks ------------------------------------------------------------------------------------------

    def observe_request(self, kind: str | None, outcome: str | None, seconds: float) -> None:
        label = REQUEST_KINDS.get(kind or "", "other")
        self.requests.labels(kind=label, outcome=outcome or "unknown").observe(seconds)

    def observe_delivery(self, kind: str, outcome: str) -> None:
        self.deliveries.labels(kind=kind, outcome=outcome).inc()
        if outcome == "done" and kind in REMINDER_KINDS:
            self.reminders_sent.labels(kind=REMINDER_KINDS[kind]).inc()

    def slack_meter(self) -> SlackCallMeter:
        return SlackCallMeter(self)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class SlackCallMeter(RetryHandler):
    """Counts every Slack Web API attempt and its outcome; never asks for a retry. Put it first in the client's
    `retry_handlers`: slack_sdk consults them, in order, after each HTTP attempt, success or not, and Bolt copies
    them onto the client it builds for each request. slack_sdk itself is not patched."""

    def __init__(self, metrics: Metrics):
        super().__init__(max_retry_count=0)
        self.metrics = metrics

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        try:
            method = request.url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0] or "unknown"
            self.metrics.slack_calls.labels(method=method).inc()
            problem = _problem(response, error)
            if problem:
                self.metrics.slack_errors.labels(method=method, error=problem).inc()
        except Exception:  # counting must never break a Slack call
            log.debug("metrics.slack_meter_failed", exc_info=True)
        return False

    def _can_retry(self, **_: Any) -> bool:  # pragma: no cover - can_retry is overridden
        return False


def _problem(response: HttpResponse | None, error: Exception | None) -> str | None:
    if response is None:
        return type(error).__name__ if error is not None else "unknown"
    if response.status_code >= 400:
        return "ratelimited" if response.status_code == 429 else f"http_{response.status_code}"
    body = response.body or {}
    if isinstance(body, dict) and body.get("ok") is False:
        return str(body.get("error") or "unknown")[:60]
    return None


class DatabaseCollector(Collector):
    """Incidents by status and severity, overdue stakeholder updates, outbox depth and dead letters: read at
    scrape time. If the database cannot be read, `incidentbot_database_up` is 0 and the rest is left out."""

    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime]):
        self.sessions = sessions
        self.now = now

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(f"{PREFIX}_database_up", "1 when the metrics could read the database.")
        try:
            metrics = list(self._read())
        except Exception as exc:  # noqa: BLE001 - a scrape must answer even when the database does not
            log.warning("metrics.database_unreachable", error=f"{type(exc).__name__}: {exc}"[:300])
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from metrics

    def _read(self) -> Iterable[Metric]:
        now = self.now()
        with self.sessions() as session:
            incidents = GaugeMetricFamily(
                f"{PREFIX}_incidents", "Incidents by status and severity.", labels=["status", "severity"]
            )
            rows = session.execute(
                select(Incident.status, Incident.severity, func.count()).group_by(Incident.status, Incident.severity)
            )
            for status, severity, count in rows:
                incidents.add_metric([status, severity], count)
            overdue = session.scalar(
                select(func.count()).where(
                    Incident.status != Status.RESOLVED.value,
                    Incident.next_update_due_at.is_not(None),
                    Incident.next_update_due_at < now,
                )
            )
            depth = outbox_admin.depth(session, now=now)
        yield incidents
        yield GaugeMetricFamily(
            f"{PREFIX}_reminders_overdue",
            "Open incidents whose stakeholder update is overdue.",
            value=overdue or 0,
        )
        pending = GaugeMetricFamily(
            f"{PREFIX}_outbox_pending", "Slack effects waiting to be delivered, by kind.", labels=["kind"]
        )
        for kind, count in sorted(depth.pending.items()):
            pending.add_metric([kind], count)
        yield pending
        dead = GaugeMetricFamily(
            f"{PREFIX}_outbox_dead", "Slack effects that failed for good (dead letters), by kind.", labels=["kind"]
        )
        for kind, count in sorted(depth.dead.items()):
            dead.add_metric([kind], count)
        yield dead
        yield GaugeMetricFamily(
            f"{PREFIX}_outbox_oldest_due_seconds",
            "How long the most overdue pending Slack effect has been due (0 when none is late).",
            value=depth.oldest_due_seconds,
        )


class Circuit(Protocol):
    """What the metrics read of a circuit breaker (`app.delivery.circuit.CircuitBreaker`)."""

    @property
    def state_number(self) -> int: ...  # 0 closed, 1 half-open, 2 open

    @property
    def opened_total(self) -> int: ...


class CircuitCollector(Collector):
    def __init__(self, circuit: Circuit):
        self.circuit = circuit

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            f"{PREFIX}_circuit_state",
            "The Slack circuit breaker: 0 closed (calling Slack), 1 half-open (probing), 2 open (waiting).",
            value=self.circuit.state_number,
        )
        yield CounterMetricFamily(
            f"{PREFIX}_circuit_opened", "Times the Slack circuit breaker opened.", value=self.circuit.opened_total
        )
