"""How simulated Slack requests reach the bot: signed exactly as Slack signs them, then handed to a `Deliver`
callable, over HTTP (`http_deliver`) or straight into a WSGI app (`wsgi_deliver`)."""

from __future__ import annotations

import io
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.signature import SignatureVerifier

Deliver = Callable[[bytes, dict[str, str]], tuple[int, dict[str, str], bytes]]

SLACK_DEADLINE_SECONDS = 3.0  # Slack gives up on an unanswered request after this
NO_ANSWER = 0  # the status of a request that got no HTTP answer in time
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


def signed_headers(signing_secret: str, body: bytes, *, timestamp: int, content_type: str) -> dict[str, str]:
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=str(timestamp), body=body)
    return {
        "Content-Type": content_type,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature or "",
        "User-Agent": USER_AGENT,
    }


@dataclass(frozen=True)
class Result:
    """The bot's answer to one simulated request."""

    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float = 0.0
    json: Any = field(default=None)

    @classmethod
    def of(cls, status: int, headers: dict[str, str], body: bytes, elapsed: float) -> Result:
        parsed = None
        if body.strip():
            try:
                parsed = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                parsed = None
        return cls(status, headers, body, elapsed, parsed)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def in_time(self) -> bool:
        """Answered with a 2xx within Slack's 3 seconds, so the user sees no `operation_timeout`."""
        return 200 <= self.status < 300 and self.elapsed <= SLACK_DEADLINE_SECONDS


def http_deliver(url: str, *, timeout: float = SLACK_DEADLINE_SECONDS) -> Deliver:
    """POST to the bot's URL; no answer within `timeout` gives status 0, as Slack gives up then."""

    def deliver(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, dict(exc.headers.items()), exc.read()
        except TimeoutError:
            return NO_ANSWER, {}, b""
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                return NO_ANSWER, {}, b""
            raise

    return deliver


def wsgi_deliver(wsgi_app: Any, path: str = "/slack/events") -> Deliver:
    """Call a WSGI app in-process with the request Slack would send to `path`."""

    def deliver(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        environ = _environ(path, body, headers)
        answer: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer["status"], answer["headers"] = int(status.split()[0]), dict(response_headers)
            return lambda _data: None

        chunks = wsgi_app(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return answer["status"], answer["headers"], content

    return deliver


def _environ(path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    return environ
