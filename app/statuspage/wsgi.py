"""The status page's WSGI app: `{prefix}/` (HTML), `{prefix}/feed.json` (JSON Feed 1.1) and `{prefix}/feed.atom`
(Atom), for `GET` and `HEAD`. The prefix is `/status` on the bot's own server and empty on STATUS_PAGE_PORT.

Caching: a strong ETag (a digest of the exact bytes sent, so it changes with every change shown and only then),
Last-Modified (the latest change shown), `Cache-Control: public, max-age=STATUS_PAGE_MAX_AGE_SECONDS`;
only If-None-Match (weak comparison, RFC 9110) answers 304. If-Modified-Since is ignored: Last-Modified can go
back in time (an incident turned private takes its latest update off the page), so a date comparison could
keep a reader on a copy that still shows it.

Bad input gets a plain-text answer saying what to do: an unknown path 404, another method 405 with Allow, an
unknown, repeated or out-of-range query parameter 400, a private or unknown incident 404 (the same words: a
private incident's existence is not told), a database that cannot be read 503."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import structlog
from sqlalchemy.exc import SQLAlchemyError

from app.http.wsgi import WSGIApp, by_local_port
from app.runtime import Runtime
from app.statuspage import feeds, html, view
from incidents.errors import InvalidInput
from incidents.queries import parse_ref

logger = structlog.get_logger("app.statuspage")

PAGE, JSON_FEED, ATOM_FEED = "", "/feed.json", "/feed.atom"
TYPES = {
    PAGE: "text/html; charset=utf-8",
    JSON_FEED: "application/feed+json; charset=utf-8",
    ATOM_FEED: "application/atom+xml; charset=utf-8",
}
ALLOW = "GET, HEAD"
MAX_QUERY = 200
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
StartResponse = Callable[..., Any]
MOUNT = "/status"


def with_status_page(runtime: Runtime, main: WSGIApp) -> WSGIApp:
    """The bot's WSGI app with the status page when STATUS_PAGE_ENABLED: alone on STATUS_PAGE_PORT (where nothing
    else of the bot answers, and the bot's own port has no /status), or under /status on the bot's port."""
    settings = runtime.settings
    if not settings.status_page_enabled:
        return main
    if settings.status_page_port is not None:
        return by_local_port(main, settings.status_page_port, make_status_app(runtime, prefix=""))
    status = make_status_app(runtime, prefix=MOUNT)

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == MOUNT or path.startswith(MOUNT + "/"):
            return status(environ, start_response)
        return main(environ, start_response)

    return wsgi


class BadRequest(Exception):
    def __init__(self, status: str, message: str):
        self.status, self.message = status, message
        super().__init__(message)


def make_status_app(runtime: Runtime, *, prefix: str = "") -> WSGIApp:
    """The status page under `prefix` ("" or "/status"), reading the database through `runtime`."""
    config = view.Config.of(runtime.settings)
    meanings = {s.name: s.meaning for s in runtime.process.severities}

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        try:
            route = _route(path, prefix)
            if method not in ("GET", "HEAD"):
                raise BadRequest(
                    "405 Method Not Allowed", f"{method} is not allowed here: the status page only answers GET."
                )
            days, number = _query(environ.get("QUERY_STRING", ""), config.days)
            with runtime.sessions() as session:
                shown = view.build(session, config, now=runtime.now(), days=days, number=number)
            if number is not None and not shown.incidents:
                raise BadRequest(
                    "404 Not Found",
                    f"There is no public incident INC-{number} in the last {days} days: check the reference "
                    f"or see every incident at {prefix}/.",
                )
        except BadRequest as exc:
            return _plain(start_response, exc.status, exc.message, method=method)
        except SQLAlchemyError:
            logger.exception("status_page_database_unavailable")
            return _plain(
                start_response,
                "503 Service Unavailable",
                "The status page cannot read its data right now; try again in a minute.",
                method=method,
                extra=[("Retry-After", "30")],
            )
        if route == PAGE:
            body = html.page(shown, base=prefix, query=_own_query(days, number, config.days), meanings=meanings)
        elif route == JSON_FEED:
            body = feeds.json_feed(shown)
        else:
            body = feeds.atom_feed(shown)
        return _cached(environ, start_response, route, body, shown.changed_at, config.max_age)

    return app


def _route(path: str, prefix: str) -> str:
    rest = path[len(prefix) :] if path.startswith(prefix) else None
    if rest in ("", "/") and (prefix or rest == "/"):
        return PAGE
    if rest in (JSON_FEED, ATOM_FEED):
        return rest
    raise BadRequest(
        "404 Not Found",
        f"Nothing here. The status page is at {prefix}/, its feeds at {prefix}/feed.json (JSON Feed) "
        f"and {prefix}/feed.atom (Atom).",
    )


def _query(query: str, max_days: int) -> tuple[int, int | None]:
    usage = f"this page takes days=1..{max_days} (how far back) and incident=INC-12 (one incident)"
    if len(query) > MAX_QUERY:
        raise BadRequest("400 Bad Request", f"The query is too long ({len(query)} characters); {usage}.")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query), errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("400 Bad Request", f"The query {query!r} cannot be read; {usage}.") from None
    seen: dict[str, str] = {}
    for key, value in pairs:
        if key not in ("days", "incident"):
            raise BadRequest("400 Bad Request", f"Unknown query parameter {key!r}; {usage}.")
        if key in seen:
            raise BadRequest("400 Bad Request", f"{key} is given twice; give it once ({usage}).")
        seen[key] = value.strip()
    days = max_days
    if "days" in seen:
        text = seen["days"]
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= max_days:
            raise BadRequest("400 Bad Request", f"days={text!r} is not a whole number from 1 to {max_days}.")
        days = int(text)
    number = None
    if "incident" in seen:
        try:
            number = parse_ref(seen["incident"])
        except InvalidInput:
            raise BadRequest(
                "400 Bad Request", f"incident={seen['incident']!r} is not an incident reference; write it like INC-12."
            ) from None
    return days, number


def _own_query(days: int, number: int | None, max_days: int) -> str:
    """The page's query as the feed it polls is asked (`?days=7&incident=INC-3`), or nothing."""
    given = {"days": days if days != max_days else None, "incident": f"INC-{number}" if number else None}
    query = urlencode({k: v for k, v in given.items() if v is not None})
    return f"?{query}" if query else ""


def _cached(
    environ: dict[str, Any],
    start_response: StartResponse,
    route: str,
    body: bytes,
    changed: datetime | None,
    max_age: int,
) -> Iterable[bytes]:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = [("ETag", etag), ("Cache-Control", f"public, max-age={max_age}"), ("X-Content-Type-Options", "nosniff")]
    if changed is not None:
        headers.append(("Last-Modified", format_datetime(changed.replace(microsecond=0), usegmt=True)))
    if route == PAGE:
        headers += [("Content-Security-Policy", PAGE_POLICY), ("Referrer-Policy", "no-referrer")]
    if _not_modified(environ, etag):
        start_response("304 Not Modified", headers)
        return []
    start_response("200 OK", [("Content-Type", TYPES[route]), ("Content-Length", str(len(body))), *headers])
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


def _not_modified(environ: dict[str, Any], etag: str) -> bool:
    """If-None-Match only (weak comparison); If-Modified-Since is never trusted (see the module's docstring)."""
    given = environ.get("HTTP_IF_NONE_MATCH")
    if given is None:
        return False
    tags = [t.strip().removeprefix("W/") for t in given.split(",")]
    return "*" in tags or etag in tags


def _plain(
    start_response: StartResponse,
    status: str,
    message: str,
    *,
    method: str,
    extra: list[tuple[str, str]] | None = None,
) -> Iterable[bytes]:
    body = (message + "\n").encode()
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        *(extra or []),
    ]
    if status.startswith("405"):
        headers.append(("Allow", ALLOW))
    start_response(status, headers)
    return [] if method == "HEAD" else [body]
