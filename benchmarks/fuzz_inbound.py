"""Signed but mutated Slack requests against the real server: how each is answered.

    .venv/bin/python benchmarks/fuzz_inbound.py [--requests 10000] [--seed 1] [--concurrency 4]

Starts `incidents serve` (gunicorn, gthread: the production configuration) in a subprocess on a temporary
SQLite file (or DATABASE_URL), against the Slack Web API double served here. A short session through the
simulator (a declare, commands in the incident channel, card clicks, modal submissions, a message shortcut,
events, url_verification) gives the valid requests Slack would send; then `--requests` of them, each mutated
(`app.sandbox.fuzz.mutate`: a field removed, nulled, of another type, a list emptied, bytes cut or made
non-UTF-8) and signed again with the real secret, are sent over loopback, `--concurrency` at a time. It stops
by itself when all are answered (or after `--max-seconds`).

Prints the answers by HTTP status (target: no 5xx), the requests that got no answer in time, and the errors the
server logged (a listener that failed after its ack).
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from serving import SECRET, serve

from app.sandbox import fuzz
from app.sandbox.client import SlackClientSimulator, http_deliver
from app.sandbox.workspace import INCIDENTS_CHANNEL_ID, Workspace

USER = "U01ALICE"


def quiet(workspace: Workspace, *, still: float = 0.3, at_most: float = 5.0) -> Callable[[], None]:
    """Wait until the bot has made no Slack call for `still` seconds (its work after the ack is done)."""

    def settle() -> None:
        deadline = time.monotonic() + at_most
        seen, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = len(workspace.calls)
            if count != seen:
                seen, since = count, time.monotonic()
            elif time.monotonic() - since >= still:
                return
            time.sleep(0.05)

    return settle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=900.0)
    args = parser.parse_args()

    workspace = Workspace().seed_default()
    env = {"WEB_WORKERS": "1", "LOG_LEVEL": "INFO"}
    with serve(workspace, tempfile.mkdtemp(prefix="fuzz-bench-"), env, ready="/healthz", log_label=None) as server:
        slack = SlackClientSimulator(workspace, http_deliver(server.events_url, timeout=10), signing_secret=SECRET)
        seeds = fuzz.seeds(slack, workspace, user=USER, channel=INCIDENTS_CHANNEL_ID, settle=quiet(workspace))
        kinds = collections.Counter(fuzz.kind(s) for s in seeds)
        print(f"{len(seeds)} valid requests from the simulator: {dict(sorted(kinds.items()))}")
        statuses, elapsed, worst = fire(server.events_url, seeds, args)
    report(statuses, elapsed, worst, server.log_path, args)


def fire(
    url: str, seeds: list[fuzz.Request], args: argparse.Namespace
) -> tuple[collections.Counter[int], float, list[tuple[int, bytes, bytes]]]:
    rng = random.Random(args.seed)
    requests = [fuzz.mutate(rng.choice(seeds), rng) for _ in range(args.requests)]  # built before the clock runs
    send = http_deliver(url, timeout=10)
    statuses: collections.Counter[int] = collections.Counter()
    worst: list[tuple[int, bytes, bytes]] = []  # the first few 5xx, to show
    lock = threading.Lock()
    deadline = time.monotonic() + args.max_seconds

    def one(request: fuzz.Request) -> None:
        if time.monotonic() > deadline:
            return
        try:
            status, _, answer = send(request.body, fuzz.signed(SECRET, request, timestamp=int(time.time())))
        except OSError:
            status, answer = -1, b""
        with lock:
            statuses[status] += 1
            if status >= 500 and len(worst) < 5:
                worst.append((status, request.body[:300], answer[:300]))

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        list(pool.map(one, requests))
    return statuses, time.monotonic() - started, worst


def report(
    statuses: collections.Counter[int],
    elapsed: float,
    worst: list[tuple[int, bytes, bytes]],
    log_path: Path,
    args: argparse.Namespace,
) -> None:
    sent = sum(statuses.values())
    print(f"{sent} signed mutated requests (seed {args.seed}, {args.concurrency} at a time) in {elapsed:.1f} s")
    for status, count in sorted(statuses.items()):
        label = {0: "no answer in time", -1: "connection error"}.get(status, f"HTTP {status}")
        print(f"  {label}: {count}")
    print(f"  5xx: {sum(c for s, c in statuses.items() if s >= 500)} (target 0)")
    for status, body, answer in worst:
        print(f"    HTTP {status} for {body!r}: {answer!r}")
    errors = collections.Counter()
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and entry.get("level") in ("error", "critical"):
            errors[str(entry.get("event"))] += 1
    print(f"  errors the server logged: {sum(errors.values())} {dict(errors) if errors else ''}".rstrip())
    print(f"  (server log: {log_path})")


if __name__ == "__main__":
    main()
