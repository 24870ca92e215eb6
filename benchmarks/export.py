"""How long the post-mortem export takes for an incident with 10,000 timeline events (target: under a second).

    .venv/bin/python benchmarks/export.py [--events 10000] [--repeat 5]

Runs on SQLite (a temporary file), and on PostgreSQL too when TEST_DATABASE_URL is set (in a temporary
database, dropped afterwards). Prints figures; it does not pass or fail.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from app.postmortem.render import render_json, render_markdown
from incidents import db, service
from incidents.models import TimelineEvent
from incidents.postmortem import build
from incidents.process import Process
from incidents.queries import get_incident

START = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
KINDS = ["message", "note", "status_update", "reminder_sent", "role_assigned", "message", "message"]
# The facts of the kinds whose sentence is written from them (a person's words are in `text` for the others).
FACTS = {
    "reminder_sent": lambda user: {"due_at": START.isoformat(), "stage": 1, "target_id": user},
    "role_assigned": lambda user: {"role": "mitigate", "to": user},
}


def seed(sessions, events: int) -> None:  # type: ignore[no-untyped-def]
    process = Process()
    with sessions.begin() as s:
        inc = service.declare(
            s,
            title="Checkout is failing",
            severity="SEV1",
            reporter_id="U01ALICE",
            now=START,
            process=process,
            services=["checkout", "payments"],
            summary="Card payments fail for a third of customers.",
        )
        service.acknowledge(s, inc, user_id="U02BOB", now=START + timedelta(minutes=3))
        for i in range(20):
            service.post_status_update(
                s,
                inc,
                text=f"Update {i}: still rolling back",
                author_id="U05ERIN",
                now=START + timedelta(minutes=30 * i + 5),
                process=process,
                impact="A third of payments fail",
            )
        incident_id = inc.id
    # Two days of events, one every 17 seconds or so: the draft then shows dates and a heading per day.
    rows = [
        {
            "incident_id": incident_id,
            "kind": KINDS[i % len(KINDS)],
            "actor_id": f"U{i % 40:08d}",
            "text": ""
            if KINDS[i % len(KINDS)] in FACTS
            else f"Event {i}: <@U{i % 40:08d}> saw the error rate at "
            f"{i % 100}% on <https://grafana.example.com/d/{i}|the dashboard>",
            "occurred_at": START + timedelta(seconds=17 * i),
            "recorded_at": START + timedelta(seconds=17 * i + (600 if i % 7 == 1 else 0)),
            "source": f"https://example.slack.com/archives/C1/p{i}" if i % 7 in (0, 5, 6) else None,
            "source_key": f"msg:C1:{i}" if i % 7 in (0, 5, 6) else None,
            "data": {"channel": "C1", "ts": str(i)}
            if i % 7 in (0, 5, 6)
            else FACTS.get(KINDS[i % len(KINDS)], lambda user: {})(f"U{i % 40:08d}"),
        }
        for i in range(events - 22)
    ]
    with sessions.begin() as s:
        s.execute(insert(TimelineEvent), rows)
        service.resolve(s, get_incident(s, 1), by="U02BOB", now=START + timedelta(days=2), process=process)


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm up: template compiled, statements cached
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), max(runs)


def measure(label: str, url: str, events: int, repeat: int) -> None:
    engine = db.make_engine(url)
    try:
        db.upgrade(engine)
        sessions = db.make_session_factory(engine)
        seed(sessions, events)
        with sessions() as s:
            count = len(build(s, get_incident(s, 1), now=START, timezone="Europe/Paris").timeline)

        def export(render) -> Callable[[], str]:  # type: ignore[no-untyped-def]
            def run() -> str:
                with sessions() as s:
                    data = build(s, get_incident(s, 1), now=START + timedelta(days=3), timezone="Europe/Paris")
                return render(data)

            return run

        def load_only() -> None:
            with sessions() as s:
                build(s, get_incident(s, 1), now=START, timezone="Europe/Paris")

        size = len(export(render_markdown)())
        print(f"{label}: {count} timeline events, Markdown draft {size / 1024:.0f} KiB")
        for name, fn in (
            ("load (build)", load_only),
            ("export Markdown", export(render_markdown)),
            ("export JSON", export(render_json)),
        ):
            median, worst = timed(fn, repeat)
            print(f"  {name:<16} median {median * 1000:7.1f} ms   worst {worst * 1000:7.1f} ms")
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        measure("SQLite", f"sqlite:///{tmp}/bench.db", args.events, args.repeat)
    pg = os.environ.get("TEST_DATABASE_URL")
    if not pg:
        print("PostgreSQL: skipped (set TEST_DATABASE_URL)")
        return
    base = make_url(pg).set(drivername="postgresql+psycopg")
    name = f"incidents_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        measure("PostgreSQL", base.set(database=name).render_as_string(hide_password=False), args.events, args.repeat)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
