"""The composition root: builds every dependency of a serving process once, in order, completely, and hands out
a frozen `Deps` (to listeners and effect handlers) and a `Bot` (what `incidents serve`, the sandbox and
`incidents scheduler` run). Nothing is assigned after it is built.

Order: Slack client -> circuit breaker -> metrics (which meter the client's calls) -> ownership map -> the
outbox's bell -> `Deps` -> effect handlers -> outbox worker -> Bolt app -> WSGI app -> background services.

Everything the bot answers and does is listed in one place each: listeners and subcommands in
`app.slack.routes`, effect handlers in `app.delivery.handlers`, background services here (`background`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from slack_bolt import App
from slack_sdk import WebClient

from app.delivery import scheduler
from app.delivery.bell import Bell
from app.delivery.circuit import CircuitBreaker
from app.delivery.handlers import build_handlers, dead_letters
from app.delivery.worker import OutboxWorker
from app.http.wsgi import WSGIApp, make_wsgi_app
from app.integrations import webhooks
from app.integrations.pager import build_pagers, check_keys
from app.integrations.tracker import build_trackers, check_trackers
from app.observability.health import metrics_app, readiness_for
from app.observability.inflight import InFlight
from app.observability.metrics import Metrics
from app.runtime import Runtime
from app.settings import Settings, SettingsError
from app.slack.bolt_app import build_app, shutdown
from app.slack.client import build_client
from app.slack.deps import Deps
from app.slack.readiness import SlackAuthCheck
from app.statuspage.wsgi import with_status_page
from incidents.alert_rules import AlertRules, RulesError, load_rules
from incidents.models import OutboxMessage
from incidents.outbox import RetryPolicy
from incidents.owners import OwnershipMapError, OwnershipStore
from incidents.process import Process

logger = structlog.get_logger("app.bootstrap")
VARIABLE = "OWNERSHIP_MAP_PATH"


class Background(Protocol):
    def start(self) -> Any: ...
    def stop(self) -> Any: ...


@dataclass(frozen=True)
class Bot:
    """One serving process: the Bolt app behind its WSGI app, the outbox worker and the background services."""

    runtime: Runtime
    deps: Deps
    circuit: CircuitBreaker
    metrics: Metrics
    worker: OutboxWorker
    app: App
    wsgi: WSGIApp
    background: tuple[Background, ...]
    _running: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)

    def start(self) -> Bot:
        self._running.set()
        for service in self.background:
            service.start()
        self.worker.wake()  # deliver what was left pending by the last process
        return self

    def stop(self) -> None:
        if not self._running.is_set():
            return
        self._running.clear()
        shutdown(self.app)  # listeners finish the work they acked
        for service in reversed(self.background):
            try:
                service.stop()
            except Exception:  # stop the others anyway
                logger.exception("background_stop_failed", service=type(service).__name__)


def build_bot(
    runtime: Runtime,
    *,
    socket_mode: bool = False,
    client: WebClient | None = None,
    owners: OwnershipStore | None | bool = True,
) -> Bot:
    """Everything one serving process runs. `client` and `owners` are for tests (a client of their own; a map
    of their own, or None for no map); by default both are built from the settings."""
    settings = runtime.settings
    circuit = CircuitBreaker(
        name="slack", threshold=settings.circuit_failures, max_cooldown_seconds=settings.circuit_max_cooldown_seconds
    )
    metrics = Metrics(sessions=runtime.sessions, now=runtime.now, circuit=circuit)
    client = client or build_client(settings, meter=metrics.slack_meter())
    bell = Bell()
    inflight = InFlight()  # requests being answered: the outbox worker lets them go first
    ownership = load_ownership(settings) if owners is True else owners or None
    check_keys(ownership)  # a pager key variable the map names but nobody set stops start-up, naming it
    check_trackers(settings, ownership)  # a tracker the map or TICKET_DEFAULT names must be configured
    deps = Deps.build(
        runtime,
        client,
        owners=ownership,
        metrics=metrics,
        wake_outbox=bell.ring,
        pagers=build_pagers(settings),
        alert_rules=load_alert_rules(settings, runtime.process),
        trackers=build_trackers(settings),
    )
    tell_dead_letters = dead_letters.observer(deps)

    def observe_delivery(message: OutboxMessage, outcome: str) -> None:
        metrics.observe_delivery(message.kind, outcome)
        tell_dead_letters(message, outcome)  # an update a person posted never reached Slack: tell them

    worker = OutboxWorker(
        runtime.sessions,
        build_handlers(deps),
        now=runtime.now,
        threads=settings.outbox_threads,
        poll_seconds=settings.outbox_poll_seconds,
        policy=RetryPolicy(lease_seconds=settings.outbox_lease_seconds),
        circuit=circuit,
        observe=observe_delivery,
        bell=bell,
        yield_to=inflight.wait_quiet,
    )
    app = build_app(deps, socket_mode=socket_mode)
    readiness = readiness_for(runtime.engine, SlackAuthCheck(deps.client))
    wsgi = make_wsgi_app(
        app, {"/readyz": readiness, "/metrics": metrics_app(metrics)}, webhooks=webhooks(deps), inflight=inflight
    )
    wsgi = with_status_page(runtime, wsgi)  # off unless STATUS_PAGE_ENABLED; alone on STATUS_PAGE_PORT if set
    background: tuple[Background, ...] = (worker, scheduler.build(deps))
    return Bot(runtime, deps, circuit, metrics, worker, app, wsgi, background)


def load_ownership(settings: Settings) -> OwnershipStore | None:
    """The store, or None when no map is configured. An invalid map stops start-up: `SettingsError` lists every
    problem as `FILE:LINE: MESSAGE`, exactly as `incidents owners check` prints them."""
    if not settings.ownership_map_path:
        return None
    try:
        return OwnershipStore(settings.ownership_map_path)
    except OwnershipMapError as exc:
        count = len(exc.problems)
        raise SettingsError(
            [
                f"{VARIABLE}: the ownership map has {count} problem{'' if count == 1 else 's'}; fix them "
                f"(check with `incidents owners check`) or unset {VARIABLE}",
                *(str(problem) for problem in exc.problems),
            ]
        ) from None


def load_alert_rules(
    settings: Settings, process: Process, environ: Mapping[str, str] | None = None
) -> AlertRules | None:
    """The alert routing rules, or None when ALERT_RULES_PATH is unset (no alert endpoints). A bad file, or a
    secret's environment variable that is not set, stops start-up: `SettingsError` lists every problem as
    `FILE:LINE: MESSAGE`."""
    if not settings.alert_rules_path:
        return None
    try:
        variables = os.environ if environ is None else environ
        return load_rules(settings.alert_rules_path, environ=variables, process=process)
    except RulesError as exc:
        count = len(exc.problems)
        raise SettingsError(
            [
                f"ALERT_RULES_PATH: the alert rules have {count} problem{'' if count == 1 else 's'}; fix them "
                "or unset ALERT_RULES_PATH",
                *(str(problem) for problem in exc.problems),
            ]
        ) from None
