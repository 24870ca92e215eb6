"""The WSGI app: `POST /slack/events` to Bolt, `GET /healthz`, the `GET` routes given (`/readyz`, `/metrics`
from `app.observability.health`), 404 for anything else. A body Slack would never send is answered 400 before Bolt parses it
(`app.http.inbound`)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import structlog
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from app.http import inbound

logger = structlog.get_logger("app.http.wsgi")

SLACK_PATH = "/slack/events"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def make_wsgi_app(app: App, routes: Mapping[str, WSGIApp] | None = None) -> WSGIApp:
    slack = SlackRequestHandler(app, path=SLACK_PATH)
    routes = dict(routes or {})
    # Bolt verifies signatures too, but only after parsing: a stranger gets 401 before anything is parsed.
    verifier = SignatureVerifier(app._signing_secret) if app._signing_secret else None

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == SLACK_PATH and method == "POST":
            return _checked(slack, verifier, environ, start_response)
        if path == "/healthz" and method in ("GET", "HEAD"):
            return _plain(start_response, "200 OK", b"ok")
        if path in routes and method in ("GET", "HEAD"):
            return routes[path](environ, start_response)
        if path in (SLACK_PATH, "/healthz", *routes):
            return _plain(start_response, "405 Method Not Allowed", b"method not allowed")
        return _plain(start_response, "404 Not Found", b"not found")

    return wsgi


def _checked(
    slack: WSGIApp, verifier: SignatureVerifier | None, environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _plain(start_response, "400 Bad Request", b"malformed request: bad Content-Length")
    if length > inbound.MAX_BODY:
        return _plain(start_response, "413 Content Too Large", b"request too large")
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    if verifier is not None and not _signed(verifier, body, environ):
        logger.warning("slack_request_unsigned", length=length)
        return _plain(start_response, "401 Unauthorized", b"invalid request signature")
    try:
        inbound.check(body, environ.get("CONTENT_TYPE"))
    except inbound.Malformed as exc:
        logger.warning("slack_request_malformed", reason=str(exc), length=length)
        return _plain(start_response, "400 Bad Request", f"malformed request: {exc}".encode())
    environ["wsgi.input"] = io.BytesIO(body)
    return slack(environ, start_response)


def _signed(verifier: SignatureVerifier, body: bytes, environ: dict[str, Any]) -> bool:
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    if not timestamp.isdigit():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False  # Slack signs UTF-8 text; this is not from Slack
    return verifier.is_valid(body=body, timestamp=timestamp, signature=environ.get("HTTP_X_SLACK_SIGNATURE"))


def _plain(start_response: Callable[..., Any], status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]
