"""`incidents db upgrade|downgrade|current`: the database schema (Alembic migrations shipped with the bot)."""

from __future__ import annotations

import click
from sqlalchemy.exc import OperationalError

from app.cli.common import database_problem, runtime_of
from incidents import db


@click.group(name="db")
def db_group() -> None:
    """Manage the database schema (Alembic migrations shipped with the bot)."""


@db_group.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Upgrade the schema to the newest version."""
    runtime = runtime_of(ctx)
    try:
        db.upgrade(runtime.engine)
        click.echo(f"Schema at {db.current_revision(runtime.engine)} (newest).")
    except OperationalError as exc:
        raise database_problem(exc, runtime) from None


@db_group.command()
@click.argument("revision")
@click.pass_context
def downgrade(ctx: click.Context, revision: str) -> None:
    """Downgrade the schema to REVISION (`base` removes every table: all data is lost)."""
    runtime = runtime_of(ctx)
    try:
        db.downgrade(runtime.engine, revision)
    except OperationalError as exc:
        raise database_problem(exc, runtime) from None
    except Exception as exc:  # noqa: BLE001 - alembic raises CommandError and friends for a bad revision
        raise click.ClickException(f"Cannot downgrade to {revision!r}: {exc}") from None
    click.echo(f"Schema at {db.current_revision(runtime.engine) or 'base (empty)'}.")


@db_group.command()
@click.pass_context
def current(ctx: click.Context) -> None:
    """Print the schema version and whether it is the newest."""
    runtime = runtime_of(ctx)
    try:
        now, head = db.current_revision(runtime.engine), db.head_revision(runtime.engine)
    except OperationalError as exc:
        raise database_problem(exc, runtime) from None
    state = "up to date" if now == head else f"out of date: run `incidents db upgrade` (newest is {head})"
    click.echo(f"{now or 'base (empty)'} ({state})")
