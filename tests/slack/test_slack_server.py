"""Serving: settings that must be there, the gunicorn configuration, and the real server end to end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.runtime import Runtime
from app.sandbox.client import SlackClientSimulator, http_deliver
from app.sandbox.webapi import RunningServer, make_web_api, serve_in_thread
from app.sandbox.workspace import Workspace
from app.server import HttpServer, gunicorn_options, run_server
from app.settings import SettingsError, load_settings
from tests.slack.slack_harness import BOT_TOKEN, SIGNING_SECRET

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


def test_gunicorn_runs_gthread_workers_from_the_settings(tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, data_dir=tmp_path, port=4321, web_workers=2, web_threads=48,
                             web_backlog=4096, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET)
    assert gunicorn_options(settings) | {} == gunicorn_options(settings)
    server = HttpServer(Runtime(settings))
    cfg = server.cfg
    assert (cfg.worker_class_str, cfg.workers, cfg.threads, cfg.backlog) == ("gthread", 2, 48, 4096)
    assert cfg.bind == ["0.0.0.0:4321"]
    assert cfg.post_worker_init.__name__ == "_post_worker_init"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll `condition` until it holds (a process starting up has no other signal to wait on)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


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
        [sys.executable, "-m", "app.cli", "serve"], cwd=tmp_path, env=env | {"PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/healthz") or process.poll() is not None)
        assert process.poll() is None, process.stdout.read()  # type: ignore[union-attr]
        slack = SlackClientSimulator(workspace, http_deliver(f"http://127.0.0.1:{port}/slack/events"),
                                     signing_secret=SIGNING_SECRET)
        assert slack.slash_command("U01ALICE", "C0INCIDENTS", "/incident", "declare DB down").in_time
        wait_for(lambda: bool(workspace.open_views("U01ALICE")))
        [view] = workspace.open_views("U01ALICE")
        result = slack.submit_view("U01ALICE", view.id, {"declare_severity": {"declare_severity": "SEV1"}})
        assert result.in_time and result.json["response_action"] == "update"
        wait_for(lambda: workspace.channel_by_name("inc-1-db-down") is not None)
        channel = workspace.channel_by_name("inc-1-db-down")
        wait_for(lambda: bool(workspace.channel(channel.id).pins))  # the outbox worker runs in the server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert process.returncode == 0, output
    assert '"event": "worker_stopped"' in output
