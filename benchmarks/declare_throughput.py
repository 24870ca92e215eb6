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
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from serving import SECRET, Request, announced, declare_submissions, fresh_database, percentile, serve
from sqlalchemy.orm import Session, sessionmaker

from app.sandbox.client import SlackClientSimulator, http_deliver
from app.sandbox.workspace import Workspace
from incidents.db import make_engine, make_session_factory


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the Slack double waits per call")
    parser.add_argument("--outbox-threads", type=int, default=4)
    args = parser.parse_args()

    workspace = Workspace().seed_default()
    users = [workspace.add_user(f"bench{n}", f"Bench {n}").id for n in range(50)]
    data = tempfile.mkdtemp(prefix="declare-bench-")
    env = {"LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"), "OUTBOX_THREADS": str(args.outbox_threads)}
    with (
        fresh_database(os.environ.get("DATABASE_URL"), data) as database_url,
        serve(workspace, data, env | {"DATABASE_URL": database_url}, ready="/readyz") as server,
    ):
        engine = make_engine(database_url)
        try:
            slack = SlackClientSimulator(workspace, http_deliver(server.events_url, timeout=30), signing_secret=SECRET)
            time.sleep(2)
            idle_before = memory_mib(server.pid)
            submissions = declare_submissions(workspace, slack, users, args.incidents)
            workspace.latency = args.latency
            run(server.pid, submissions, make_session_factory(engine), args, server.url, idle_before, workspace)
        finally:
            engine.dispose()


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

    def watch_completions() -> None:
        seen = 0
        while not stop.is_set() and seen < len(submissions):
            count = announced(sessions)
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
