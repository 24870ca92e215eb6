"""The runners that serve the bot: gunicorn over HTTP (the default), or Socket Mode when SLACK_APP_TOKEN is set.

Under gunicorn each worker process builds its own `Bot` (`app.bootstrap.build_bot`) after the fork, starts its
background threads in `post_worker_init` and stops them in `worker_exit` (SIGTERM is a graceful shutdown). Which
runner serves is chosen by `incidents serve` (`app.cli.serve`).
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import structlog
from gunicorn.app.base import BaseApplication

from app.runtime import Runtime
from app.settings import Settings

logger = structlog.get_logger("app.http.server")


class Served(Protocol):
    """What a runner serves (`app.bootstrap.Bot`)."""

    @property
    def app(self) -> Any: ...  # the Bolt app (Socket Mode serves it directly)

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]: ...
    def start(self) -> Any: ...
    def stop(self) -> None: ...


BuildBot = Callable[..., Served]  # build_bot(runtime, *, socket_mode=False)


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "bind": [f"{settings.host}:{settings.port}", *status_page_bind(settings)]
        if status_page_bind(settings)
        else f"{settings.host}:{settings.port}",
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


def status_page_bind(settings: Settings) -> list[str]:
    """The status page's own listener (STATUS_PAGE_PORT), when it has one: every worker accepts on both, and
    `app.http.wsgi.by_local_port` hands what arrives there to the status page only."""
    if not (settings.status_page_enabled and settings.status_page_port):
        return []
    return [f"{settings.status_page_host or settings.host}:{settings.status_page_port}"]


class HttpServer(BaseApplication):  # type: ignore[misc]
    """gunicorn, configured from the settings (no config file, no command-line parsing)."""

    def __init__(self, runtime: Runtime, build_bot: BuildBot, options: dict[str, Any] | None = None):
        self.runtime = runtime
        self.build_bot = build_bot
        self.options = gunicorn_options(runtime.settings) | (options or {})
        self.bot: Served | None = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        self.cfg.set("post_worker_init", self._post_worker_init)
        self.cfg.set("worker_exit", self._worker_exit)

    def load(self) -> Any:
        """In the worker, after the fork: a fresh connection pool and a Bot of its own."""
        self.runtime.engine.dispose(close=False)
        self.bot = self.build_bot(self.runtime)
        return self.bot.wsgi

    def _post_worker_init(self, worker: Any) -> None:
        if self.bot is not None:
            self.bot.start()
            logger.info("worker_started", pid=worker.pid, threads=self.runtime.settings.web_threads)

    def _worker_exit(self, server: Any, worker: Any) -> None:
        if self.bot is not None:
            self.bot.stop()
            logger.info("worker_stopped", pid=worker.pid)


def run_socket_mode(runtime: Runtime, build_bot: BuildBot) -> None:
    from app.http.socket_mode import SocketModeHandler  # validates each payload as the HTTP edge does

    bot = build_bot(runtime, socket_mode=True).start()
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
