"""Migrations: upgrade, downgrade to base and upgrade again, on every backend; the schema matches the models."""

from __future__ import annotations

import ast
from importlib import resources

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from incidents import db
from incidents.models import Base


def test_migrations_round_trip(engine):
    assert db.schema_is_current(engine)
    db.downgrade(engine, "base")
    assert db.current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    db.upgrade(engine)
    assert db.schema_is_current(engine)
    assert {t.name for t in Base.metadata.sorted_tables} <= set(inspect(engine).get_table_names())


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_migrations_do_not_import_the_live_models():
    """A migration is frozen: importing today's `incidents.models` would change what an old revision creates (or
    break it) the day a model type changes. The DDL needs only SQLAlchemy column types."""
    versions = resources.files("incidents") / "migrations" / "versions"
    for script in (v for v in versions.iterdir() if v.name.endswith(".py")):
        tree = ast.parse(script.read_text(encoding="utf-8"))
        imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
        imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        assert [name for name in imported if name.split(".")[0] == "incidents"] == [], script.name
