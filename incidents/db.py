"""Engines, sessions and the schema (Alembic) for SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

BUSY_SECONDS = 30  # how long a SQLite writer waits for the lock before "database is locked"


def make_engine(url: str, **kwargs: object) -> Engine:
    """Create an engine. SQLite gets WAL, foreign keys, a busy timeout and write-ahead transactions."""
    parsed = make_url(url)
    # Errors and echo never print bound values: they hold incident titles and texts, private ones included.
    kwargs.setdefault("hide_parameters", True)
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"check_same_thread": False, "timeout": BUSY_SECONDS, "factory": _queued_writers()}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _sqlite_pragmas(engine)
        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the driver, decide when transactions begin (pysqlite's recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        # IMMEDIATE takes the write lock up front: concurrent writers queue instead of failing with
        # "database is locked" when a read transaction later tries to write. In this process they queue first.
        conn.connection.dbapi_connection.queue_for_write()
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class _QueuedWriter(sqlite3.Connection):
    """A SQLite connection whose transactions queue behind one lock of its engine before `BEGIN IMMEDIATE`.

    SQLite makes a second writer wait in its busy handler, which sleeps longer and longer between tries (up to
    100 ms each) instead of being woken when the lock is free: in a burst of 20 declarations at once the last
    ones waited several times as long as the work took. Queued here, the next transaction of the process
    starts as soon as the last one has committed (or rolled back, or its connection closed). Other processes
    still meet SQLite's own wait; `commit()` still syncs to disk as configured."""

    writers: threading.Lock  # one per engine (`_queued_writers`)
    _writing = False

    def queue_for_write(self) -> None:
        if not self._writing:
            # Bounded like SQLite's own wait: a lock never given back would only slow writers down.
            self._writing = self.writers.acquire(timeout=BUSY_SECONDS)

    def _written(self) -> None:
        if self._writing:
            self._writing = False
            self.writers.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._written()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._written()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._written()


def _queued_writers() -> type[_QueuedWriter]:
    """A connection class with a lock of its own, for one engine."""
    return type("QueuedWriter", (_QueuedWriter,), {"writers": threading.Lock()})


def dialect_insert(session: Session, table: type | Table) -> postgresql.Insert | sqlite.Insert:
    """INSERT for the session's database, with its ON CONFLICT clauses (`on_conflict_do_nothing`,
    `on_conflict_do_update`, `excluded`): PostgreSQL's and SQLite's are spelled the same."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return insert(table)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


# --- migrations -----------------------------------------------------------------------------------------


def alembic_config(engine: Engine) -> Config:
    script_location = str(resources.files("incidents") / "migrations")
    config = Config()
    config.set_main_option("script_location", script_location)
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def schema_is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision(engine)
