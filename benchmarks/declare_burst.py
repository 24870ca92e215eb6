"""Ack latency of declare submissions arriving all at once, on SQLite and on PostgreSQL, while Slack is slow.

    .venv/bin/python benchmarks/declare_burst.py [--rounds 5] [--burst 20] [--latency 0.3]
                                                 [--databases sqlite,postgresql] [--postgres URL]
                                                 [--py-spy DIR]

For each database: starts `incidents serve` (gunicorn, gthread: the production configuration) in a subprocess on
a fresh database (a temporary SQLite file; a database created on the `--postgres` server for the run, dropped
after), against the Slack Web API double served here. Preparation (Slack answering at once): one declare modal
per incident is opened with a signed slash command, and its signed submission is built. Then Slack slows down
to `--latency` per Web API call, and per round the `--burst` submissions are released at the same moment and
each is timed until its HTTP answer (the ack, which carries the "declared" view). Between rounds the bot
finishes the work after the acks (channel, card, announcement: six slow Slack calls per incident). Round 0 warms
up (first connections, first imports) and is not counted.

Prints, per database, p50 / p99 / max of the counted acks, the range of the rounds' p99 (target p99 150 ms),
and the bot's CPU time (gunicorn master and worker) from the release to the last ack, per submission (median
of the rounds; it includes whatever the outbox did meanwhile).
With `--py-spy DIR`, the gunicorn worker is profiled during the counted rounds (py-spy, speedscope format).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from serving import SECRET, Request, announced, declare_submissions, fresh_database, percentile, serve, wait_for

from app.sandbox.client import SlackClientSimulator, http_deliver
from app.sandbox.workspace import Workspace
from incidents.db import make_engine, make_session_factory

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="counted rounds (one more warms up)")
    parser.add_argument("--burst", type=int, default=20, help="submissions released at once per round")
    parser.add_argument("--latency", type=float, default=0.3, help="seconds the Slack double waits per call")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", POSTGRES), help="server to use")
    parser.add_argument("--py-spy", dest="py_spy", type=Path, help="profile the worker into this folder")
    args = parser.parse_args()
    results = {}
    for database in args.databases.split(","):
        results[database] = bench(database, args)
    print(
        f"Slack double latency {args.latency * 1000:.0f} ms per Web API call; {args.rounds} rounds of "
        f"{args.burst} declare submissions released at once (after one warm-up round)"
    )
    for database, (acks, round_p99s, cpu, failures) in results.items():
        print(
            f"  {database:10}  n={len(acks):4}  p50 {statistics.median(acks):6.1f} ms  "
            f"p99 {percentile(acks, 99):6.1f} ms  max {max(acks):6.1f} ms  "
            f"rounds' p99 {min(round_p99s):.0f}..{max(round_p99s):.0f} ms  "
            f"bot CPU {statistics.median(cpu):4.1f} ms per submission  failures {failures}"
        )


def bench(database: str, args: argparse.Namespace) -> tuple[list[float], list[float], list[float], int]:
    workspace = Workspace().seed_default()
    users = [workspace.add_user(f"bench{n}", f"Bench {n}").id for n in range(50)]
    data = tempfile.mkdtemp(prefix="declare-burst-")
    env = {
        "WEB_WORKERS": os.environ.get("BENCH_WEB_WORKERS", "1"),
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "INFO"),  # production's level: the summary lines count
    }
    acks: list[float] = []
    round_p99s: list[float] = []
    cpu: list[float] = []  # the bot's CPU time (master and worker) from the release to the last ack, per submission
    failures = 0
    with (
        fresh_database(args.postgres if database == "postgresql" else None, data) as database_url,
        serve(
            workspace, data, env | {"DATABASE_URL": database_url}, ready="/readyz", log_label=f"{database} server log"
        ) as server,
    ):
        engine = make_engine(database_url)
        sessions = make_session_factory(engine)
        try:
            slack = SlackClientSimulator(workspace, http_deliver(server.events_url, timeout=30), signing_secret=SECRET)
            spy = None
            for round_ in range(args.rounds + 1):
                workspace.latency = 0
                submissions = declare_submissions(workspace, slack, users, args.burst)
                workspace.latency = args.latency
                if round_ == 1 and args.py_spy:
                    spy = start_py_spy(server.pid, args.py_spy / f"declare-burst-{database}.json")
                cpu_before = cpu_seconds(server.pid)
                times, failed = burst(server.events_url, submissions)
                cpu_ms = (cpu_seconds(server.pid) - cpu_before) * 1000 / args.burst
                wait_for(lambda n=(round_ + 1) * args.burst: announced(sessions) >= n, "the declarations", timeout=300)
                if round_ == 0:
                    continue
                acks += times
                failures += failed
                round_p99s.append(percentile(times, 99))
                cpu.append(cpu_ms)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(60)
        finally:
            engine.dispose()
    return acks, round_p99s, cpu, failures


def cpu_seconds(root_pid: int) -> float:
    """User + system CPU time of a process and its children (gunicorn's master and worker), in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == root_pid or int(fields[1]) == root_pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def burst(url: str, submissions: list[Request]) -> tuple[list[float], int]:
    """Release every submission at the same moment (one thread each, behind a barrier); time each answer."""
    send = http_deliver(url, timeout=30)
    barrier = threading.Barrier(len(submissions))
    times: list[float] = []
    failed = 0
    lock = threading.Lock()

    def fire(request: Request) -> None:
        nonlocal failed
        barrier.wait()
        started = time.perf_counter()
        status, _, _ = send(*request)
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            if status == 200:
                times.append(elapsed)
            else:
                failed += 1

    threads = [threading.Thread(target=fire, args=(request,)) for request in submissions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, failed


def start_py_spy(master_pid: int, output: Path) -> subprocess.Popen[bytes]:
    """py-spy on the gunicorn master and its worker (`--subprocesses`), until interrupted: only the thread that
    holds the GIL is sampled (`--gil`, what costs CPU), without pausing the process (`--nonblocking`)."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [py_spy, "record", "--pid", str(master_pid), "--subprocesses", "--gil", "--nonblocking"]
    spy = subprocess.Popen([*command, "--format", "speedscope", "-o", str(output)], stdout=subprocess.DEVNULL)
    time.sleep(1.0)  # py-spy attaches
    return spy


if __name__ == "__main__":
    main()
