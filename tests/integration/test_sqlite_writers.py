"""SQLite transactions of one process queue behind one lock (incidents.db._QueuedWriter) instead of SQLite's
sleeping busy handler; however a transaction ends, the next one gets its turn."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from incidents.db import make_engine


def _in_thread(engine: Engine) -> threading.Event:
    """A transaction in another thread; the event is set once it has committed."""
    done = threading.Event()

    def run() -> None:
        with engine.begin() as conn:
            conn.execute(text("SELECT 1"))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done


def _holding(tmp_path: Path) -> tuple[Engine, Connection]:
    """An engine, and a connection of it inside a transaction (holding the write lock)."""
    engine = make_engine(f"sqlite:///{tmp_path}/queue.db")
    first: Connection = engine.connect()
    first.begin()
    first.execute(text("SELECT 1"))
    return engine, first


def test_the_next_writer_starts_once_the_first_commits(tmp_path: Path) -> None:
    engine, first = _holding(tmp_path)
    assert type(first.connection.dbapi_connection).writers.locked()
    second = _in_thread(engine)
    first.commit()
    assert second.wait(10)
    first.close()
    engine.dispose()


def test_a_writer_closed_without_commit_gives_its_turn_back(tmp_path: Path) -> None:
    engine, first = _holding(tmp_path)
    second = _in_thread(engine)
    first.close()  # back to the pool, rolled back there
    assert second.wait(10)
    engine.dispose()


def test_an_invalidated_writer_gives_its_turn_back(tmp_path: Path) -> None:
    engine, first = _holding(tmp_path)
    second = _in_thread(engine)
    first.invalidate()  # its DBAPI connection is closed
    assert second.wait(10)
    first.close()
    engine.dispose()
