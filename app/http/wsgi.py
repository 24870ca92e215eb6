"""The WSGI app: `POST /slack/events` to Bolt, `GET /healthz`, the `GET` routes given (`/readyz`, `/metrics`
from `app.observability.health`), the webhooks given (alerts, change events: `app.http.webhook`), 404 for
anything else.
`by_local_port` puts another app alone on a port of its own (the status page on STATUS_PAGE_PORT).

A Slack request is read once, its signature verified once (here: Bolt's own check is off, see
`app.slack.bolt_app.build_app`), its body parsed and validated once (`app.http.inbound`), and Bolt is handed a
`BoltRequest` built from that parsed body, with the typed payload in its context. A stranger gets 401 before
anything is parsed; a signed body Slack would never send gets 400 with the reason, before Bolt sees it."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import structlog
from slack_bolt import App, BoltRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse

from app.http import inbound
from app.observability.inflight import InFlight
from app.slack import payloads

logger = structlog.get_logger("app.http.wsgi")

SLACK_PATH = "/slack/events"
MAX_AGE_SECONDS = 300  # Slack's rule: a signature older than five minutes may be a replay
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def make_wsgi_app(
    app: App,
    routes: Mapping[str, WSGIApp] | None = None,
    *,
    webhooks: Mapping[str, WSGIApp] | None = None,
    clock: Callable[[], float] = time.time,
    inflight: InFlight | None = None,
) -> WSGIApp:
    """`routes` answer `GET`; `webhooks` (`app.http.webhook.serve`) answer a path, or every path under one that
    ends with `/` (`/alerts/` takes `/alerts/prometheus`), whatever the method (they answer 405 themselves)."""
    routes = dict(routes or {})
    webhooks = dict(webhooks or {})
    prefixes = sorted((p for p in webhooks if p.endswith("/")), key=len, reverse=True)
    # Without a signing secret (Socket Mode) nothing that comes over HTTP can be from Slack.
    secret = (app._signing_secret or "").encode()  # noqa: SLF001 - Bolt has no public accessor for the secret it was built with

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if inflight is None:
            return route(environ, start_response)
        with inflight.answering():  # the outbox worker lets it go first (app.observability.inflight)
            return route(environ, start_response)

    def route(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == SLACK_PATH and method == "POST":
            return _slack(app, secret, clock, environ, start_response)
        if path == "/healthz" and method in ("GET", "HEAD"):
            return _plain(start_response, "200 OK", b"ok")
        if path in routes and method in ("GET", "HEAD"):
            return routes[path](environ, start_response)
        hook = webhooks.get(path) or next((webhooks[p] for p in prefixes if path.startswith(p) and path != p), None)
        if hook is not None:
            return hook(environ, start_response)
        if path in (SLACK_PATH, "/healthz", *routes):
            return _plain(start_response, "405 Method Not Allowed", b"method not allowed")
        return _plain(start_response, "404 Not Found", b"not found")

    return wsgi


def _slack(
    app: App, secret: bytes, clock: Callable[[], float], environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _plain(start_response, "400 Bad Request", b"malformed request: bad Content-Length")
    if length > inbound.MAX_BODY:
        return _plain(start_response, "413 Content Too Large", b"request too large")
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    if not secret or not signed(secret, raw, environ, now=clock()):
        logger.warning("slack_request_unsigned", length=length)
        return _plain(start_response, "401 Unauthorized", b"invalid request signature")
    try:
        parsed = inbound.read(raw, environ.get("CONTENT_TYPE"))
    except inbound.Malformed as exc:
        logger.warning("slack_request_malformed", reason=str(exc), length=length)
        return _plain(start_response, "400 Bad Request", f"malformed request: {exc}".encode())
    response = app.dispatch(bolt_request(parsed, environ))
    answer = WsgiHttpResponse(status=response.status, headers=response.headers, body=response.body)
    start_response(answer.status, answer.get_headers())
    return answer.get_body()


def signed(secret: bytes, raw: bytes, environ: Mapping[str, Any], *, now: float) -> bool:
    """Slack's signature (`v0=` HMAC-SHA256 of `v0:{timestamp}:{body}`) over the raw bytes, whatever they are:
    a body that is not UTF-8 can be signed, and is then malformed (400), not a stranger's (401)."""
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    if not (timestamp.isascii() and timestamp.isdigit()) or abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    digest = hmac.new(secret, b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    given = environ.get("HTTP_X_SLACK_SIGNATURE", "").encode("latin-1", "replace")
    return hmac.compare_digest(b"v0=" + digest.encode(), given)


def bolt_request(parsed: inbound.Parsed, environ: Mapping[str, Any]) -> BoltRequest:
    """A `BoltRequest` from the body parsed at the edge: Bolt parses nothing again.

    Bolt takes a parsed body only in Socket Mode; the request is then marked as the HTTP request it is (Bolt
    reads `mode` only to skip its signature check, which is off, and to copy requests for lazy listeners,
    which read `raw_body`). Bolt's own `x-slack-bolt-*` headers are never taken from the outside."""
    headers = {
        name[5:].lower().replace("_", "-"): value
        for name, value in environ.items()
        if name.startswith("HTTP_") and not name.startswith("HTTP_X_SLACK_BOLT_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    request = BoltRequest(
        body=parsed.body,
        query=environ.get("QUERY_STRING") or None,
        headers=headers,
        context={payloads.CONTEXT_KEY: parsed.payload},
        mode="socket_mode",
    )
    request.mode, request.raw_body = "http", parsed.text
    return request


def _plain(start_response: Callable[..., Any], status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


def by_local_port(main: WSGIApp, port: int, app: WSGIApp) -> WSGIApp:
    """`app` answers every request that arrived on the local `port`, `main` the others: nothing of `main` (the
    Slack endpoint, the webhooks) can be reached on that port. The port is the socket's own, never the Host
    header a client chooses."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return (app if local_port(environ) == port else main)(environ, start_response)

    return wsgi


def local_port(environ: Mapping[str, Any]) -> int | None:
    """The port the request came in on: gunicorn's connection socket, else SERVER_PORT (the listener's port)."""
    sock = environ.get("gunicorn.socket")
    if sock is not None:
        try:
            address = sock.getsockname()
        except OSError:
            return None
        return address[1] if isinstance(address, tuple) else None  # a Unix socket has no port
    port = str(environ.get("SERVER_PORT", ""))
    return int(port) if port.isdigit() else None
