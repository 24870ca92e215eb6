"""What a process builds once from the settings: the engine and the session factory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from incidents import db
from incidents.process import Process


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    clock: object = field(default=utcnow)

    @cached_property
    def engine(self) -> Engine:
        return db.make_engine(self.settings.effective_database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return db.make_session_factory(self.engine)

    @cached_property
    def process(self) -> Process:
        return self.settings.process()

    def close(self) -> None:
        """Release the database connections (if any were opened)."""
        if "engine" in self.__dict__:
            self.engine.dispose()

    def now(self) -> datetime:
        return self.clock()  # type: ignore[operator]

    def ensure_schema(self) -> None:
        """SQLite upgrades itself; any other database must be upgraded with `incidents db upgrade`."""
        if db.schema_is_current(self.engine):
            return
        if self.settings.is_sqlite:
            db.upgrade(self.engine)
            return
        raise SchemaOutOfDate(
            f"The database schema is at {db.current_revision(self.engine) or 'nothing'}, "
            f"this version needs {db.head_revision(self.engine)}. Run `incidents db upgrade` first."
        )


class SchemaOutOfDate(Exception):
    pass
