"""The Prometheus metrics: Slack calls counted by a retry handler on a real WebClient against the Web API
double, and the database gauges read at scrape time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler

from app.delivery.circuit import CircuitBreaker
from app.observability.metrics import Metrics
from app.sandbox.webapi import make_web_api, serve_in_thread
from app.sandbox.workspace import Workspace
from incidents import outbox, service
from incidents.db import make_engine, make_session_factory
from incidents.effects import Effect
from incidents.outbox import PermanentFailure


def samples(metrics: Metrics) -> dict[tuple[str, tuple], float]:
    text = metrics.render().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    ws = Workspace().seed_default()
    running = serve_in_thread(make_web_api(ws))
    ws.test_base_url = running.base_url  # type: ignore[attr-defined]
    yield ws
    running.stop()


def test_slack_calls_and_errors_are_counted_by_method(workspace):
    metrics = Metrics()
    client = WebClient(
        base_url=workspace.test_base_url,
        token="xoxb-test",
        retry_handlers=[metrics.slack_meter(), ServerErrorRetryHandler(max_retry_count=1)],
    )
    client.auth_test()
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C_NOWHERE", text="hello")
    workspace.faults.fail("conversations.create", http_status=503)
    client.conversations_create(name="inc-1-retried")  # 503, then retried once by the server-error handler
    workspace.faults.fail("conversations.create", http_status=429, retry_after=30)
    with pytest.raises(SlackApiError):
        client.conversations_create(name="inc-2")
    got = samples(metrics)
    calls = "incidentbot_slack_api_calls_total"
    errors = "incidentbot_slack_api_errors_total"
    assert got[(calls, (("method", "auth.test"),))] == 1
    assert got[(calls, (("method", "chat.postMessage"),))] == 1
    assert got[(calls, (("method", "conversations.create"),))] == 3
    assert got[(errors, (("error", "channel_not_found"), ("method", "chat.postMessage")))] == 1
    assert got[(errors, (("error", "http_503"), ("method", "conversations.create")))] == 1
    assert got[(errors, (("error", "ratelimited"), ("method", "conversations.create")))] == 1
    assert not any(name == errors and dict(labels)["method"] == "auth.test" for name, labels in got)


def test_a_connection_failure_is_counted_by_exception_type():
    metrics = Metrics()
    client = WebClient(base_url="http://127.0.0.1:9/api/", token="xoxb-test", retry_handlers=[metrics.slack_meter()])
    with pytest.raises(OSError):
        client.auth_test()
    got = samples(metrics)
    assert got[("incidentbot_slack_api_errors_total", (("error", "URLError"), ("method", "auth.test")))] == 1


def test_database_gauges_are_read_at_scrape_time(database_url, now, process):
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with sessions.begin() as s:
        for severity in ("SEV1", "SEV2", "SEV2"):
            service.declare(s, title="t", severity=severity, reporter_id="U1", now=now, process=process)
        done = service.declare(s, title="t", severity="SEV3", reporter_id="U1", now=now, process=process)
        service.resolve(s, done, by="U1", now=now, process=process)

    def dead(_message):
        raise PermanentFailure("channel_not_found")

    outbox.deliver_due(sessions, {Effect.OPEN_CHANNEL.value: dead}, now=lambda: now, limit=1)
    later = now + timedelta(minutes=45)  # every open incident's first update (30 min) is overdue
    metrics = Metrics(sessions=sessions, now=lambda: later, circuit=CircuitBreaker())
    got = samples(metrics)
    engine.dispose()
    incidents = {
        dict(labels)["severity"] + "/" + dict(labels)["status"]: v
        for (n, labels), v in got.items()
        if n == "incidentbot_incidents"
    }
    assert incidents == {"SEV1/triage": 1, "SEV2/triage": 2, "SEV3/resolved": 1}
    assert got[("incidentbot_database_up", ())] == 1
    assert got[("incidentbot_reminders_overdue", ())] == 3
    assert got[("incidentbot_outbox_dead", (("kind", "open_channel"),))] == 1
    assert got[("incidentbot_outbox_pending", (("kind", "open_channel"),))] == 3
    assert got[("incidentbot_outbox_oldest_due_seconds", ())] == 45 * 60
    assert got[("incidentbot_circuit_state", ())] == 0


def test_an_unreachable_database_reports_down_without_failing_the_scrape(tmp_path, now):
    engine = make_engine(f"sqlite:///{tmp_path}/empty.db")  # no schema: every query fails
    metrics = Metrics(sessions=make_session_factory(engine), now=lambda: now)
    got = samples(metrics)
    engine.dispose()
    assert got[("incidentbot_database_up", ())] == 0
    assert not any(name.startswith("incidentbot_outbox") for name, _ in got)


def test_reminders_sent_are_counted_from_deliveries():
    metrics = Metrics()
    metrics.observe_delivery(Effect.REMINDER.value, "done")
    metrics.observe_delivery(Effect.REMINDER.value, "pending")
    metrics.observe_delivery(Effect.ESCALATION.value, "done")
    metrics.observe_delivery(Effect.OPEN_CHANNEL.value, "done")
    got = samples(metrics)
    assert got[("incidentbot_reminders_sent_total", (("kind", "reminder"),))] == 1
    assert got[("incidentbot_reminders_sent_total", (("kind", "escalation"),))] == 1
    assert got[("incidentbot_outbox_deliveries_total", (("kind", "reminder"), ("outcome", "pending")))] == 1


def test_request_latency_is_a_histogram_by_kind():
    metrics = Metrics()
    metrics.observe_request("command", "ok", 0.2)
    metrics.observe_request("something odd", None, 0.01)
    got = samples(metrics)
    bucket = "incidentbot_request_seconds_bucket"
    assert got[(bucket, (("kind", "command"), ("le", "0.25"), ("outcome", "ok")))] == 1
    assert got[(bucket, (("kind", "command"), ("le", "0.1"), ("outcome", "ok")))] == 0
    assert got[("incidentbot_request_seconds_count", (("kind", "other"), ("outcome", "unknown")))] == 1


def test_the_metrics_registry_is_not_the_global_one():
    from prometheus_client import REGISTRY

    Metrics()
    Metrics()  # twice in one process: no "Duplicated timeseries" error
    assert not [m.name for m in REGISTRY.collect() if m.name.startswith("incidentbot")]
