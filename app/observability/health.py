"""`GET /readyz` and `GET /metrics` as small WSGI apps that `app.http.wsgi` mounts.

Ready means: the database answers, its schema is the one this release needs, and Slack accepts our token
(`auth.test`, remembered for a minute when it passes and for a few seconds when it fails, so that a probe every
few seconds never becomes a call to Slack every few seconds). Not ready answers 503 with a JSON body naming
what failed. Error texts are reduced to their first line and carry no secrets (URLs are shown without password).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import structlog
from sqlalchemy import Engine, text

from app.observability.metrics import CONTENT_TYPE, Metrics
from incidents import db

log = structlog.get_logger("app.observability.health")
Check = Callable[[], str | None]  # None when fine, else what is wrong, in words
JSON_TYPE = "application/json"


def database_check(engine: Engine) -> Check:
    def check() -> str | None:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure means not ready; say which
            where = engine.url.render_as_string(hide_password=True)
            return f"cannot reach the database at {where}: {first_line(exc)}"
        return None

    return check


def schema_check(engine: Engine) -> Check:
    def check() -> str | None:
        try:
            current, head = db.current_revision(engine), db.head_revision(engine)
        except Exception as exc:  # noqa: BLE001
            return f"cannot read the schema version: {first_line(exc)}"
        if current != head:
            return f"schema at {current or 'nothing'}, this release needs {head}: run `incidents db upgrade`"
        return None

    return check


def first_line(exc: BaseException) -> str:
    raw = str(getattr(exc, "orig", None) or exc).strip()
    return (raw.splitlines() or [type(exc).__name__])[0][:300]


class Readiness:
    """Runs every check (each is independent) and reports them all."""

    def __init__(self, checks: Mapping[str, Check]):
        self.checks = dict(checks)
        self._last_failed: tuple[str, ...] = ()

    def report(self) -> tuple[bool, dict[str, Any]]:
        results: dict[str, str] = {}
        for name, check in self.checks.items():
            try:
                problem = check()
            except Exception as exc:  # noqa: BLE001 - a broken check is a failed check
                problem = f"{type(exc).__name__}: {first_line(exc)}"
            results[name] = "ok" if problem is None else problem
        failed = tuple(name for name, value in results.items() if value != "ok")
        if failed != self._last_failed:  # log changes only, not every probe
            if failed:
                log.warning("readiness.failed", failed=list(failed), checks=results)
            else:
                log.info("readiness.ok")
            self._last_failed = failed
        body: dict[str, Any] = {"status": "ready" if not failed else "not ready", "checks": results}
        if failed:
            body["failed"] = list(failed)
        return not failed, body

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        ready, body = self.report()
        payload = json.dumps(body).encode()
        status = "200 OK" if ready else "503 Service Unavailable"
        start_response(
            status,
            [("Content-Type", JSON_TYPE), ("Content-Length", str(len(payload))), ("Cache-Control", "no-store")],
        )
        return [payload]


def metrics_app(metrics: Metrics) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        payload = metrics.render()
        start_response("200 OK", [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(payload)))])
        return [payload]

    return app


def readiness_for(engine: Engine, slack: Check, **extra: Check) -> Readiness:
    """The bot's readiness: database, schema, Slack auth (`app.slack.readiness.SlackAuthCheck`), and any extra
    checks (e.g. the outbox worker)."""
    return Readiness({"database": database_check(engine), "schema": schema_check(engine), "slack": slack, **extra})
