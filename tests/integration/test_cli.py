"""The `incidents` command against a real database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app.cli import serve as server
from app.cli.main import main
from incidents import db, service
from incidents.db import make_engine, make_session_factory
from incidents.queries import get_incident


@pytest.fixture
def run(database_url, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TIMEZONE", "Europe/Paris")

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def scripted(database_url, now, process):
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with sessions.begin() as s:
        inc = service.declare(
            s,
            title="Checkout is failing",
            severity="SEV2",
            reporter_id="U01ALICE",
            now=now,
            process=process,
            services=["checkout"],
        )
        service.acknowledge(s, inc, user_id="U02BOB", now=now + timedelta(minutes=3))
        service.declare(
            s, title="Secret thing", severity="SEV1", reporter_id="U1", now=now, process=process, private=True
        )
    with sessions.begin() as s:
        service.resolve(s, get_incident(s, 2), by="U1", now=now + timedelta(hours=1), process=process)
    engine.dispose()


def test_every_command_has_help(run):
    for args in ([], ["serve"], ["db"], ["db", "upgrade"], ["db", "downgrade"], ["db", "current"], ["list"], ["show"]):
        result = run(*args, "--help")
        assert result.exit_code == 0, args
        assert "Usage:" in result.output


def test_db_current_reports_up_to_date(run):
    result = run("db", "current")
    assert result.exit_code == 0
    assert "up to date" in result.output


def test_list_shows_open_incidents_as_a_table(run, scripted):
    result = run("list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["REF", "SEV", "STATUS", "DECLARED", "LEAD", "TITLE"]
    assert len(lines) == 2
    assert "INC-1" in lines[1] and "acknowledged" in lines[1] and "U02BOB" in lines[1]
    assert "2026-11-21 15:00" in lines[1]  # Europe/Paris


def test_list_all_hides_private_titles(run, scripted):
    result = run("list", "--all")
    assert "INC-2" in result.output and "(private)" in result.output
    assert "Secret thing" not in result.output


def test_list_all_shows_every_open_incident_and_the_recently_resolved_ones(run, database_url, now, process):
    """An old incident still open is never pushed out by newer resolved ones: the limit counts resolved ones."""
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with sessions.begin() as s:
        for n in range(1, 23):
            inc = service.declare(s, title=f"Incident {n}", severity="SEV3", reporter_id="U1", now=now, process=process)
            if n > 1:
                service.resolve(s, inc, by="U1", now=now + timedelta(minutes=n), process=process)
    engine.dispose()

    def refs(*args: str) -> list[str]:
        result = run("list", "--all", *args)
        assert result.exit_code == 0, result.output
        return [line.split()[0] for line in result.output.splitlines()[1:]]

    assert refs() == [f"INC-{n}" for n in range(22, 2, -1)] + ["INC-1"]  # 20 resolved, then the open one
    assert refs("--limit", "2") == ["INC-22", "INC-21", "INC-1"]
    assert refs("--limit", "0") == ["INC-1"]


def test_show_prints_roles_durations_and_timeline(run, scripted):
    result = run("show", "inc-1")
    assert result.exit_code == 0
    assert "INC-1  Checkout is failing" in result.output
    assert "time to acknowledge 3m 00s" in result.output
    assert "acknowledge  U02BOB" in result.output
    assert "declared" in result.output and "Acknowledged by <@U02BOB>" in result.output


def test_show_unknown_incident_says_so(run):
    result = run("show", "INC-404")
    assert result.exit_code == 1
    assert "There is no incident INC-404." in result.output
    assert "Traceback" not in result.output
    result = run("show", "banana")
    assert "write it like INC-12" in result.output


def test_downgrade_and_upgrade_from_the_cli(run):
    assert run("db", "downgrade", "base").exit_code == 0
    current = run("db", "current")
    assert "base (empty)" in current.output and "out of date" in current.output
    refused = run("list")
    assert refused.exit_code == 1 and "incidents db upgrade" in refused.output
    assert run("db", "upgrade").exit_code == 0
    assert run("db", "downgrade", "nonsense").exit_code == 1


def test_unreachable_database_is_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody:pw@127.0.0.1:1/none")
    result = CliRunner().invoke(main, ["db", "current"])
    assert result.exit_code == 1
    assert "Cannot reach the database at postgresql+psycopg://nobody:***@127.0.0.1:1/none" in result.output
    assert "pw@" not in result.output


def test_invalid_settings_stop_with_every_problem(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PORT", "0")
    monkeypatch.setenv("TIMEZONE", "Nowhere")
    result = CliRunner().invoke(main, ["list"])
    assert result.exit_code == 1
    assert "PORT" in result.output and "TIMEZONE" in result.output


@pytest.fixture
def serving(monkeypatch, tmp_path) -> list[object]:
    """`incidents serve` up to the point of serving: `run_server` prepares production (the schema) as the real one
    does, then records its runtime instead of starting."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "DATA_DIR", "OWNERSHIP_MAP_PATH"):
        monkeypatch.delenv(name, raising=False)
    started: list[object] = []

    def run_server(runtime, *, prepare):  # type: ignore[no-untyped-def]
        prepare()
        started.append(runtime)

    monkeypatch.setattr(server, "run_server", run_server)
    return started


@pytest.fixture
def empty_pg_url(pg_database_url) -> Iterator[str]:
    """A PostgreSQL database of its own, with no schema at all."""
    base = make_url(pg_database_url)
    name = f"incidents_empty_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.postgres_only
def test_serve_refuses_an_out_of_date_postgresql_schema_naming_the_command(serving, empty_pg_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", empty_pg_url)
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1
    assert "Run `incidents db upgrade` first." in result.output
    assert "Traceback" not in result.output
    assert serving == []
    engine = make_engine(empty_pg_url)
    try:
        assert db.current_revision(engine) is None, "serve must not migrate PostgreSQL by itself"
    finally:
        engine.dispose()


def test_serve_upgrades_a_sqlite_database_by_itself(serving, monkeypatch, tmp_path):
    path = tmp_path / "data" / "incidents.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 0, result.output
    assert len(serving) == 1
    engine = make_engine(f"sqlite:///{path}")
    try:
        assert db.schema_is_current(engine)
        assert "incidents" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
