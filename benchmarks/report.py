"""How long `incidents report` takes over 10,000 incidents (target: under 2 s).

    .venv/bin/python benchmarks/report.py [--incidents 10000] [--repeat 5] [--database URL]

Seeds 90 days of incidents with bulk inserts (each with its milestones, a resolution or not, stakeholder updates,
some skipped milestones, reopenings and update gaps, a follow-up), then times the report: the rows read
(`incidents.metrics_query.fetch`, four bulk selects), the figures (`incidents.metrics.report`), and the whole
`incidents report` command in Markdown, JSON, CSV and PNG. Runs on SQLite (a temporary file); with
`--database` (or TEST_DATABASE_URL) on PostgreSQL too, in a temporary database dropped afterwards. Prints figures;
it does not pass or fail.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from click.testing import CliRunner
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from app.cli.main import main as cli
from incidents import db
from incidents.metrics import report
from incidents.metrics_query import fetch
from incidents.models import FollowUp, Incident, StatusUpdate, TimelineEvent

NOW = datetime.now(UTC).replace(microsecond=0)
SEVERITIES = ["SEV1", "SEV2", "SEV3", "SEV4"]
SERVICES = [f"service-{n:02d}" for n in range(40)]
M = timedelta(minutes=1)


def seed(sessions, count: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(14)
    incidents, events, updates, followups = [], [], [], []
    for n in range(1, count + 1):
        declared = NOW - timedelta(days=89) + timedelta(seconds=rng.randrange(89 * 86400))
        resolved = declared + rng.randrange(20, 600) * M if rng.random() < 0.95 else None
        skipped = resolved is not None and rng.random() < 0.1
        acknowledged = None if skipped else declared + rng.randrange(1, 30) * M
        mitigated = None if skipped else declared + rng.randrange(10, 200) * M
        if resolved is None and rng.random() < 0.5:
            mitigated = None
        if resolved is not None and mitigated is not None and mitigated > resolved:
            mitigated = resolved
        if skipped:
            acknowledged = mitigated = resolved
        incidents.append(
            {
                "id": n,
                "number": n,
                "title": f"Incident {n}",
                "summary": "",
                "severity": rng.choice(SEVERITIES),
                "status": "resolved" if resolved else ("mitigated" if mitigated else "acknowledged"),
                "private": False,
                "services": rng.sample(SERVICES, rng.choice([1, 1, 1, 2])),
                "reporter_id": "U01ALICE",
                "declared_at": declared,
                "acknowledged_at": acknowledged,
                "mitigated_at": mitigated,
                "resolved_at": resolved,
                "updated_at": resolved or declared,
                "reminder_stage": 0,
            }
        )

        def event(kind: str, at: datetime, data: dict | None = None, n: int = n) -> None:
            events.append(
                {"incident_id": n, "kind": kind, "text": "", "occurred_at": at, "recorded_at": at, "data": data or {}}
            )

        event("declared", declared)
        if skipped:
            event("milestones_filled", resolved, {"filled": ["acknowledged", "mitigated"]})
        if resolved:
            event("resolved", resolved)
            if rng.random() < 0.05:
                event("reopened", resolved + 10 * M, {"previously_resolved_at": resolved.isoformat()})
        for k in range(rng.randrange(0, 4)):
            updates.append(
                {"incident_id": n, "text": "Update", "author_id": "U02BOB", "posted_at": declared + (k * 30 + 10) * M}
            )
        if rng.random() < 0.2:
            event("update_missed", declared + 60 * M, {"since": declared.isoformat(), "windows": 1})
        followups.append(
            {
                "incident_id": n,
                "text": f"Follow-up of {n}",
                "owner_id": "U03CAROL",
                "created_by": "U02BOB",
                "created_at": declared + 120 * M,
                "done": rng.random() < 0.6,
            }
        )
    with sessions.begin() as s:
        s.execute(insert(Incident), incidents)
        s.execute(insert(TimelineEvent), events)
        s.execute(insert(StatusUpdate), updates)
        s.execute(insert(FollowUp), followups)


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """Median and worst wall-clock time, and the median CPU time of this process (the database server's is not in
    it: on a busy machine the CPU time shows what the report itself costs)."""
    fn()  # warm up
    runs, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        runs.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(runs), max(runs), statistics.median(cpu)


def measure(label: str, url: str, count: int, repeat: int, tmp: str) -> None:
    engine = db.make_engine(url)
    try:
        db.upgrade(engine)
        sessions = db.make_session_factory(engine)
        started = time.perf_counter()
        seed(sessions, count)
        print(f"{label}: {count} incidents seeded in {time.perf_counter() - started:.1f} s")
        since = NOW - timedelta(days=90)

        def rows():  # type: ignore[no-untyped-def]
            with sessions() as s:
                return fetch(s, since=since, until=NOW)

        fetched = rows()
        result = report(fetched, now=NOW)
        print(f"  report over {result.total} incidents, {len(result.weeks)} weeks, {len(result.gaps)} gaps")

        def command(*args: str) -> Callable[[], None]:
            def run() -> None:
                outcome = CliRunner().invoke(
                    cli, ["report", "--since", "90d", *args], env={"DATABASE_URL": url}, catch_exceptions=False
                )
                assert outcome.exit_code == 0, outcome.output

            return run

        for name, fn in (
            ("read the rows", rows),
            ("compute", lambda: report(fetched, now=NOW)),
            ("incidents report md", command("--format", "md")),
            ("incidents report json", command("--format", "json")),
            ("incidents report csv", command("--format", "csv")),
            ("incidents report png", command("--format", "png", "--output", f"{tmp}/charts")),
        ):
            median, worst, cpu = timed(fn, repeat)
            print(
                f"  {name:<22} median {median * 1000:7.1f} ms   worst {worst * 1000:7.1f} ms   cpu {cpu * 1000:7.1f} ms"
            )
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database", help="a PostgreSQL server URL (default: TEST_DATABASE_URL)")
    args = parser.parse_args()
    print(f"load average {' '.join(f'{n:.1f}' for n in os.getloadavg())} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        measure("SQLite", f"sqlite:///{tmp}/bench.db", args.incidents, args.repeat, tmp)
        pg = args.database or os.environ.get("TEST_DATABASE_URL")
        if not pg:
            print("PostgreSQL: skipped (pass --database or set TEST_DATABASE_URL)")
            return
        base = make_url(pg).set(drivername="postgresql+psycopg")
        name = f"incidents_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = base.set(database=name).render_as_string(hide_password=False)
            measure("PostgreSQL", url, args.incidents, args.repeat, tmp)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
