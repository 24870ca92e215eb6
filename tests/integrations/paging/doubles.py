"""Local doubles of the two paging APIs: real HTTP servers on 127.0.0.1 in a thread, following the vendors'
documented request and answer shapes, with switches for what goes wrong.

- PagerDuty Events API v2: `POST /v2/enqueue`, JSON `{routing_key, event_action, dedup_key, payload, links}`.
  202 `{"status": "success", "message": "Event processed", "dedup_key": ...}`; 400 `{"status": "invalid event",
  "message": "Event object is invalid", "errors": [...]}` (an unknown routing key, a trigger without
  summary/source/valid severity, a summary over 1024 characters); 429 with Retry-After when rate-limited.
- Opsgenie Alert API v2: `POST /v2/alerts`, `POST /v2/alerts/{alias}/acknowledge?identifierType=alias`,
  `POST /v2/alerts/{alias}/close?identifierType=alias`, `Authorization: GenieKey <key>`. 202 `{"result":
  "Request will be processed", "took": ..., "requestId": ...}`; 401 without a known key; 422 for a body it cannot
  process (no message, message over 130 characters, a bad priority); 404 for an alias it does not know; 429.

Both: `outage = True` answers 503 to everything, `rate_limit(n, after)` answers the next n with 429 and
Retry-After, `fail_next(n, status)` answers the next n with that status; `requests` records every request.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

PD_SEVERITIES = {"critical", "error", "warning", "info"}
OG_PRIORITIES = {"P1", "P2", "P3", "P4", "P5"}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class VendorDouble:
    """The server and the switches both doubles share."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.outage = False
        self._rate_limited = 0
        self._retry_after = "1"
        self._failing: list[int] = []
        self._lock = threading.Lock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                parts = urlsplit(self.path)
                recorded = Recorded(
                    "POST",
                    unquote(parts.path),
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                answer = double._answer(recorded)
                data = json.dumps(answer.body).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name=type(self).__name__, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> VendorDouble:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def rate_limit(self, times: int, *, after: str = "1") -> None:
        with self._lock:
            self._rate_limited, self._retry_after = times, after

    def fail_next(self, times: int, status: int = 500) -> None:
        with self._lock:
            self._failing = [status] * times

    def _answer(self, request: Recorded) -> Answer:
        with self._lock:
            self.requests.append(request)
            if self.outage:
                return Answer(503, {"message": "Service Unavailable"})
            if self._failing:
                return Answer(self._failing.pop(0), {"message": "Internal Server Error"})
            if self._rate_limited:
                self._rate_limited -= 1
                return Answer(429, {"message": "Too Many Requests"}, {"Retry-After": self._retry_after})
            return self.handle(request)

    def handle(self, request: Recorded) -> Answer:
        raise NotImplementedError


class PagerDutyDouble(VendorDouble):
    """Events API v2. `routing_keys`: the integration keys it knows. `alerts`: dedup key -> status."""

    def __init__(self, routing_keys: set[str]):
        super().__init__()
        self.routing_keys = set(routing_keys)
        self.alerts: dict[str, str] = {}

    def events(self, action: str | None = None) -> list[dict[str, Any]]:
        return [
            r.body
            for r in self.requests
            if r.path == "/v2/enqueue" and isinstance(r.body, dict) and action in (None, r.body.get("event_action"))
        ]

    def handle(self, request: Recorded) -> Answer:
        if request.path != "/v2/enqueue":
            return Answer(404, {"status": "not found", "message": "Not Found"})
        event = request.body
        errors = self._errors(event)
        if errors:
            return Answer(400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors})
        key = event.get("dedup_key") or uuid.uuid4().hex
        action = event["event_action"]
        if action == "trigger":
            self.alerts[key] = "triggered"
        elif key in self.alerts:
            self.alerts[key] = {"acknowledge": "acknowledged", "resolve": "resolved"}[action]
        return Answer(202, {"status": "success", "message": "Event processed", "dedup_key": key})

    def _errors(self, event: Any) -> list[str]:
        if not isinstance(event, dict):
            return ["Event must be a JSON object"]
        errors = []
        if event.get("routing_key") not in self.routing_keys:
            errors.append("'routing_key' is invalid")
        action = event.get("event_action")
        if action not in ("trigger", "acknowledge", "resolve"):
            errors.append("'event_action' is missing or blank")
        if len(str(event.get("dedup_key") or "")) > 255:
            errors.append("'dedup_key' must be at most 255 characters")
        if action == "trigger":
            payload = event.get("payload") or {}
            if not payload.get("summary"):
                errors.append("'payload.summary' is missing or blank")
            elif len(payload["summary"]) > 1024:
                errors.append("'payload.summary' must be at most 1024 characters")
            if not payload.get("source"):
                errors.append("'payload.source' is missing or blank")
            if payload.get("severity") not in PD_SEVERITIES:
                errors.append("'payload.severity' is invalid (expected critical, error, warning or info)")
            for link in event.get("links") or []:
                if not isinstance(link, dict) or "href" not in link:
                    errors.append("'links' entries need an 'href'")
        elif action in ("acknowledge", "resolve") and not event.get("dedup_key"):
            errors.append("'dedup_key' is required for acknowledge and resolve")
        return errors


class OpsgenieDouble(VendorDouble):
    """Alert API v2. `api_keys`: the keys it takes. `alerts`: alias -> {status, body}."""

    def __init__(self, api_keys: set[str]):
        super().__init__()
        self.api_keys = set(api_keys)
        self.alerts: dict[str, dict[str, Any]] = {}

    def handle(self, request: Recorded) -> Answer:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("GenieKey ") or auth.removeprefix("GenieKey ") not in self.api_keys:
            return Answer(401, {"message": "Could not authenticate", "took": 0.0, "requestId": uuid.uuid4().hex})
        ok = {"result": "Request will be processed", "took": 0.01, "requestId": uuid.uuid4().hex}
        if request.path == "/v2/alerts":
            problems = self._create_errors(request.body)
            if problems:
                return Answer(422, {"message": "Request body is not processable", "errors": problems, "took": 0.0})
            alias = request.body.get("alias") or uuid.uuid4().hex
            self.alerts.setdefault(alias, {"status": "open", "body": request.body})
            return Answer(202, ok)
        parts = request.path.split("/")
        if len(parts) == 5 and parts[:3] == ["", "v2", "alerts"] and parts[4] in ("acknowledge", "close"):
            if request.query.get("identifierType") != ["alias"]:
                return Answer(404, {"message": "Alert does not exist", "took": 0.0})
            alert = self.alerts.get(parts[3])
            if alert is None:
                return Answer(404, {"message": "Alert does not exist", "took": 0.0})
            alert["status"] = "acknowledged" if parts[4] == "acknowledge" else "closed"
            return Answer(202, ok)
        return Answer(404, {"message": "Not Found", "took": 0.0})

    def _create_errors(self, body: Any) -> dict[str, str]:
        if not isinstance(body, dict):
            return {"body": "must be a JSON object"}
        problems = {}
        message = body.get("message")
        if not isinstance(message, str) or not message.strip():
            problems["message"] = "Message can not be empty."
        elif len(message) > 130:
            problems["message"] = "Message can not be longer than 130 characters."
        if len(str(body.get("alias") or "")) > 512:
            problems["alias"] = "Alias can not be longer than 512 characters."
        if "priority" in body and body["priority"] not in OG_PRIORITIES:
            problems["priority"] = "Priority should be one of [P1, P2, P3, P4, P5]"
        if len(str(body.get("source") or "")) > 100:
            problems["source"] = "Source can not be longer than 100 characters."
        return problems
