"""The cost of one reminder tick: 10,000 then 50,000 open incidents, of which 1,000 (then 100, then none) are due.

Prints the wall time of one `reminders.tick` and the number of SQL statements it sent (cursor executions,
counted with SQLAlchemy's `before_cursor_execute`; an executemany counts once). The cost must follow the number
due, not the number open: with the same number due, five times as many open incidents should change neither
the statements nor (beyond noise) the time. The last lines put the two side by side.

    .venv/bin/python benchmarks/reminder_tick.py                     # SQLite (a temporary file)
    .venv/bin/python benchmarks/reminder_tick.py --database-url postgresql+psycopg://postgres@127.0.0.1/test
    TEST_DATABASE_URL=... .venv/bin/python benchmarks/reminder_tick.py   # both SQLite and PostgreSQL

On PostgreSQL a scratch database is created beside the one named in the URL and dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, insert, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from incidents import db, reminders
from incidents.models import Incident, RoleAssignment, Status
from incidents.process import Process

NOW = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=30)


@contextmanager
def scratch_database(url: str | None) -> Iterator[str]:
    """A migrated, empty database: a temporary SQLite file, or a new PostgreSQL database dropped afterwards."""
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bench.db"
            engine = db.make_engine(f"sqlite:///{path}")
            db.upgrade(engine)
            engine.dispose()
            yield f"sqlite:///{path}"
        return
    base = make_url(url).set(drivername="postgresql+psycopg")
    name = f"reminder_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    scratch = base.set(database=name).render_as_string(hide_password=False)
    try:
        engine = db.make_engine(scratch)
        db.upgrade(engine)
        engine.dispose()
        yield scratch
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def populate(engine: Engine, *, open_: int, due: int) -> None:
    """`open_` open incidents with a communicator and a lead each; the first `due` are due at NOW, the rest
    12 hours later (not due during the measured ticks). Bulk inserts: this is set-up, not what is measured."""
    incidents = []
    for n in range(1, open_ + 1):
        due_at = NOW - timedelta(seconds=30) if n <= due else NOW + timedelta(hours=12, minutes=n % 29)
        incidents.append(
            {
                "id": n,
                "number": n,
                "title": f"Incident {n}",
                "summary": "",
                "severity": "SEV2",
                "status": Status.ACKNOWLEDGED.value,
                "private": False,
                "services": [],
                "reporter_id": "U01ALICE",
                "declared_at": due_at - INTERVAL,
                "updated_at": due_at - INTERVAL,
                "last_update_at": None,
                "next_update_due_at": due_at,
                "reminder_stage": 0,
                "next_reminder_at": due_at,
            }
        )
    roles = [
        {
            "incident_id": n,
            "role": role,
            "user_id": f"U{n:05d}{role[0].upper()}",
            "assigned_by": "U1",
            "assigned_at": NOW,
        }
        for n in range(1, open_ + 1)
        for role in ("acknowledge", "communicate")
    ]
    with engine.begin() as conn:
        conn.execute(insert(Incident.__table__), incidents)
        conn.execute(insert(RoleAssignment.__table__), roles)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


class StatementCounter:
    def __init__(self, engine: Engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args: object) -> None:
        self.count += 1


def measure(url: str, *, open_: int, due: int, batch: int, runs: int) -> tuple[float, int, int]:
    """Median seconds of one tick over `runs` ticks (reminder, escalation, reminder, ...), and the statements and
    messages of the last one."""
    timings, statements, sent = [], 0, 0
    engine = db.make_engine(url)
    sessions = db.make_session_factory(engine)
    counter = StatementCounter(engine)
    try:
        populate(engine, open_=open_, due=due)
        process = Process()
        for run in range(runs):
            # Each run is one tick at a moment when exactly `due` incidents are due: run r looks one interval
            # later than run r-1, when the same incidents have reached their next stage.
            moment = NOW + run * INTERVAL
            counter.count = 0
            started = time.perf_counter()
            result = reminders.tick(sessions, now=moment, process=process, batch=batch)
            timings.append(time.perf_counter() - started)
            statements, sent = counter.count, result.sent
    finally:
        engine.dispose()
    return statistics.median(timings), statements, sent


def explain(url: str) -> str:
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            plan = conn.execute(
                text(
                    "EXPLAIN SELECT * FROM incidents WHERE next_reminder_at <= :now AND status != 'resolved' "
                    "ORDER BY next_reminder_at, id LIMIT 100 FOR UPDATE SKIP LOCKED"
                ),
                {"now": NOW},
            ).scalars()
            return "\n".join(f"    {line}" for line in plan)
    finally:
        engine.dispose()


DUE = (1000, 100, 0)


def bench(label: str, url: str | None, *, opens: list[int], batch: int, runs: int) -> None:
    figures: dict[tuple[int, int], tuple[float, int]] = {}
    with scratch_database(url) as scratch:  # warm up (imports, statement caches) so the first case is not penalised
        measure(scratch, open_=200, due=100, batch=batch, runs=2)
    for open_ in opens:
        print(f"\n{label}: {open_:,} open incidents, batch {batch}, median of {runs} ticks")
        print(f"  {'due':>6}  {'sent':>6}  {'time':>10}  {'statements':>10}")
        for due in DUE:
            with scratch_database(url) as scratch:
                seconds, statements, sent = measure(scratch, open_=open_, due=due, batch=batch, runs=runs)
                figures[open_, due] = seconds, statements
                print(f"  {due:>6}  {sent:>6}  {seconds * 1000:>8.1f}ms  {statements:>10}")
    if len(opens) > 1:
        print(f"\n{label}: the same number due, more open (time, statements)")
        for due in DUE:
            row = "  ".join(f"{o:>6,} open: {figures[o, due][0] * 1000:>7.1f}ms {figures[o, due][1]:>4}" for o in opens)
            print(f"  {due:>5} due  {row}")
    if url is not None:
        with scratch_database(url) as scratch:
            engine = db.make_engine(scratch)
            populate(engine, open_=max(opens), due=1000)
            engine.dispose()
            print(f"  the claim query's plan ({max(opens):,} open, 1,000 due):")
            print(explain(scratch))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="a PostgreSQL server to measure too (default: TEST_DATABASE_URL)")
    parser.add_argument(
        "--open", type=int, nargs="+", default=[10_000, 50_000], dest="opens", help="open incidents (one or more)"
    )
    parser.add_argument("--batch", type=int, default=100, help="incidents per transaction")
    parser.add_argument("--runs", type=int, default=3, help="ticks measured per case (the median is printed)")
    args = parser.parse_args()
    bench("SQLite", None, opens=args.opens, batch=args.batch, runs=args.runs)
    url = args.database_url or os.environ.get("TEST_DATABASE_URL")
    if url:
        bench("PostgreSQL", url, opens=args.opens, batch=args.batch, runs=args.runs)


if __name__ == "__main__":
    main()
