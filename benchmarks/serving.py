"""What the benchmarks that drive the real server share: `incidents serve` (gunicorn, gthread: the production
configuration) in a subprocess against the Slack Web API double served here, waited for until it answers and
stopped after; a fresh database for a run; requests signed as Slack signs them, built without being sent; the
declare submissions of a run and the count of completed declarations; percentiles.

The scripts run as `.venv/bin/python benchmarks/X.py` and import this module as `serving` (their own folder is
the first entry of sys.path). Importing it puts the project root on sys.path as well.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from app.sandbox.client import SlackClientSimulator  # noqa: E402
from app.sandbox.webapi import make_web_api, serve_in_thread  # noqa: E402
from app.sandbox.workspace import INCIDENTS_CHANNEL_ID, Workspace  # noqa: E402
from incidents import db  # noqa: E402
from incidents.db import make_engine  # noqa: E402
from incidents.models import Incident  # noqa: E402

TOKEN, SECRET = "xoxb-bench", "bench-signing-secret"
Request = tuple[bytes, dict[str, str]]


@dataclass(frozen=True)
class Server:
    """The running `incidents serve`: its process (gunicorn's master), port and log."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"


@contextmanager
def serve(
    workspace: Workspace, data: str, env: Mapping[str, str], *, ready: str, log_label: str | None = "server log"
) -> Iterator[Server]:
    """`incidents serve` in `data` against the Slack double of `workspace`, once `ready` (a path) answers 200.

    `env` adds to (or overrides) the bench settings: WEB_WORKERS, LOG_LEVEL, DATABASE_URL, ... The server gets
    SIGTERM on the way out (its process group is killed if it has not stopped 30 s later), then the Slack double
    stops; with a `log_label`, the log's path is printed last."""
    api = serve_in_thread(make_web_api(workspace))
    port = free_port()
    log_path = Path(data) / "server.log"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")} | {
        "DATA_DIR": data,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api.base_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_FORMAT": "json",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    log = open(log_path, "w")  # noqa: SIM115 - closed with the server
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli.main", "serve"],
        cwd=data,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(process, port, log_path)
    try:
        wait_for(lambda: healthy(f"{server.url}{ready}") or process.poll() is not None, "the server", timeout=60)
        if process.poll() is not None:
            raise SystemExit(f"the server did not start:\n{log_path.read_text()}")
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        api.stop()
        log.close()
        if log_label:
            print(f"  ({log_label}: {log_path})")


@contextmanager
def fresh_database(server_url: str | None, data: str) -> Iterator[str]:
    """A new, migrated database for this run: a temporary SQLite file, or a database created for the run on the
    PostgreSQL server `server_url` points at (and dropped at the end), so that runs never see each other."""
    if not server_url:
        yield f"sqlite:///{data}/incidents.db"
        return
    base = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"declare_bench_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = base.set(database=name).render_as_string(hide_password=False)
        engine = make_engine(url)
        db.upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def signed(workspace: Workspace, act: Callable[[SlackClientSimulator], object]) -> Request:
    """The request `act` makes through a simulator, signed with the bench secret, built but not sent."""
    captured: list[Request] = []

    def capture(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        captured.append((body, headers))
        return 200, {}, b""

    act(SlackClientSimulator(workspace, capture, signing_secret=SECRET))
    return captured[0]


def declare_submissions(
    workspace: Workspace, slack: SlackClientSimulator, users: list[str], count: int
) -> list[Request]:
    """Open one declare modal per incident (a signed slash command each) and build its signed submission."""
    requests: list[Request] = []
    for n in range(count):
        user = users[n % len(users)]
        before = {v.id for v in workspace.open_views(user)}
        slack.slash_command(user, INCIDENTS_CHANNEL_ID, "/incident", "declare")
        wait_for(lambda u=user, b=before: {v.id for v in workspace.open_views(u)} - b, "a declare modal", timeout=60)
        view_id = next(iter({v.id for v in workspace.open_views(user)} - before))
        values = {
            "declare_title": {"declare_title": f"Benchmark incident {n}"},
            "declare_severity": {"declare_severity": "SEV2"},
            "declare_impact": {"declare_impact": "Checkout fails for some customers"},
        }
        requests.append(signed(workspace, lambda s, u=user, v=view_id, x=values: s.submit_view(u, v, x)))
    return requests


def announced(sessions: sessionmaker[Session]) -> int:
    """Declarations completed: incidents whose announcement is made (the last of the work after the ack)."""
    with sessions() as session:
        return session.scalar(select(func.count()).where(Incident.announcement_ts.is_not(None))) or 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], object], what: str, timeout: float = 30.0, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(every)


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]
