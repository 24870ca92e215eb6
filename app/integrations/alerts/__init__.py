"""Alerts in: `POST /alerts/<source>` for each source named in the routing rules (ALERT_RULES_PATH).

In order, before anything is stored: an unknown source is 404 (naming the ones that exist); the source's
bearer token or HMAC signature is checked in constant time (401); the body is at most WEBHOOK_MAX_BODY_BYTES
(413, by `app.http.webhook.serve`); it is JSON of the source's format, `alertmanager` (Alertmanager and Grafana)
or `generic` (400 naming each wrong field). Then one transaction runs `incidents.alerts.receive`, and the answer
is 200 with how many alerts were received, declared, attached, triaged, ignored, duplicates and resolved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog

from app.http.webhook import Answer, Rejected, Request, WSGIApp, require_bearer, require_signature, serve
from app.integrations.alerts import alertmanager, generic
from app.slack.deps import Deps
from incidents import alerts
from incidents.alert_rules import AlertRules, Source

logger = structlog.get_logger("app.integrations.alerts")
PREFIX = "/alerts/"

Parser = Callable[..., list[alerts.IncomingAlert]]
PARSERS: dict[str, Parser] = {"alertmanager": alertmanager.parse, "generic": generic.parse}


def route(deps: Deps) -> dict[str, WSGIApp]:
    """`/alerts/`: the sources of the rules; without rules, a 404 saying which setting turns alerts on."""
    take = endpoint(deps, deps.alert_rules) if deps.alert_rules is not None else _not_enabled
    return {PREFIX: serve(take, max_body=deps.settings.webhook_max_body_bytes, name="alerts")}


def _not_enabled(request: Request) -> Answer:
    raise Rejected(404, "alerts are not enabled on this bot: set ALERT_RULES_PATH to a rules file (README: Alerts in)")


def endpoint(deps: Deps, rules: AlertRules) -> Callable[[Request], Answer]:
    def find_service(value: str) -> str | None:
        match = deps.owners.current().find_service(value) if deps.owners else None
        return match.service.name if match else None

    def take(request: Request) -> Answer:
        name = request.path[len(PREFIX) :].strip("/")
        source = rules.sources.get(name)
        if source is None:
            known = ", ".join(f"{PREFIX}{n}" for n in sorted(rules.sources))
            raise Rejected(404, f"no alert source {name!r}; these exist: {known}")
        authenticate(request, source, now=deps.now().timestamp())
        body = request.json()
        incoming = PARSERS[source.format](body, source=source.name, rules=rules)
        with deps.runtime.sessions.begin() as session:
            counts = alerts.receive(
                session,
                incoming,
                rules=rules,
                find_service=find_service if deps.owners else None,
                now=deps.now(),
                process=deps.runtime.process,
            )
        if counts["declared"] or counts["triaged"] or counts["resolved"]:  # they asked for Slack effects
            deps.wake_outbox()
        logger.info("alerts_received", source=source.name, **counts)
        return Answer(200, {"ok": True, **counts})

    return take


def authenticate(request: Request, source: Source, *, now: float) -> None:
    """The source's bearer token, or its HMAC-SHA256 signature (Grafana: hex of the body, or of
    `<timestamp>:<body>` when a timestamp header is configured, within `max_age_seconds`); 401 otherwise."""
    if source.bearer_token_env:
        require_bearer(request, source.bearer_token or "")
        return
    message: bytes | None = None
    if source.timestamp_header:
        stamp = request.header(source.timestamp_header).strip()
        try:
            seconds = float(stamp)
        except ValueError:
            raise Rejected(401, f"missing or bad timestamp in {source.timestamp_header}") from None
        if not seconds == seconds or abs(now - seconds) > source.max_age_seconds:  # NaN, or too old or new
            raise Rejected(
                401, f"the timestamp in {source.timestamp_header} is more than {source.max_age_seconds} s away from now"
            )
        message = stamp.encode() + b":" + request.raw
    require_signature(request, source.hmac_secret or "", header=source.hmac_header, message=message)


__all__: list[Any] = ["PREFIX", "authenticate", "endpoint", "route"]
