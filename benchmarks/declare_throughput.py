"""Declarations per second, end to end, with a Slack that answers every Web API call 100 ms late; and the bot's
memory (RSS) idle and under that load.

    .venv/bin/python benchmarks/declare_throughput.py [--incidents 200] [--concurrency 20] [--latency 0.1]
                                                      [--outbox-threads 4]

Starts `incidents serve` (gunicorn, gthread: the production configuration) in a subprocess against the Slack
Web API double served here. Preparation (Slack answering at once): one declare modal per incident is opened
with a signed slash command, and its signed submission is built. Then Slack slows down to `--latency` per call
and the submissions are sent, `--concurrency` at a time. An incident counts as declared when it is stored and
its channel exists with the card posted and pinned and the announcement made (its `announcement_ts` is set).

Prints: submissions acknowledged per second and ack latency; declarations completed per second over the whole
run and in its steady middle (10 %..90 % of completions); the Slack calls made; RSS and PSS of the bot
(gunicorn master and worker together; RSS counts the pages they share twice, PSS once) idle before the load, at
its peak during the load, and idle again after it.
Set DATABASE_URL to a PostgreSQL server to run on it (a database is created for the run and dropped after;
default: a temporary SQLite file).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from app.sandbox.client import SlackClientSimulator, http_deliver  # noqa: E402
from app.sandbox.webapi import make_web_api, serve_in_thread  # noqa: E402
from app.sandbox.workspace import INCIDENTS_CHANNEL_ID, Workspace  # noqa: E402
from incidents import db  # noqa: E402
from incidents.db import make_engine, make_session_factory  # noqa: E402
from incidents.models import Incident  # noqa: E402

TOKEN, SECRET = "xoxb-bench", "bench-signing-secret"
Request = tuple[bytes, dict[str, str]]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, what: str, timeout: float = 60.0, every: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(every)


def healthy(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def memory_mib(root_pid: int) -> tuple[float, float]:
    """RSS and PSS of a process and all its descendants (gunicorn's master and workers), in MiB. RSS counts the
    pages the worker shares with the master (forked from it) twice; PSS splits them: it is the real footprint."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    rss_kib = pss_kib = 0
    todo = [root_pid]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss_kib += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss_kib += int(line.split()[1])
        except OSError:
            continue
    return rss_kib / 1024, pss_kib / 1024


def fresh_database(server_url: str | None, data: str) -> tuple[str, Callable[[], None]]:
    """A new, migrated database for this run: a temporary SQLite file, or a database created for the run on the
    PostgreSQL server DATABASE_URL points at (and dropped at the end), so that runs never see each other."""
    if not server_url:
        return f"sqlite:///{data}/incidents.db", lambda: None
    base = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"declare_bench_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    db.upgrade(engine)
    engine.dispose()

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def prepare(workspace: Workspace, slack: SlackClientSimulator, users: list[str], count: int) -> list[Request]:
    """Open one declare modal per incident (a signed slash command each) and build its signed submission."""
    requests: list[Request] = []
    for n in range(count):
        user = users[n % len(users)]
        before = {v.id for v in workspace.open_views(user)}
        slack.slash_command(user, INCIDENTS_CHANNEL_ID, "/incident", "declare")
        wait_for(lambda u=user, b=before: {v.id for v in workspace.open_views(u)} - b, "a declare modal")
        view_id = next(iter({v.id for v in workspace.open_views(user)} - before))
        captured: list[Request] = []

        def capture(body: bytes, headers: dict[str, str], out: list[Request] = captured):  # type: ignore[no-untyped-def]
            out.append((body, headers))
            return 200, {}, b""

        builder = SlackClientSimulator(workspace, capture, signing_secret=SECRET)
        values = {
            "declare_title": {"declare_title": f"Benchmark incident {n}"},
            "declare_severity": {"declare_severity": "SEV2"},
            "declare_impact": {"declare_impact": "Checkout fails for some customers"},
        }
        builder.submit_view(user, view_id, values)
        requests.append(captured[0])
    return requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the Slack double waits per call")
    parser.add_argument("--outbox-threads", type=int, default=4)
    args = parser.parse_args()

    workspace = Workspace().seed_default()
    users = [workspace.add_user(f"bench{n}", f"Bench {n}").id for n in range(50)]
    api = serve_in_thread(make_web_api(workspace))
    port = free_port()
    data = tempfile.mkdtemp(prefix="declare-bench-")
    database_url, drop = fresh_database(os.environ.get("DATABASE_URL"), data)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")} | {
        "DATA_DIR": data,
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api.base_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        "LOG_FORMAT": "json",
        "OUTBOX_THREADS": str(args.outbox_threads),
        "PYTHONPATH": str(ROOT),
    }
    log = open(Path(data) / "server.log", "w")  # noqa: SIM115 - closed with the server
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli.main", "serve"],
        cwd=data,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: healthy(f"{url}/readyz") or server.poll() is not None, "the server")
        if server.poll() is not None:
            raise SystemExit(f"the server did not start:\n{(Path(data) / 'server.log').read_text()}")
        slack = SlackClientSimulator(workspace, http_deliver(f"{url}/slack/events", timeout=30), signing_secret=SECRET)
        time.sleep(2)
        idle_before = memory_mib(server.pid)
        submissions = prepare(workspace, slack, users, args.incidents)
        workspace.latency = args.latency
        run(server.pid, submissions, sessions, args, url, idle_before, workspace)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        api.stop()
        engine.dispose()
        drop()
        log.close()
        print(f"  (server log: {Path(data) / 'server.log'})")


def run(
    pid: int,
    submissions: list[Request],
    sessions: sessionmaker[Session],
    args: argparse.Namespace,
    url: str,
    idle_before: tuple[float, float],
    workspace: Workspace,
) -> None:
    send = http_deliver(f"{url}/slack/events", timeout=30)
    acks: list[float] = []
    failures = 0
    lock = threading.Lock()
    peak = list(idle_before)
    done_at: list[float] = []
    stop = threading.Event()

    def sample_memory() -> None:
        while not stop.wait(0.2):
            rss, pss = memory_mib(pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)

    def announced() -> int:
        with sessions() as session:
            return session.scalar(select(func.count()).where(Incident.announcement_ts.is_not(None))) or 0

    def watch_completions() -> None:
        seen = 0
        while not stop.is_set() and seen < len(submissions):
            count = announced()
            now = time.perf_counter()
            done_at.extend([now] * (count - seen))
            seen = count
            time.sleep(0.05)

    def fire(request: Request) -> None:
        nonlocal failures
        started = time.perf_counter()
        status, _, _ = send(*request)
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            if status == 200:
                acks.append(elapsed)
            else:
                failures += 1

    calls_before = len(workspace.calls)
    sampler = threading.Thread(target=sample_memory, daemon=True)
    watcher = threading.Thread(target=watch_completions, daemon=True)
    sampler.start()
    start = time.perf_counter()
    watcher.start()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        list(pool.map(fire, submissions))
    acked = time.perf_counter()
    watcher.join(timeout=600)
    stop.set()
    sampler.join()
    finished = time.perf_counter()
    time.sleep(3)
    idle_after = memory_mib(pid)
    calls = len(workspace.calls) - calls_before

    n = len(done_at)
    total = (done_at[-1] - start) if done_at else float("nan")
    lo, hi = done_at[n // 10] if n >= 10 else start, done_at[(n * 9) // 10 - 1] if n >= 10 else finished
    steady = ((n * 9) // 10 - n // 10) / (hi - lo) if n >= 10 and hi > lo else float("nan")
    print(
        f"Slack double latency {args.latency * 1000:.0f} ms per Web API call; {len(submissions)} declarations "
        f"sent {args.concurrency} at a time; OUTBOX_THREADS={args.outbox_threads}; "
        f"{'PostgreSQL' if os.environ.get('DATABASE_URL') else 'SQLite'}"
    )
    print(
        f"  submissions acked   {len(acks)} in {acked - start:5.1f} s = {len(acks) / (acked - start):6.1f}/s   "
        f"ack p50 {statistics.median(acks):6.1f} ms  p99 {percentile(acks, 99):6.1f} ms  failures {failures}"
    )
    print(
        f"  declarations done   {n} in {total:5.1f} s = {n / total:6.2f}/s overall, {steady:6.2f}/s steady "
        f"(channel + invite + topic + card + pin + announcement each; {calls / max(n, 1):.1f} Slack calls each)"
    )
    for label, i in (("RSS", 0), ("PSS", 1)):
        print(
            f"  bot {label}             idle {idle_before[i]:6.1f} MiB   peak under load {peak[i]:6.1f} MiB   "
            f"idle after {idle_after[i]:6.1f} MiB   (gunicorn master + 1 worker)"
        )


if __name__ == "__main__":
    main()
