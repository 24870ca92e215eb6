"""Which mode `incidents serve` runs in, what the sandbox serves, and that production serves none of it."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.cli import serve
from app.runtime import Runtime
from app.sandbox import run
from app.sandbox.run import Sandbox, sandbox_host, start_sandbox
from app.sandbox.workspace import INCIDENTS_CHANNEL_ID
from app.settings import Settings, SettingsError, load_settings

SLACK_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "HOST",
    "PORT",
    "DATABASE_URL",
    "OWNERSHIP_MAP_PATH",
    "DATA_DIR",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in SLACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Runtime]]:
    """Records which server `run_server` chose instead of starting it."""
    chosen: dict[str, list[Runtime]] = {"sandbox": [], "http": [], "socket": []}
    monkeypatch.setattr(run, "run_sandbox", lambda runtime: chosen["sandbox"].append(runtime))
    monkeypatch.setattr(serve.HttpServer, "run", lambda self: chosen["http"].append(self.runtime))
    monkeypatch.setattr(serve, "run_socket_mode", lambda runtime, build: chosen["socket"].append(runtime))
    return chosen


def test_without_slack_credentials_serve_runs_the_sandbox(served):
    serve.run_server(Runtime(load_settings()))
    assert [len(v) for v in served.values()] == [1, 0, 0]


def test_with_slack_credentials_serve_talks_to_slack(served, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-real")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "real-secret")
    serve.run_server(Runtime(load_settings()))
    assert [len(v) for v in served.values()] == [0, 1, 0]


def test_half_configured_slack_is_an_error_not_a_sandbox(served, monkeypatch):
    """A forgotten token must not silently turn a production deploy into a sandbox."""
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "real-secret")
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN"):
        serve.run_server(Runtime(load_settings()))
    assert served["sandbox"] == []


def test_the_sandbox_listens_on_this_machine_only_unless_host_is_set(monkeypatch):
    assert sandbox_host(load_settings()) == "127.0.0.1"
    monkeypatch.setenv("HOST", "0.0.0.0")
    assert sandbox_host(load_settings()) == "0.0.0.0"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    settings = load_settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'real.db'}")
    running = start_sandbox(settings, port=0)
    yield running
    running.stop()


def fetch(url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def test_one_port_serves_the_page_the_slack_double_and_the_bot(sandbox):
    root = sandbox.url.removesuffix("/sandbox")
    assert root.startswith("http://127.0.0.1:")
    assert fetch(sandbox.url)[0] == 200
    assert fetch(f"{root}/healthz") == (200, b"ok")
    token = sandbox.runtime.settings.slack_bot_token.get_secret_value()
    status, body = fetch(f"{root}/api/auth.test", {}, {"Authorization": f"Bearer {token}"})
    assert status == 200 and json.loads(body)["user_id"] == sandbox.workspace.bot.id
    assert sandbox.bot.deps.client.base_url == f"{root}/api/"


def test_the_sandbox_bot_gets_its_own_random_credentials_and_database(sandbox, tmp_path):
    settings: Settings = sandbox.runtime.settings
    assert settings.slack_bot_token.get_secret_value().startswith("xoxb-sandbox-")
    assert len(settings.slack_signing_secret.get_secret_value()) == 32
    assert settings.effective_database_url == f"sqlite:///{(tmp_path / 'data' / 'sandbox.db').as_posix()}"
    assert not (tmp_path / "real.db").exists()
    assert sandbox.runtime.clock is sandbox.clock


def test_a_drill_files_no_real_tickets_and_serves_the_status_page_next_to_it(tmp_path):
    """Tracker credentials and STATUS_PAGE_PORT from a developer's .env do not reach the sandbox bot."""
    from pydantic import SecretStr

    from app.integrations.tracker import build_trackers

    real = Settings(
        data_dir=str(tmp_path),
        ticket_default="jira:OPS",
        jira_base_url="https://acme.atlassian.net",
        jira_email="bot@acme.example",
        jira_api_token=SecretStr("real-jira-token"),
        github_issues_token=SecretStr("real-github-token"),
        github_issues_webhook_secret=SecretStr("real-secret"),
        status_page_enabled=True,
        status_page_port=8080,
    )
    drill = run.sandbox_settings(real, api_url="http://127.0.0.1:1/api/", signing_secret="s", bot_token="xoxb-t")
    assert build_trackers(drill) == {} and drill.ticket_default == ""
    assert (drill.jira_api_token, drill.github_issues_token, drill.github_issues_webhook_secret) == (None, None, None)
    assert drill.status_page_enabled and drill.status_page_port is None


def test_a_drill_with_a_map_naming_trackers_starts_and_files_no_tickets(tmp_path):
    tracked = Path(__file__).parents[1] / "integrations" / "tracker" / "ownership.yml"
    settings = load_settings(
        data_dir=tmp_path / "data", ownership_map_path=str(tracked), jira_base_url="https://j.example"
    )
    running = start_sandbox(settings, port=0)
    try:
        deps = running.bot.deps
        assert deps.trackers == {} and deps.owners is not None
        assert [team.tracker for team in deps.owners.current().teams] == [None, None, None]
    finally:
        running.stop()


def test_the_workspace_is_seeded_with_people_incidents_and_the_example_ownership_map(sandbox):
    ws = sandbox.workspace
    assert {"Alice Adams", "Bob Brown", "Carol Chen", "Dan Diaz"} <= {u.real_name for u in ws.users.values()}
    assert ws.channel("incidents").id == INCIDENTS_CHANNEL_ID
    assert ws.user_by_email("ana@example.com") is not None  # a payments engineer in the example map
    assert ws.channel_by_name("payments") is not None
    assert any(g.handle == "payments-oncall" for g in ws.usergroups.values())
    assert sandbox.bot.deps.owners is not None


def test_a_slash_command_on_the_page_reaches_the_real_bot(sandbox):
    status, body = fetch(
        f"{sandbox.url}/api/command", {"as": "U01ALICE", "channel": INCIDENTS_CHANNEL_ID, "text": "/incident help"}
    )
    assert (status, json.loads(body)) == (200, {"ok": True})
    [reply] = sandbox.workspace.ephemerals_for("U01ALICE")
    assert "/incident" in reply.text + json.dumps(reply.blocks)


def test_production_serves_nothing_of_the_sandbox(monkeypatch, tmp_path):
    """The bot's own WSGI app answers 404 for the page and the Web API double, and never imports the sandbox."""
    script = f"""
import sys, io
from app.runtime import Runtime
from app.bootstrap import build_bot
from app.settings import load_settings
settings = load_settings(slack_bot_token="xoxb-real", slack_signing_secret="s", data_dir={str(tmp_path)!r})
bot = build_bot(Runtime(settings))
def status(path, method="GET"):
    seen = []
    environ = {{"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": io.BytesIO(b""), "CONTENT_LENGTH": "0",
               "SERVER_NAME": "x", "SERVER_PORT": "80", "wsgi.url_scheme": "http"}}
    bot.wsgi(environ, lambda s, h, e=None: seen.append(s))
    return seen[0].split()[0]
paths = ["/sandbox", "/sandbox/", "/sandbox/static/sandbox.js", "/sandbox/api/state"]
print([status(p) for p in paths], status("/api/chat.postMessage", "POST"), status("/response/x", "POST"))
print(sorted(m for m in sys.modules if m.startswith("app.sandbox")))
"""
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert out.stdout.splitlines() == ["['404', '404', '404', '404'] 404 404", "[]"]


def test_a_sample_deploy_from_the_page_is_recorded_through_the_bots_change_api(sandbox):
    from sqlalchemy import select

    from incidents.models import ChangeEvent

    status, body = fetch(f"{sandbox.url}/api/drill/deploy", {"as": "U01ALICE"})
    answer = json.loads(body)
    assert status == 200 and answer["ok"] is True and "checkout" in answer["said"]
    with sandbox.runtime.sessions() as session:
        [change] = session.scalars(select(ChangeEvent)).all()
    assert (change.service, change.kind, change.who, change.source) == ("checkout", "deploy", "ci-pipeline", "sandbox")
    assert change.occurred_at.replace(tzinfo=None) <= sandbox.runtime.now().replace(tzinfo=None)


def test_a_sample_alert_from_the_page_declares_an_incident_and_a_second_one_joins_it(sandbox):
    from sqlalchemy import select

    from incidents.models import Alert, Incident

    status, body = fetch(f"{sandbox.url}/api/drill/alert", {"as": "U01ALICE"})
    assert status == 200 and json.loads(body) == {
        "ok": True,
        "said": "Alertmanager sent a critical checkout alert: it declared an incident",
    }
    status, body = fetch(f"{sandbox.url}/api/drill/alert", {"as": "U01ALICE"})
    assert status == 200 and json.loads(body)["said"].endswith("joined the open incident")
    with sandbox.runtime.sessions() as session:
        alerts = session.scalars(select(Alert)).all()
        declared = session.scalars(select(Incident).where(Incident.title == "Checkout error rate above 5%")).all()
    assert len(alerts) == 2 and len(declared) == 1
    assert {a.incident_id for a in alerts} == {declared[0].id}
    assert (declared[0].severity, declared[0].services) == ("SEV1", ["checkout"])
