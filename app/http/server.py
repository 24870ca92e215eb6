"""Serving the bot: over HTTP on gunicorn (the default), or over Socket Mode when SLACK_APP_TOKEN is set.

`Bot` is what one serving process runs: the Bolt app and its WSGI app, the outbox worker, and any background
service another feature adds (`BACKGROUND_MODULES`: modules with `build(deps)` returning an object with
`start()` and `stop()`). Under gunicorn each worker process builds its own `Bot` after the fork, starts its
background threads in `post_worker_init` and stops them in `worker_exit` (SIGTERM is a graceful shutdown).
"""

from __future__ import annotations

import importlib
import signal
from collections.abc import Callable
from typing import Any, Protocol

import structlog
from gunicorn.app.base import BaseApplication

from app.bootstrap import Deps, load_ownership
from app.delivery.circuit import CircuitBreaker
from app.delivery.handlers import build_handlers, dead_letters
from app.delivery.worker import OutboxWorker
from app.http.wsgi import make_wsgi_app
from app.observability.health import metrics_app, readiness_for
from app.observability.metrics import Metrics
from app.runtime import Runtime
from app.settings import Settings, SettingsError, credential_problems
from app.slack.bolt_app import build_app, shutdown
from app.slack.client import build_client
from incidents.models import OutboxMessage
from incidents.outbox import RetryPolicy

logger = structlog.get_logger("app.http.server")
BACKGROUND_MODULES: list[str] = ["app.delivery.scheduler"]  # the reminder scheduler (RUN_SCHEDULER_IN_WEB)


class Background(Protocol):
    def start(self) -> Any: ...
    def stop(self) -> Any: ...


class Bot:
    def __init__(self, runtime: Runtime, *, socket_mode: bool = False, deps: Deps | None = None):
        self.runtime = runtime
        self.deps = deps or Deps(
            runtime=runtime, client=build_client(runtime.settings), owners=load_ownership(runtime.settings)
        )
        settings = runtime.settings
        self.circuit = CircuitBreaker(
            name="slack",
            threshold=settings.circuit_failures,
            max_cooldown_seconds=settings.circuit_max_cooldown_seconds,
        )
        self.metrics = self.deps.metrics = Metrics(sessions=runtime.sessions, now=runtime.now, circuit=self.circuit)
        # First, so it sees every attempt; Bolt copies the list onto the client of each request.
        self.deps.client.retry_handlers.insert(0, self.metrics.slack_meter())
        self.worker = OutboxWorker(
            runtime.sessions,
            build_handlers(self.deps),
            now=runtime.now,
            threads=settings.outbox_threads,
            poll_seconds=settings.outbox_poll_seconds,
            policy=RetryPolicy(lease_seconds=settings.outbox_lease_seconds),
            circuit=self.circuit,
            observe=self._observe_delivery,
        )
        self._tell_dead_letters = dead_letters.observer(self.deps)
        self.deps.wake_outbox = self.worker.wake
        self.app = build_app(self.deps, socket_mode=socket_mode)
        routes = {"/readyz": readiness_for(runtime.engine, self.deps.client), "/metrics": metrics_app(self.metrics)}
        self.wsgi = make_wsgi_app(self.app, routes)
        self.background: list[Background] = [self.worker]
        self.background += [importlib.import_module(m).build(self.deps) for m in BACKGROUND_MODULES]
        self._started = False

    def _observe_delivery(self, message: OutboxMessage, outcome: str) -> None:
        self.metrics.observe_delivery(message.kind, outcome)
        self._tell_dead_letters(message, outcome)  # an update a person posted never reached Slack: tell them

    def start(self) -> Bot:
        for service in self.background:
            service.start()
        self._started = True
        self.worker.wake()  # deliver what was left pending by the last process
        return self

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        shutdown(self.app)  # listeners finish the work they acked
        for service in reversed(self.background):
            try:
                service.stop()
            except Exception:  # noqa: BLE001 - stop the others anyway
                logger.exception("background_stop_failed", service=type(service).__name__)


def required(settings: Settings, *names: str) -> None:
    """Stop with one message listing every credential problem: the `names` missing, any set one of the wrong
    kind (a user token as the bot token, ...)."""
    problems = credential_problems(settings, *names)
    if problems:
        raise SettingsError(problems)


SANDBOX, SOCKET_MODE, HTTP = "sandbox", "socket mode", "http"


def serving_mode(settings: Settings) -> str:
    """No Slack credentials at all: the local sandbox; an app token: Socket Mode; otherwise HTTP."""
    if (settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token) == (None, None, None):
        return SANDBOX
    return SOCKET_MODE if settings.slack_app_token is not None else HTTP


def run_server(runtime: Runtime, *, prepare: Callable[[], None] = lambda: None) -> None:
    """Check everything that can be checked in this (main) process first, so that a bad setting is one clear
    message instead of gunicorn workers dying one after another; `prepare()` runs for production only (the
    database schema: the sandbox has a database of its own)."""
    settings = runtime.settings
    mode = serving_mode(settings)
    if mode == HTTP:
        required(settings, "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    elif mode == SOCKET_MODE:
        required(settings, "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
    load_ownership(settings)  # an invalid ownership map stops start-up here, before any worker starts
    if mode == SANDBOX:
        from app.sandbox.run import run_sandbox  # the bot runs in the local sandbox

        run_sandbox(runtime)
        return
    prepare()
    if mode == SOCKET_MODE:
        run_socket_mode(runtime)
    else:
        HttpServer(runtime).run()


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.web_workers,
        "worker_class": "gthread",
        "threads": settings.web_threads,
        "backlog": settings.web_backlog,
        "timeout": 30,
        "graceful_timeout": 25,
        "keepalive": 5,
        "accesslog": None,  # one summary line per Slack request comes from the app
        "errorlog": "-",
        "loglevel": settings.log_level.lower(),
        "proc_name": "incidents",
    }


class HttpServer(BaseApplication):  # type: ignore[misc]
    """gunicorn, configured from the settings (no config file, no command-line parsing)."""

    def __init__(self, runtime: Runtime, options: dict[str, Any] | None = None):
        self.runtime = runtime
        self.options = gunicorn_options(runtime.settings) | (options or {})
        self.bot: Bot | None = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        self.cfg.set("post_worker_init", self._post_worker_init)
        self.cfg.set("worker_exit", self._worker_exit)

    def load(self) -> Any:
        """In the worker, after the fork: a fresh connection pool and a Bot of its own."""
        self.runtime.engine.dispose(close=False)
        self.bot = Bot(self.runtime)
        return self.bot.wsgi

    def _post_worker_init(self, worker: Any) -> None:
        if self.bot is not None:
            self.bot.start()
            logger.info("worker_started", pid=worker.pid, threads=self.runtime.settings.web_threads)

    def _worker_exit(self, server: Any, worker: Any) -> None:
        if self.bot is not None:
            self.bot.stop()
            logger.info("worker_stopped", pid=worker.pid)


def run_socket_mode(runtime: Runtime) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    bot = Bot(runtime, socket_mode=True).start()
    handler = SocketModeHandler(bot.app, runtime.settings.slack_app_token.get_secret_value())  # type: ignore[union-attr]

    def stop(signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    logger.info("socket_mode_starting")
    try:
        handler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        handler.close()
        bot.stop()
