"""/readyz and /metrics as WSGI apps: what they check, what they answer, and how often they ask Slack."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from app.observability.health import Readiness, metrics_app, readiness_for
from app.observability.metrics import Metrics
from app.sandbox.webapi import make_web_api, serve_in_thread
from app.sandbox.workspace import Workspace
from app.slack.readiness import SlackAuthCheck
from incidents.db import make_engine


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def call(app) -> tuple[str, dict[str, str], bytes]:
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app({"REQUEST_METHOD": "GET", "PATH_INFO": "/"}, start_response))
    return seen["status"], seen["headers"], body


@pytest.fixture
def slack() -> Iterator[tuple[Workspace, WebClient]]:
    ws = Workspace().seed_default()
    running = serve_in_thread(make_web_api(ws))
    yield ws, WebClient(base_url=running.base_url, token="xoxb-test")
    running.stop()


def test_ready_when_the_database_schema_and_slack_are_fine(engine, slack):
    _, client = slack
    status, headers, body = call(readiness_for(engine, SlackAuthCheck(client)))
    assert status == "200 OK" and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"status": "ready", "checks": {"database": "ok", "schema": "ok", "slack": "ok"}}


def test_not_ready_names_an_old_schema(tmp_path, slack):
    _, client = slack
    engine = make_engine(f"sqlite:///{tmp_path}/new.db")
    status, _, body = call(readiness_for(engine, SlackAuthCheck(client)))
    engine.dispose()
    answer = json.loads(body)
    assert status == "503 Service Unavailable"
    assert answer["status"] == "not ready" and answer["failed"] == ["schema"]
    assert "incidents db upgrade" in answer["checks"]["schema"]


def test_not_ready_names_an_unreachable_database_without_its_password(slack):
    _, client = slack
    engine = make_engine("postgresql+psycopg://bot:hunter2@127.0.0.1:9/incidents", connect_args={"connect_timeout": 2})
    status, _, body = call(readiness_for(engine, SlackAuthCheck(client)))
    engine.dispose()
    answer = json.loads(body)
    assert status.startswith("503")
    assert set(answer["failed"]) == {"database", "schema"}
    assert "cannot reach the database at postgresql+psycopg://bot:***@127.0.0.1:9" in answer["checks"]["database"]
    assert "hunter2" not in body.decode()


def test_a_refused_slack_token_makes_the_bot_not_ready(engine, slack):
    ws, client = slack
    ws.faults.fail("auth.test", error="invalid_auth")
    status, _, body = call(readiness_for(engine, SlackAuthCheck(client)))
    assert status.startswith("503")
    assert json.loads(body)["checks"]["slack"] == "Slack refused auth.test: invalid_auth"
    assert "xoxb" not in body.decode()


def test_slack_auth_is_asked_once_a_minute_when_fine_and_every_few_seconds_when_not(slack):
    ws, client = slack
    clock = Clock()
    check = SlackAuthCheck(client, ttl=60, retry_seconds=5, clock=clock)
    for _ in range(5):
        assert check() is None
    assert len(ws.calls_to("auth.test")) == 1
    clock.t += 61
    ws.faults.fail("auth.test", http_status=503, times=None)
    assert "HTTP 503" in check()
    clock.t += 4
    assert "HTTP 503" in check()
    assert len(ws.calls_to("auth.test")) == 2
    ws.faults.clear()
    clock.t += 1
    assert check() is None
    assert len(ws.calls_to("auth.test")) == 3


def test_an_unreachable_slack_is_named():
    check = SlackAuthCheck(WebClient(base_url="http://127.0.0.1:9/api/", token="xoxb-secret", retry_handlers=[]))
    assert check().startswith("cannot reach Slack: URLError")


def test_a_check_that_raises_counts_as_failed_and_changes_are_logged_once():
    from structlog.testing import capture_logs

    def broken():
        raise RuntimeError("boom")

    readiness = Readiness({"broken": broken})
    with capture_logs() as logs:
        for _ in range(3):
            ready, body = readiness.report()
    assert not ready and body["checks"]["broken"] == "RuntimeError: boom"
    assert [entry["event"] for entry in logs] == ["readiness.failed"]


def test_metrics_are_served_in_the_prometheus_text_format():
    metrics = Metrics()
    metrics.observe_request("command", "ok", 0.1)
    status, headers, body = call(metrics_app(metrics))
    assert status == "200 OK" and headers["Content-Type"].startswith("text/plain; version=")
    assert b'incidentbot_request_seconds_count{kind="command",outcome="ok"} 1.0' in body
