"""The real bot as a process (`incidents serve`: gunicorn, its workers, the outbox worker, the scheduler) against
a Slack Web API double served by the test, and the signed requests Slack would send it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from app.sandbox.client import SlackClientSimulator, http_deliver
from app.sandbox.webapi import RunningServer
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "xoxb-e2e-token-never-logged"
SECRET = "e2e-signing-secret-never-logged"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()
    except OSError:
        return 0, b""


class BotProcess:
    def __init__(self, *, database_url: str, api: RunningServer, data_dir: Path, **settings: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "bot.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEST_"))} | {
            "DATABASE_URL": database_url,
            "DATA_DIR": str(data_dir),
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api.base_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "LOG_FORMAT": "json",
            "PYTHONPATH": str(ROOT),
            **settings,
        }
        self.cwd = data_dir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> BotProcess:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it; closed when we stop it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli.main", "serve"],
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL reaches the gunicorn workers too
        )
        log.close()
        wait_for(lambda: self.ready() or self.process.poll() is not None, "the bot to be ready")  # type: ignore[union-attr]
        if self.process.poll() is not None:
            raise AssertionError(f"the bot did not start:\n{self.log()}")
        return self

    def ready(self) -> bool:
        return get(f"{self.url}/readyz")[0] == 200

    def slack(self, workspace) -> SlackClientSimulator:  # type: ignore[no-untyped-def]
        return SlackClientSimulator(
            workspace, http_deliver(f"{self.url}/slack/events", timeout=10), signing_secret=SECRET
        )

    def kill(self) -> None:
        """SIGKILL the whole process group: no handler runs, nothing is cleaned up."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, timeout: float = 40.0) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
