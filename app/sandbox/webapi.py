"""The Slack Web API double: a WSGI app answering `POST /api/<method>` as slack.com does, the upload URLs of
files_upload_v2 (`POST /upload/<file_id>`) and response_urls (`POST /response/<id>`)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

import structlog

from app.sandbox.blockkit import check_response_payload
from app.sandbox.errors import ApiError, Err
from app.sandbox.faults import Fault
from app.sandbox.httpio import (
    Answer,
    BadRequest,
    base_url,
    json_answer,
    multipart_fields,
    read_args,
    read_body,
    status_line,
    text_answer,
)
from app.sandbox.methods import METHODS, Args, Request
from app.sandbox.server import RunningServer, serve_in_thread
from app.sandbox.uploads import UPLOAD_PATH
from app.sandbox.workspace import RESPONSE_PATH, Workspace

API_PATH = "api/"
BEARER = "Bearer "

log = structlog.get_logger(__name__)

__all__ = ["RunningServer", "WebApi", "make_web_api", "serve_in_thread"]


class WebApi:
    """A WSGI application; `workspace` is the state it serves."""

    def __init__(self, workspace: Workspace, *, bot_token_prefix: str = "xoxb-") -> None:
        self.workspace = workspace
        self.bot_token_prefix = bot_token_prefix

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        status, headers, body = self._route(environ)
        start_response(status_line(status), [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _route(self, environ: dict[str, Any]) -> Answer:
        path = environ.get("PATH_INFO", "").lstrip("/")
        verb = environ.get("REQUEST_METHOD", "GET")
        if path.startswith(API_PATH) and verb in ("GET", "POST"):
            return self._api_call(path.removeprefix(API_PATH), environ)
        if path.startswith(UPLOAD_PATH) and verb == "POST":
            return self._upload(path.removeprefix(UPLOAD_PATH), environ)
        if path.startswith(RESPONSE_PATH) and verb == "POST":
            return self._response_url(path.removeprefix(RESPONSE_PATH), environ)
        return text_answer("Not Found", 404)

    # /api/<method>

    def _api_call(self, method: str, environ: dict[str, Any]) -> Answer:
        ws = self.workspace
        try:
            values = read_args(environ, read_body(environ))
        except BadRequest as exc:
            return self._record(method, {}, {"ok": False, "error": str(exc)})
        args = Args(values)
        if ws.faults.latency > 0:
            time.sleep(ws.faults.latency)
        fault = ws.faults.take(method)
        if fault is not None:
            if fault.delay > 0:
                time.sleep(fault.delay)
            if fault.http_status is not None:
                return self._http_fault(method, args, fault)
            if fault.error is not None:
                return self._record(method, args.as_dict(), {"ok": False, "error": fault.error})
        return self._record(method, args.as_dict(), self._answer(method, args, environ, values.get("token")))

    def _answer(self, method: str, args: Args, environ: dict[str, Any], token_arg: Any) -> dict[str, Any]:
        handler = METHODS.get(method)
        if handler is None:
            return {"ok": False, "error": Err.UNKNOWN_METHOD.value, "req_method": method}
        token = self._token(environ, token_arg)
        if not token:
            return ApiError(Err.NOT_AUTHED).body()
        if not token.startswith(self.bot_token_prefix):
            return ApiError(Err.INVALID_AUTH).body()
        request = Request(self.workspace, args, self.workspace.bot, base_url(environ))
        try:
            with self.workspace.lock:
                return {"ok": True, **handler(request)}
        except ApiError as exc:
            return exc.body()
        except Exception:
            log.exception("sandbox_web_api_failed", method=method)
            return ApiError(Err.INTERNAL_ERROR).body()

    @staticmethod
    def _token(environ: dict[str, Any], token_arg: Any) -> str | None:
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        if authorization.startswith(BEARER):
            return authorization.removeprefix(BEARER).strip() or None
        return str(token_arg) if token_arg else None

    def _http_fault(self, method: str, args: Args, fault: Fault) -> Answer:
        error = Err.RATELIMITED if fault.is_rate_limit else Err.INTERNAL_ERROR
        status = fault.http_status or 500
        self.workspace.record_call(method, args.as_dict(), ok=False, error=error.value, http_status=status)
        headers = [("Retry-After", str(fault.retry_after))] if fault.is_rate_limit else []
        return json_answer({"ok": False, "error": error.value}, status, headers)

    def _record(self, method: str, args: dict[str, Any], body: dict[str, Any]) -> Answer:
        self.workspace.record_call(method, args, ok=bool(body.get("ok")), error=body.get("error"))
        return json_answer(body)

    # /upload/<file_id>: the bytes of a files_upload_v2 upload

    def _upload(self, file_id: str, environ: dict[str, Any]) -> Answer:
        content = read_body(environ)
        content_type = environ.get("CONTENT_TYPE") or ""
        if content_type.lower().startswith("multipart/form-data"):
            parts = [v for v in multipart_fields(content_type, content).values() if isinstance(v, bytes)]
            content = parts[0] if parts else b""
        try:
            self.workspace.files.receive(file_id, content)
        except ApiError:
            return text_answer("Not Found", 404)
        return text_answer(f"OK - {len(content)}")

    # /response/<id>: posts to a response_url

    def _response_url(self, url_id: str, environ: dict[str, Any]) -> Answer:
        try:
            payload = json.loads(read_body(environ) or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return json_answer({"ok": False, "error": Err.INVALID_JSON.value}, 400)
        if not isinstance(payload, dict):
            return json_answer({"ok": False, "error": Err.INVALID_JSON.value}, 400)
        try:
            check_response_payload(payload)
            self.workspace.respond(url_id, payload)
        except ApiError as exc:
            status = 404 if exc.error in (Err.EXPIRED_URL, Err.USED_URL) else 400
            return json_answer(exc.body(), status)
        return json_answer({"ok": True})


def make_web_api(workspace: Workspace, *, bot_token_prefix: str = "xoxb-") -> WebApi:
    return WebApi(workspace, bot_token_prefix=bot_token_prefix)
