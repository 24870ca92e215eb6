"""The edge of every inbound webhook that is not Slack's (alerts, change events, GitHub): read the body once
within a size limit (413), authenticate it (401, before anything is parsed), parse JSON (400 with what was
wrong), and answer JSON. An endpoint is a function from a `Request` to an `Answer`; it raises `Rejected` for
anything the caller must fix. Nothing an endpoint raises becomes a stack trace on the wire: a database that is
down answers 503 (the sender retries), anything else 500 with a line to report, logged with its traceback.

Secrets are compared in constant time (`hmac.compare_digest`)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

logger = structlog.get_logger("app.http.webhook")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Rejected(Exception):
    """The request cannot be taken; `message` says what to fix. Nothing was stored."""

    def __init__(self, status: int, message: str, *, details: list[str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str]  # lower-case names
    raw: bytes
    query: str = ""

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def json(self) -> Any:
        """The body as JSON that every database can store, or `Rejected(400)` saying why it is not: not JSON,
        nested too deeply for the parser, NaN or Infinity, a NUL character or a lone surrogate (naming where)."""
        if not self.raw.strip():
            raise Rejected(400, "the body is empty; send a JSON document")
        try:
            document = json.loads(self.raw, parse_constant=_no_constant)
        except UnicodeDecodeError:
            raise Rejected(400, "the body is not UTF-8 text; send a JSON document") from None
        except json.JSONDecodeError as exc:
            raise Rejected(400, f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        except RecursionError:
            raise Rejected(400, "the body is nested too deeply; send a flatter JSON document") from None
        _check_storable(document)
        return document


def _no_constant(name: str) -> Any:
    raise Rejected(400, f"the body has {name}; numbers must be finite")


def _check_storable(document: Any) -> None:
    """Every string (keys too) without NUL (PostgreSQL refuses it) or a lone surrogate (not UTF-8). Walked with
    a stack, not recursion: the parser's own depth limit is the only one."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            _check_text(value, path)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(key, path)
                stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))


def _check_text(text: str, path: str) -> None:
    if "\x00" in text:
        raise Rejected(400, f"{path or '(the body)'}: text may not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Rejected(400, f"{path or '(the body)'}: text is not valid Unicode (a lone surrogate)") from None


@dataclass(frozen=True)
class Answer:
    status: int
    body: Mapping[str, Any] = field(default_factory=dict)


Endpoint = Callable[[Request], Answer]

_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def serve(endpoint: Endpoint, *, max_body: int, name: str) -> WSGIApp:
    """A WSGI app for `POST` to `endpoint`: 405 for other methods, 413 over `max_body` bytes."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return respond(start_response, Answer(405, {"ok": False, "error": "use POST"}))
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return respond(start_response, _error(Rejected(400, "bad Content-Length header")))
        if length < 0:
            return respond(start_response, _error(Rejected(400, "bad Content-Length header")))
        if length > max_body:
            return respond(
                start_response, _error(Rejected(413, f"the body is {length} bytes; the limit is {max_body}"))
            )
        raw = environ["wsgi.input"].read(length) if length else b""
        request = Request(
            method="POST",
            path=environ.get("PATH_INFO", ""),
            headers=headers_of(environ),
            raw=raw,
            query=environ.get("QUERY_STRING", ""),
        )
        try:
            answer = endpoint(request)
        except Rejected as exc:
            logger.info("webhook_rejected", endpoint=name, status=exc.status, reason=exc.message)
            answer = _error(exc)
        except (OperationalError, InterfaceError, PoolTimeout):  # down, dropped, or every connection busy
            logger.exception("webhook_storage_unavailable", endpoint=name)
            answer = Answer(503, {"ok": False, "error": "storage is unavailable; send it again later"})
        except Exception:
            logger.exception("webhook_failed", endpoint=name)
            answer = Answer(500, {"ok": False, "error": "the bot failed to take this; nothing was stored"})
        return respond(start_response, answer)

    return wsgi


def headers_of(environ: Mapping[str, Any]) -> dict[str, str]:
    headers = {name[5:].lower().replace("_", "-"): str(value) for name, value in environ.items() if name[:5] == "HTTP_"}
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = str(environ["CONTENT_TYPE"])
    return headers


def respond(start_response: Callable[..., Any], answer: Answer) -> list[bytes]:
    body = json.dumps(answer.body, separators=(",", ":"), default=str).encode()
    status = f"{answer.status} {_REASONS.get(answer.status, 'Unknown')}"
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _error(exc: Rejected) -> Answer:
    body: dict[str, Any] = {"ok": False, "error": exc.message}
    if exc.details:
        body["details"] = exc.details
    return Answer(exc.status, body)


def require_bearer(request: Request, token: str) -> None:
    """`Authorization: Bearer <token>`, compared in constant time; 401 otherwise."""
    given = request.header("authorization")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not value or not token:
        raise Rejected(401, "missing or wrong bearer token (send Authorization: Bearer <token>)")
    if not hmac.compare_digest(value.strip().encode("utf-8", "replace"), token.encode()):
        raise Rejected(401, "missing or wrong bearer token (send Authorization: Bearer <token>)")


def hmac_sha256(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def require_signature(
    request: Request, secret: str, *, header: str, prefix: str = "", message: bytes | None = None
) -> None:
    """An HMAC-SHA256 hex signature of `message` (the raw body by default) in `header`, with `prefix`
    (`sha256=` for GitHub), compared in constant time; 401 otherwise."""
    given = request.header(header).strip()
    expected = prefix + hmac_sha256(secret, request.raw if message is None else message)
    if not secret or not given or not hmac.compare_digest(given.lower().encode("utf-8", "replace"), expected.encode()):
        raise Rejected(401, f"missing or wrong signature in {header}")
