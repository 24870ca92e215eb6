"""An alert storm against the real server: 1,000 Alertmanager alerts for 20 services within 10 s.

    .venv/bin/python benchmarks/alert_storm.py [--alerts 1000] [--services 20] [--seconds 10] [--threads 16]
                                               [--databases sqlite,postgresql] [--postgres URL]

For each database: starts `incidents serve` (gunicorn, gthread: the production configuration) on a fresh
database against the Slack Web API double, with an ownership map of `--services` services and alert rules that
declare every critical alert (written to a temporary folder). Then `--threads` threads send the alerts, one
Alertmanager webhook (payload version 4, one alert, its own fingerprint) per request over kept-alive
connections (after a warm-up of ignored alerts), each at its planned moment, so that all of them go out within
`--seconds`. Every 10th alert is also sent a second time (a redelivery, which must change nothing).

Prints per database: incidents made (target: at most one per service), alerts stored, alerts on a timeline,
lost (sent and answered but not stored, or not answered 200: target 0), the answers' counts, and the endpoint's
answer time p50 / p99 / max (target p99 <= 100 ms), and the bot's CPU time (gunicorn master and
worker, including the outbox's work for the incidents declared) per request.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from declare_burst import cpu_seconds
from serving import fresh_database, percentile, serve

from app.sandbox.workspace import Workspace
from incidents.db import make_engine, make_session_factory
from incidents.models import Alert, Incident, TimelineEvent

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TOKEN = "bench-alertmanager-token"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0, help="send every alert within this time")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", POSTGRES), help="server to use")
    args = parser.parse_args()
    results = {database: bench(database, args) for database in args.databases.split(",")}
    print(
        f"{args.alerts} Alertmanager alerts for {args.services} services sent within {args.seconds:g} s from "
        f"{args.threads} threads (one alert per request, every 10th sent twice)"
    )
    for database, r in results.items():
        print(
            f"  {database:10}  sent in {r['spent']:.1f} s  incidents {r['incidents']} (<= {args.services})  "
            f"alerts stored {r['stored']}  on a timeline {r['on_timeline']}  lost {r['lost']}  "
            f"answers {dict(r['statuses'])}  {dict(r['counts'])}"
        )
        print(
            f"  {'':10}  answer p50 {statistics.median(r['times']):5.1f} ms  p99 {percentile(r['times'], 99):6.1f} ms"
            f"  max {max(r['times']):6.1f} ms  (n={len(r['times'])})  bot CPU {r['cpu_ms']:.1f} ms per request"
        )


def write_config(folder: Path, services: int) -> tuple[Path, Path]:
    names = [f"service-{n:02}" for n in range(services)]
    lines = ["teams:", "  - name: bench", "    members: [U0BENCH01]", "services:"]
    lines += [f"  - {{name: {name}, team: bench}}" for name in names]
    ownership = folder / "ownership.yml"
    ownership.write_text("\n".join(lines) + "\n")
    rules = folder / "alert-rules.yml"
    rules.write_text(
        "sources:\n"
        "  prometheus: {format: alertmanager, bearer_token_env: BENCH_ALERTMANAGER_TOKEN}\n"
        "triage_channel: alerts-triage\n"
        "group_window: 30m\n"
        "severity: {label: severity, map: {critical: SEV1, warning: SEV3}, default: SEV3}\n"
        "rules:\n"
        "  - {match: {env: warmup}, action: ignore}\n"
        "  - {match: {severity: critical}, action: declare}\n"
        "  - {action: triage}\n"
    )
    return ownership, rules


def payload(n: int, services: int, *, warmup: bool = False) -> bytes:
    labels = {"alertname": f"HighErrorRate{n}", "severity": "critical", "service": f"service-{n % services:02}"}
    if warmup:
        labels["env"] = "warmup"
    alert = {
        "status": "firing",
        "labels": labels,
        "annotations": {"summary": f"Errors above 5% ({n})"},
        "startsAt": "2026-12-03T08:55:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": f"http://prometheus.example.com/graph?g0.expr=errors{n}",
        "fingerprint": f"{'w' if warmup else ''}{n:016x}",
    }
    body = {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="HighErrorRate{n}"}}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "incident-bot",
        "groupLabels": {"alertname": labels["alertname"]},
        "commonLabels": labels,
        "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager.example.com",
        "alerts": [alert],
    }
    return json.dumps(body).encode()


def bench(database: str, args: argparse.Namespace) -> dict:
    workspace = Workspace().seed_default()
    workspace.add_user("bench", "Bench Owner", user_id="U0BENCH01")
    data = tempfile.mkdtemp(prefix="alert-storm-")
    ownership, rules = write_config(Path(data), args.services)
    env = {
        "WEB_WORKERS": os.environ.get("BENCH_WEB_WORKERS", "1"),
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "INFO"),
        "OWNERSHIP_MAP_PATH": str(ownership),
        "ALERT_RULES_PATH": str(rules),
        "BENCH_ALERTMANAGER_TOKEN": TOKEN,
    }
    plan = [(i * args.seconds / args.alerts, i) for i in range(args.alerts)]
    plan += [(t + 0.05, i) for t, i in plan if i % 10 == 0]  # redeliveries
    plan.sort()
    with (
        fresh_database(args.postgres if database == "postgresql" else None, data) as database_url,
        serve(
            workspace, data, env | {"DATABASE_URL": database_url}, ready="/readyz", log_label=f"{database} log"
        ) as srv,
    ):
        warm_up(srv.port, args)
        cpu_before = cpu_seconds(srv.pid)
        times, statuses, counts, spent = storm(srv.port, plan, args)
        cpu_ms = (cpu_seconds(srv.pid) - cpu_before) * 1000 / len(plan)
        engine = make_engine(database_url)
        try:
            with make_session_factory(engine)() as session:
                incidents = session.query(Incident).count()
                stored = session.query(Alert).filter(Alert.action != "ignored").count()
                on_timeline = session.query(TimelineEvent.data).filter(TimelineEvent.kind == "alert_attached").count()
                unattached = session.query(Alert).filter(Alert.incident_id.is_(None), Alert.action != "ignored").count()
        finally:
            engine.dispose()
    lost = args.alerts - stored + unattached + sum(v for k, v in statuses.items() if k != 200)
    return {
        "times": times,
        "statuses": statuses,
        "counts": counts,
        "spent": spent,
        "incidents": incidents,
        "stored": stored,
        "on_timeline": on_timeline,
        "lost": lost,
        "cpu_ms": cpu_ms,
    }


def warm_up(port: int, args: argparse.Namespace) -> None:
    """Every thread's connection and the server's database pool in use once, as in a server that has been up a
    while: ignored alerts (the rules ignore `env=warmup`), not counted."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}

    def send(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for n in range(10):
            conn.request("POST", "/alerts/prometheus", payload(k * 10 + n, args.services, warmup=True), headers)
            conn.getresponse().read()
        conn.close()

    threads = [threading.Thread(target=send, args=(k,)) for k in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def storm(port: int, plan: list[tuple[float, int]], args: argparse.Namespace):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    times: list[float] = []
    statuses: Counter[int] = Counter()
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    start = time.perf_counter() + 0.5
    shares = [plan[k :: args.threads] for k in range(args.threads)]

    def send(share: list[tuple[float, int]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for at, n in share:
            delay = start + at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            body = payload(n, args.services)
            began = time.perf_counter()
            try:
                conn.request("POST", "/alerts/prometheus", body, headers)
                response = conn.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("POST", "/alerts/prometheus", body, headers)
                response = conn.getresponse()
                answer = response.read()
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                times.append(elapsed)
                statuses[response.status] += 1
                if response.status == 200:
                    counts.update(
                        {
                            k: v
                            for k, v in json.loads(answer).items()
                            if isinstance(v, int) and not isinstance(v, bool) and v
                        }
                    )
        conn.close()

    threads = [threading.Thread(target=send, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, statuses, counts, time.perf_counter() - start


if __name__ == "__main__":
    main()
