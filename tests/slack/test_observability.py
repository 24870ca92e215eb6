"""The served app's observability: /readyz and /metrics mounted in the WSGI app, Slack calls counted on the
client Bolt builds for each request too, and the request latency histogram fed by the summary log line."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.http.wsgi import make_wsgi_app
from app.observability.health import metrics_app, readiness_for
from app.observability.metrics import Metrics
from app.runtime import Runtime
from app.sandbox.client import SlackClientSimulator, wsgi_deliver
from app.sandbox.delivery import signed_headers
from app.sandbox.workspace import INCIDENTS_CHANNEL_ID, Workspace
from app.settings import Settings
from app.slack.bolt_app import build_app, shutdown
from app.slack.client import build_client
from app.slack.deps import Deps
from app.slack.readiness import SlackAuthCheck
from tests.slack.slack_harness import ALICE, SIGNING_SECRET, Clock
from tests.waiting import wait_for


class Served:
    def __init__(self, wsgi, slack: SlackClientSimulator, metrics: Metrics):  # type: ignore[no-untyped-def]
        self.wsgi, self.slack, self.metrics = wsgi, slack, metrics

    def get(self, path: str) -> tuple[str, bytes]:
        seen = {}

        def start_response(status, headers):  # type: ignore[no-untyped-def]
            seen["status"] = status

        body = b"".join(self.wsgi({"REQUEST_METHOD": "GET", "PATH_INFO": path}, start_response))
        return seen["status"], body

    def sample(self, name: str, **labels: str) -> float:
        _, body = self.get("/metrics")
        for family in text_string_to_metric_families(body.decode()):
            for s in family.samples:
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                    return s.value
        return 0.0


@pytest.fixture
def served(settings: Settings, workspace: Workspace, now) -> Iterator[Served]:  # type: ignore[no-untyped-def]
    runtime = Runtime(settings, clock=Clock(now))
    metrics = Metrics(sessions=runtime.sessions, now=runtime.now)
    # the meter goes first on the client, as app.bootstrap.build_bot builds it
    deps = Deps.build(runtime, build_client(settings, meter=metrics.slack_meter()), metrics=metrics)
    app = build_app(deps)
    routes = {"/readyz": readiness_for(runtime.engine, SlackAuthCheck(deps.client)), "/metrics": metrics_app(metrics)}
    wsgi = make_wsgi_app(app, routes)
    yield Served(wsgi, SlackClientSimulator(workspace, wsgi_deliver(wsgi), signing_secret=SIGNING_SECRET), metrics)
    shutdown(app)
    runtime.engine.dispose()


def test_readyz_and_metrics_are_served_next_to_the_slack_endpoint(served: Served) -> None:
    status, body = served.get("/readyz")
    assert status == "200 OK"
    assert json.loads(body)["checks"] == {"database": "ok", "schema": "ok", "slack": "ok"}
    assert served.sample("incidentbot_slack_api_calls_total", method="auth.test") == 1
    status, body = served.get("/metrics")
    assert status == "200 OK" and b"incidentbot_database_up 1.0" in body


def test_calls_made_by_listeners_through_bolt_s_client_are_counted(served: Served, workspace: Workspace) -> None:
    """Bolt builds a new WebClient per request and copies the retry handlers onto it: the meter goes along."""
    served.slack.slash_command(ALICE, INCIDENTS_CHANNEL_ID, "/incident", "declare")
    # Listeners finish after the ack, in Bolt's pool: wait for their effects.
    wait_for(lambda: served.sample("incidentbot_slack_api_calls_total", method="views.open") == 1, "views.open")
    assert workspace.open_views(ALICE)


def test_each_request_is_timed_by_kind_and_outcome(served: Served) -> None:
    served.slack.slash_command(ALICE, INCIDENTS_CHANNEL_ID, "/incident", "help")
    served.slack.slash_command(ALICE, INCIDENTS_CHANNEL_ID, "/incident", "sev SEV1")  # refused: not an incident channel
    count = "incidentbot_request_seconds_count"
    # Each request is timed when its work ends, after the ack: wait until both are, then count.
    wait_for(
        lambda: (
            served.sample(count, kind="command", outcome="refused") >= 1
            and served.sample(count, kind="command", outcome="ok") >= 1
        ),
        "both commands to be timed",
    )
    assert served.sample(count, kind="command") >= 1
    assert served.sample(count, kind="command", outcome="refused") == 1
    assert served.sample(count, kind="command", outcome="ok") == 1


def test_a_malformed_request_is_answered_400_before_bolt(served: Served) -> None:
    body = b"payload=%7Bnot+json"
    headers = signed_headers(
        SIGNING_SECRET, body, timestamp=int(time.time()), content_type="application/x-www-form-urlencoded"
    )
    status, _, answer = served.slack.deliver(body, headers)
    assert status == 400 and answer.startswith(b"malformed request: the payload is not JSON")


def test_an_unsigned_request_is_refused_before_it_is_parsed(served: Served) -> None:
    status, _, answer = served.slack.deliver(
        b"payload=%7Bnot+json", {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 401 and b"JSON" not in answer
