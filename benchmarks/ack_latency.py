"""Ack latency of the real server while Slack is slow: slash commands and card clicks, 20 of each at once.

    .venv/bin/python benchmarks/ack_latency.py [--rounds 5] [--concurrency 20] [--latency 0.3]

Starts `incidents serve` (gunicorn, gthread, the production configuration) in a subprocess, against the Slack
Web API double served here, which answers every Web API call `--latency` seconds late. It declares one
incident, then fires, per round, `--concurrency` signed slash commands and `--concurrency` signed button clicks
at the same moment and measures how long each took to be acknowledged (HTTP 200 back). Commands and clicks are
a mix of those that open a modal (views.open after the ack) and those that change the incident (a transaction
and Slack effects after the ack). Prints p50 / p99 / max and connection errors; target p99 < 100 ms.
Set DATABASE_URL to run on PostgreSQL (default: a temporary SQLite file).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from serving import SECRET, Request, percentile, serve, signed, wait_for

from app.sandbox.client import SlackClientSimulator, http_deliver
from app.sandbox.workspace import Workspace

PEOPLE = ["U01ALICE", "U01BOB", "U01CAROL", "U01DAN"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.3, help="seconds the Slack double waits per call")
    args = parser.parse_args()

    workspace = Workspace().seed_default()
    for name in ("erin", "frank", "gina", "hugo"):
        workspace.add_user(name, name.title())
    env = {
        "WEB_WORKERS": os.environ.get("BENCH_WEB_WORKERS", "1"),
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "INFO"),
    }
    with serve(workspace, tempfile.mkdtemp(prefix="ack-bench-"), env, ready="/healthz") as server:
        slack = SlackClientSimulator(workspace, http_deliver(server.events_url), signing_secret=SECRET)
        channel_id, card_ts = declare(slack, workspace)
        workspace.latency = args.latency
        run(slack, workspace, channel_id, card_ts, args, server.events_url)


def declare(slack: SlackClientSimulator, workspace: Workspace) -> tuple[str, str]:
    """One incident, with its channel and card, to click on (Slack answering at once while setting up)."""
    slack.slash_command("U01ALICE", "C0INCIDENTS", "/incident", "declare Benchmark incident")
    wait_for(lambda: bool(workspace.open_views("U01ALICE")), "the declare modal")
    view = workspace.open_views("U01ALICE")[-1]
    slack.submit_view("U01ALICE", view.id, {"declare_severity": {"declare_severity": "SEV2"}})
    wait_for(lambda: workspace.channel_by_name("inc-1-benchmark-incident") is not None, "the channel")
    channel = workspace.channel_by_name("inc-1-benchmark-incident")
    wait_for(lambda: bool(workspace.channel(channel.id).pins), "the card")
    members = workspace.channel(channel.id).members
    for user in workspace.users:
        if user not in members:
            members.append(user)
    return channel.id, workspace.channel(channel.id).pins[0].ts


def run(
    slack: SlackClientSimulator, workspace: Workspace, channel_id: str, card_ts: str, args: argparse.Namespace, url: str
) -> None:
    """Each round: build and sign the requests first (so the load generator is idle during the burst), then
    release them all at once and time each until its HTTP answer."""
    users = [u for u in workspace.users if u != workspace.bot.id]
    commands = ["status", "update", "note benchmark note", "list", "roles"]
    # Elements that stay on the card: two open a modal, the severity picker changes the incident.
    buttons = ["incident_post_update", "incident_assign_roles", "incident_change_severity"]
    send = http_deliver(url, timeout=10)
    latencies: dict[str, list[float]] = {"command": [], "click": []}
    errors: dict[str, int] = {"command": 0, "click": 0}
    lock = threading.Lock()

    def build(kind: str, n: int) -> Request:
        user = users[n % len(users)]
        if kind == "command":
            return signed(
                workspace, lambda s: s.slash_command(user, channel_id, "/incident", commands[n % len(commands)])
            )
        action = buttons[n % len(buttons)]
        value = f"INC-1:SEV{2 + n % 2}" if action == "incident_change_severity" else None
        return signed(workspace, lambda s: s.click(user, channel_id, card_ts, action, value))

    def fire(kind: str, request: Request, barrier: threading.Barrier, record: bool) -> None:
        barrier.wait()
        started = time.perf_counter()
        try:
            status, _, body = send(*request)
        except Exception as exc:  # noqa: BLE001 - a connection error
            status, body = -1, repr(exc).encode()
        elapsed = (time.perf_counter() - started) * 1000
        if not record:
            return
        with lock:
            if status == 200:
                latencies[kind].append(elapsed)
            else:
                errors[kind] += 1
                if os.environ.get("BENCH_DEBUG"):
                    print(kind, status, body[:200])

    with ThreadPoolExecutor(max_workers=args.concurrency * 2) as pool:
        for round_ in range(args.rounds + 1):  # round 0 warms up (auth.test, connection pools)
            requests = [(kind, build(kind, n)) for kind in ("command", "click") for n in range(args.concurrency)]
            barrier = threading.Barrier(len(requests))
            futures = [pool.submit(fire, kind, request, barrier, round_ > 0) for kind, request in requests]
            for future in futures:
                future.result()
            time.sleep(1.0)  # let the work after the acks (300 ms Slack calls) finish between rounds

    print(
        f"Slack double latency {args.latency * 1000:.0f} ms per Web API call; {args.rounds} rounds of "
        f"{args.concurrency} slash commands + {args.concurrency} button clicks at once"
    )
    for kind, values in latencies.items():
        if values:
            print(
                f"  {kind + 's':9} n={len(values):4}  p50 {statistics.median(values):6.1f} ms  "
                f"p99 {percentile(values, 99):6.1f} ms  max {max(values):6.1f} ms  errors {errors[kind]}"
            )
        else:
            print(f"  {kind + 's':9} no answers; errors {errors[kind]}")


if __name__ == "__main__":
    main()
