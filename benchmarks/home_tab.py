"""How long one person's Home tab takes to build with 10,000 incidents (target: under 200 ms).

Seeds 10,000 incidents (by default 5% open, 10% private, 300 people holding roles at random, a follow-up per
incident, a post-mortem draft uploaded for half the resolved ones), then builds the Home of people picked at
random as the REFRESH_HOME handler does: the facts (`incidents.home.build`, its SQL) and the Block Kit view
(`app.slack.blocks.home.home_view(...).to_dict()`, which runs slack_sdk's checks). Prints p50 / p95 / max.
The second case has every incident open: the worst case for the open list and its count.

    .venv/bin/python benchmarks/home_tab.py                   # SQLite (a temporary file)
    .venv/bin/python benchmarks/home_tab.py --database postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/home_tab.py --incidents 50000 --open-share 0.02

On PostgreSQL a scratch database is created beside the one named in the URL and dropped at the end.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.slack.blocks.home import home_view
from incidents import db, home
from incidents.models import FollowUp, Incident, Role, RoleAssignment, Status, TimelineEvent
from incidents.process import Process
from incidents.timeline import EventKind

NOW = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
PEOPLE = [f"U{n:06d}" for n in range(300)]
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")


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
    name = f"home_bench_{uuid.uuid4().hex[:8]}"
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


def populate(engine: Engine, *, incidents: int, open_share: float, rng: random.Random) -> None:
    """Bulk inserts: this is set-up, not what is measured."""
    rows, roles, followups, events = [], [], [], []
    for n in range(1, incidents + 1):
        is_open = rng.random() < open_share
        declared = NOW - timedelta(minutes=10 + (incidents - n) * 7)
        resolved = None if is_open else declared + timedelta(hours=2)
        due = NOW + timedelta(minutes=rng.randint(-20, 30)) if is_open else None
        rows.append(
            {
                "id": n,
                "number": n,
                "title": f"Incident {n}: something is broken",
                "summary": "",
                "severity": rng.choice(SEVERITIES),
                "status": rng.choice((Status.TRIAGE, Status.ACKNOWLEDGED, Status.MITIGATED)).value
                if is_open
                else Status.RESOLVED.value,
                "private": rng.random() < 0.1,
                "services": [],
                "reporter_id": rng.choice(PEOPLE),
                "channel_id": f"C{n:08d}",
                "declared_at": declared,
                "acknowledged_at": declared + timedelta(minutes=3),
                "resolved_at": resolved,
                "updated_at": resolved or declared,
                "next_update_due_at": due,
                "reminder_stage": 0,
                "next_reminder_at": due,
            }
        )
        for role in rng.sample(list(Role), rng.randint(1, 4)):
            roles.append(
                {
                    "incident_id": n,
                    "role": role.value,
                    "user_id": rng.choice(PEOPLE),
                    "assigned_by": PEOPLE[0],
                    "assigned_at": declared,
                    "ended_at": resolved,  # roles of a resolved incident are history here; they end on resolve
                }
            )
        done = rng.random() < 0.7
        followups.append(
            {
                "incident_id": n,
                "text": f"Follow-up of incident {n}",
                "owner_id": rng.choice(PEOPLE),
                "created_by": PEOPLE[0],
                "created_at": declared,
                "done": done,
                "done_at": NOW if done else None,
            }
        )
        if resolved is not None and rng.random() < 0.5:
            events.append(
                {
                    "incident_id": n,
                    "kind": EventKind.POSTMORTEM_UPLOADED.value,
                    "text": "",
                    "occurred_at": resolved,
                    "recorded_at": resolved,
                    "data": {"file_id": f"F{n}"},
                }
            )
    with engine.begin() as conn:
        conn.execute(insert(Incident.__table__), rows)
        conn.execute(insert(RoleAssignment.__table__), roles)
        conn.execute(insert(FollowUp.__table__), followups)
        if events:
            conn.execute(insert(TimelineEvent.__table__), events)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(url: str, *, incidents: int, open_share: float, people: int, seed: int) -> None:
    rng = random.Random(seed)
    engine = db.make_engine(url)
    sessions = db.make_session_factory(engine)
    process = Process()
    try:
        populate(engine, incidents=incidents, open_share=open_share, rng=rng)
        with sessions() as session:
            open_count = session.query(Incident).filter(Incident.status != Status.RESOLVED.value).count()
        who = [rng.choice(PEOPLE) for _ in range(people)]
        for user in who[:5]:  # warm up: statement caches, imports
            with sessions() as session:
                home_view(home.build(session, user_id=user, now=NOW, process=process)).to_dict()
        facts, whole, blocks = [], [], []
        for user in who:
            started = time.perf_counter()
            with sessions() as session:
                shown = home.build(session, user_id=user, now=NOW, process=process)
            built = time.perf_counter()
            view = home_view(shown).to_dict()
            done = time.perf_counter()
            facts.append((built - started) * 1000)
            whole.append((done - started) * 1000)
            blocks.append(len(view["blocks"]))
    finally:
        engine.dispose()
    print(f"  {incidents:,} incidents, {open_count:,} open; {people} people's Homes (blocks: max {max(blocks)})")
    for label, values in (("facts (SQL)", facts), ("facts + Block Kit", whole)):
        print(
            f"    {label:<18} p50 {statistics.median(values):6.1f} ms   p95 {percentile(values, 0.95):6.1f} ms"
            f"   max {max(values):6.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", "--database-url", dest="database", help="a PostgreSQL URL (default: SQLite)")
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--open-share", type=float, default=0.05, help="share of incidents still open (0..1)")
    parser.add_argument("--people", type=int, default=200, help="Homes built (people picked at random)")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    backend = "PostgreSQL" if args.database else "SQLite"
    for share in dict.fromkeys((args.open_share, 1.0)):
        print(f"{backend}: open share {share:.0%}")
        with scratch_database(args.database) as url:
            measure(url, incidents=args.incidents, open_share=share, people=args.people, seed=args.seed)


if __name__ == "__main__":
    main()
