"""Serving: settings that must be there, the gunicorn configuration, and the real server end to end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.bootstrap import build_bot
from app.cli.serve import run_server
from app.http.server import HttpServer, gunicorn_options
from app.runtime import Runtime
from app.sandbox.client import SlackClientSimulator, http_deliver
from app.sandbox.webapi import RunningServer, make_web_api, serve_in_thread
from app.sandbox.workspace import Workspace
from app.settings import SettingsError, load_settings
from tests.slack.slack_harness import BOT_TOKEN, SIGNING_SECRET
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("given", "missing"),
    [  # none at all starts the sandbox instead (tests/sandbox_mode/test_sandbox_mode.py)
        ({"slack_bot_token": "xoxb-1"}, ["SLACK_SIGNING_SECRET"]),
        ({"slack_signing_secret": "s"}, ["SLACK_BOT_TOKEN"]),
        ({"slack_app_token": "xapp-1"}, ["SLACK_BOT_TOKEN"]),
    ],
)
def test_a_missing_slack_setting_stops_start_up_naming_it(given: dict, missing: list[str], tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, data_dir=tmp_path, **given)
    with pytest.raises(SettingsError) as caught:
        run_server(Runtime(settings))
    assert [p.split(":")[0] for p in caught.value.problems] == missing
    assert "xoxb-1" not in str(caught.value) and "xapp-1" not in str(caught.value)


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No stray settings: an empty working directory (no .env) and none of the serving variables set."""
    monkeypatch.chdir(tmp_path)
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_API_URL",
        "DATABASE_URL",
        "DATA_DIR",
        "HOST",
        "PORT",
        "OWNERSHIP_MAP_PATH",
    ):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def chosen(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which server `run_server` started (none is really started)."""
    from app.sandbox import run

    started: list[str] = []
    monkeypatch.setattr(run, "run_sandbox", lambda runtime: started.append("sandbox"))
    monkeypatch.setattr(HttpServer, "run", lambda self: started.append("http"))
    monkeypatch.setattr("app.cli.serve.run_socket_mode", lambda runtime, build: started.append("socket mode"))
    return started


def test_blank_slack_variables_count_as_unset(
    environment: Path, monkeypatch: pytest.MonkeyPatch, chosen: list[str]
) -> None:
    """`SLACK_SIGNING_SECRET=` in a deploy's environment is a forgotten secret, and `SLACK_APP_TOKEN=` does not
    ask for Socket Mode: start-up stops in this process, before any gunicorn worker exists."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "")
    monkeypatch.setenv("SLACK_APP_TOKEN", "  ")
    settings = load_settings()
    assert (settings.slack_signing_secret, settings.slack_app_token) == (None, None)
    with pytest.raises(SettingsError) as caught:
        run_server(Runtime(settings))
    assert [p.split(":")[0] for p in caught.value.problems] == ["SLACK_SIGNING_SECRET"]
    assert chosen == []
    monkeypatch.setenv("SLACK_SIGNING_SECRET", f" {SIGNING_SECRET}\n")  # pasted with a newline
    settings = load_settings()
    assert settings.slack_signing_secret.get_secret_value() == SIGNING_SECRET  # type: ignore[union-attr]
    run_server(Runtime(settings))
    assert chosen == ["http"]


def test_every_credential_problem_is_told_at_once_without_the_secrets(environment: Path, chosen: list[str]) -> None:
    settings = load_settings(
        slack_bot_token="xoxp-user-token-123",
        slack_app_token="xoxb-bot-token-456",
        slack_signing_secret="xoxb-bot-token-456",
    )
    with pytest.raises(SettingsError) as caught:
        run_server(Runtime(settings))
    assert caught.value.problems == [
        "SLACK_BOT_TOKEN: must start with xoxb- (the Bot User OAuth Token (OAuth & Permissions page of the Slack "
        "app)); this one starts with xoxp-",
        "SLACK_APP_TOKEN: must start with xapp- (an app-level token with connections:write (Basic Information "
        "page)); this one starts with xoxb-",
        "SLACK_SIGNING_SECRET: this is a Slack token (xoxb-...), not the Signing Secret (Basic Information page, "
        "App Credentials)",
    ]
    assert "user-token" not in str(caught.value) and "bot-token" not in str(caught.value)
    settings = load_settings(slack_bot_token="bot-token-without-prefix")
    with pytest.raises(SettingsError) as caught:
        run_server(Runtime(settings))
    assert [p.split(":")[0] for p in caught.value.problems] == ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]
    assert "this one does not" in caught.value.problems[0]
    assert chosen == []


def test_serve_stops_with_the_credential_problems_before_starting_gunicorn(
    environment: Path, monkeypatch: pytest.MonkeyPatch, chosen: list[str]
) -> None:
    from click.testing import CliRunner

    from app.cli.main import main

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-1234567")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1
    assert "SLACK_BOT_TOKEN: must start with xoxb-" in result.output
    assert "SLACK_SIGNING_SECRET: required to talk to Slack" in result.output
    assert "Traceback" not in result.output and chosen == []
    assert not (environment / "data").exists(), "no database is touched before the settings are right"


def test_the_sandbox_never_opens_the_production_database(
    environment: Path, monkeypatch: pytest.MonkeyPatch, chosen: list[str]
) -> None:
    """Without Slack credentials `serve` runs the sandbox, which has a database of its own: DATABASE_URL is not
    opened (here it points nowhere) and no data/incidents.db appears next to the sandbox's."""
    from click.testing import CliRunner

    from app.cli.main import main

    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 0, result.output
    assert chosen == ["sandbox"]
    assert not (environment / "data" / "incidents.db").exists()
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/nothing")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 0, result.output
    assert chosen == ["sandbox", "sandbox"]


def test_production_serving_brings_its_schema_up_first(
    environment: Path, monkeypatch: pytest.MonkeyPatch, chosen: list[str]
) -> None:
    from click.testing import CliRunner

    from app.cli.main import main

    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 0, result.output
    assert chosen == ["http"]
    assert (environment / "data" / "incidents.db").exists()  # SQLite upgrades itself before serving
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/nothing")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1 and "Cannot reach the database" in result.output
    assert chosen == ["http"]


def test_gunicorn_runs_gthread_workers_from_the_settings(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        data_dir=tmp_path,
        port=4321,
        web_workers=2,
        web_threads=48,
        web_backlog=4096,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
    )
    options = gunicorn_options(settings)
    assert (options["worker_class"], options["workers"], options["threads"], options["backlog"]) == (
        "gthread",
        2,
        48,
        4096,
    )
    assert options["bind"] == "0.0.0.0:4321"
    assert options["graceful_timeout"] < options["timeout"]  # a graceful stop ends before the hard kill
    server = HttpServer(Runtime(settings), build_bot)
    cfg = server.cfg
    assert (cfg.worker_class_str, cfg.workers, cfg.threads, cfg.backlog) == ("gthread", 2, 48, 4096)
    assert cfg.bind == ["0.0.0.0:4321"]
    assert cfg.post_worker_init.__name__ == "_post_worker_init"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def double() -> Iterator[tuple[Workspace, RunningServer]]:
    workspace = Workspace().seed_default()
    running = serve_in_thread(make_web_api(workspace))
    yield workspace, running
    running.stop()


@pytest.mark.e2e
def test_incidents_serve_handles_a_declaration_end_to_end_and_stops_gracefully(
    double: tuple[Workspace, RunningServer], tmp_path: Path
) -> None:
    workspace, api = double
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))},
        "DATA_DIR": str(tmp_path),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api.base_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_FORMAT": "json",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli.main", "serve"],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/healthz") or process.poll() is not None, "/healthz")
        assert process.poll() is None, process.stdout.read()  # type: ignore[union-attr]
        slack = SlackClientSimulator(
            workspace, http_deliver(f"http://127.0.0.1:{port}/slack/events"), signing_secret=SIGNING_SECRET
        )
        assert slack.slash_command("U01ALICE", "C0INCIDENTS", "/incident", "declare DB down").in_time
        wait_for(lambda: workspace.open_views("U01ALICE"), "the declare modal")
        [view] = workspace.open_views("U01ALICE")
        result = slack.submit_view("U01ALICE", view.id, {"declare_severity": {"declare_severity": "SEV1"}})
        assert result.in_time and result.json["response_action"] == "update"
        wait_for(lambda: workspace.channel_by_name("inc-1-db-down") is not None, "the incident channel")
        channel = workspace.channel_by_name("inc-1-db-down")
        wait_for(lambda: workspace.channel(channel.id).pins, "the pinned card")  # the outbox worker runs in the server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert process.returncode == 0, output
    assert '"event": "worker_stopped"' in output
