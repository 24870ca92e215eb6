"""The HTTP edge verifies each request once and parses it once, then hands Bolt the parsed body; a signed body
Slack would never send is answered 400 with the reason before Bolt sees it. Socket Mode requests (which never
pass the HTTP edge) are validated the same way when they reach the app."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from slack_bolt import BoltRequest
from slack_sdk.socket_mode.request import SocketModeRequest
from sqlalchemy import func, select

from app.http import socket_mode as socket
from app.http.wsgi import make_wsgi_app
from app.runtime import Runtime
from app.sandbox import fuzz
from app.sandbox.client import SlackClientSimulator, wsgi_deliver
from app.slack.bolt_app import build_app, shutdown
from app.slack.ids import Callback
from incidents.models import Incident
from tests.slack.slack_harness import ALICE, GENERAL, SIGNING_SECRET, Harness

FORM = "application/x-www-form-urlencoded"


def incidents(h: Harness) -> int:
    with h.runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(Incident))


def send(h: Harness, body: bytes, content_type: str = FORM) -> tuple[int, bytes]:
    request = fuzz.Request(body, content_type)
    status, _, answer = h.slack.deliver(body, fuzz.signed(SIGNING_SECRET, request, timestamp=int(time.time())))
    h.settle()
    return status, answer


def declare_submission(h: Harness) -> dict[str, Any]:
    """The payload of a real declare submission, as the simulator builds it (not sent)."""
    h.command("declare")
    view = h.open_view(ALICE, Callback.DECLARE)
    captured: list[bytes] = []
    builder = SlackClientSimulator(
        h.workspace, lambda b, _: captured.append(b) or (200, {}, b""), signing_secret="unused"
    )
    builder.submit_view(
        ALICE, view.id, {"declare_title": {"declare_title": "Edge"}, "declare_severity": {"declare_severity": "SEV2"}}
    )
    return json.loads(dict(parse_qsl(captured[0].decode()))["payload"])


def test_a_submission_whose_view_has_no_id_gets_400_and_declares_nothing(harness: Harness) -> None:
    payload = declare_submission(harness)
    del payload["view"]["id"]
    status, answer = send(harness, urlencode({"payload": json.dumps(payload)}).encode())
    assert (status, answer) == (400, b"malformed request: payload.view.id is missing")
    assert incidents(harness) == 0


def test_null_response_urls_get_400_not_a_crash_in_bolt(harness: Harness) -> None:
    payload = declare_submission(harness) | {"response_urls": None}
    status, answer = send(harness, urlencode({"payload": json.dumps(payload)}).encode())
    assert (status, answer) == (400, b"malformed request: payload.response_urls is null")
    assert incidents(harness) == 0


def test_a_signed_body_that_is_not_utf8_is_malformed_not_unsigned(harness: Harness) -> None:
    assert send(harness, b"payload=\xff\xfe") == (400, b"malformed request: the body is not UTF-8")
    assert send(harness, b"command=%2Fincident&text=%ff") == (400, b"malformed request: the form is not UTF-8")


def test_a_json_string_with_a_lone_surrogate_is_not_json(harness: Harness) -> None:
    body = json.dumps({"type": "event_callback", "event": {"type": "message", "text": "\ud800"}}).encode()
    assert send(harness, body, "application/json") == (400, b"malformed request: the body is not JSON")


def test_the_declare_listener_reads_the_typed_submission(harness: Harness) -> None:
    payload = declare_submission(harness)
    assert send(harness, urlencode({"payload": json.dumps(payload)}).encode())[0] == 200
    incident = harness.latest_incident()
    assert incident.title == "Edge" and incident.reporter_id == ALICE


def test_without_a_signing_secret_nothing_over_http_is_taken_for_slack(harness: Harness) -> None:
    """A Socket Mode process has no signing secret; its WSGI app (health, metrics) refuses /slack/events, even a
    request "signed" with the empty secret."""
    runtime = Runtime(harness.deps.settings.model_copy(update={"slack_signing_secret": None}), clock=harness.clock)
    app = build_app(dataclasses.replace(harness.deps, runtime=runtime), socket_mode=True)
    try:
        request = fuzz.Request(urlencode({"command": "/incident", "text": "help"}).encode(), FORM)
        deliver = wsgi_deliver(make_wsgi_app(app))
        assert deliver(request.body, fuzz.signed("", request, timestamp=int(time.time())))[0] == 401
    finally:
        shutdown(app)
        runtime.engine.dispose()


def test_a_request_that_bypassed_the_edge_over_http_is_refused(harness: Harness) -> None:
    """Bolt's own signature check is off (the edge verifies once): an HTTP request that did not come through
    the edge is not trusted."""
    body = urlencode({"command": "/incident", "text": "help", "user_id": ALICE, "channel_id": GENERAL})
    response = harness.app.dispatch(BoltRequest(body=body, headers={"content-type": FORM}))
    assert response.status == 401


def socket_mode(h: Harness, payload: dict[str, Any], kind: str = "slash_commands") -> int:
    response = socket.dispatch(h.app, SocketModeRequest(type=kind, envelope_id="e1", payload=payload))
    h.settle()
    return response.status


def test_socket_mode_requests_are_answered_without_an_http_signature(harness: Harness) -> None:
    captured: list[bytes] = []
    builder = SlackClientSimulator(
        harness.workspace, lambda b, _: captured.append(b) or (200, {}, b""), signing_secret="unused"
    )
    builder.slash_command(ALICE, GENERAL, "/incident", "declare")
    command = dict(parse_qsl(captured[0].decode()))
    assert socket_mode(harness, command) == 200
    assert harness.open_view(ALICE, Callback.DECLARE)  # Bolt built its context (user, trigger) from the payload


def test_socket_mode_payloads_are_validated_like_http_ones(harness: Harness) -> None:
    payload = declare_submission(harness) | {"response_urls": None}
    assert socket_mode(harness, payload, "interactive") == 400
    assert incidents(harness) == 0
