"""Shared fixtures: databases (SQLite always, PostgreSQL when TEST_DATABASE_URL is set), a fixed clock.

PostgreSQL: each test run creates its own database (so parallel runs never collide), migrates it once and
empties the tables between tests; it is dropped at the end. SQLite: a migrated file is copied per test."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from incidents import db
from incidents.models import Base
from incidents.process import Process

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without TEST_DATABASE_URL, PostgreSQL-only tests are deselected (CI always sets it)."""
    if PG_URL:
        return
    kept = [item for item in items if item.get_closest_marker("postgres_only") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, migrated to head."""
    if not PG_URL:
        pytest.fail("TEST_DATABASE_URL is not set; this test needs PostgreSQL")
    base = make_url(PG_URL).set(drivername="postgresql+psycopg")
    name = f"incidents_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "incidents.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()
    return path


def _empty_tables(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each backend under test."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_database_url")
        engine = db.make_engine(url)
        _empty_tables(engine)
        engine.dispose()
        return url
    path = tmp_path / "incidents.db"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def pg_url(pg_database_url: str) -> str:
    """PostgreSQL only, emptied: for tests about concurrency between replicas."""
    engine = db.make_engine(pg_database_url)
    _empty_tables(engine)
    engine.dispose()
    return pg_database_url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return db.make_session_factory(engine)


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 21, 14, 0, tzinfo=UTC)


@pytest.fixture
def process() -> Process:
    return Process()
