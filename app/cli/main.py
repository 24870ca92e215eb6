"""The `incidents` command: serve the bot, manage the database, look at incidents."""

from __future__ import annotations

import sys
from zoneinfo import ZoneInfo

import click
from sqlalchemy.exc import OperationalError

from app.observability.logging import configure_logging
from app.runtime import Runtime, SchemaOutOfDate
from app.settings import SettingsError, load_settings
from incidents import db
from incidents.durations import durations, humanize
from incidents.errors import IncidentError
from incidents.queries import get_incident, open_incidents, recently_resolved


def _runtime(ctx: click.Context) -> Runtime:
    """Settings are read once, on first use, so `--help` works without any configuration."""
    if "runtime" not in ctx.obj:
        try:
            settings = load_settings()
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None
        configure_logging(fmt=settings.log_format, level=settings.log_level)
        runtime = ctx.obj["runtime"] = Runtime(settings)
        ctx.find_root().call_on_close(runtime.close)
    return ctx.obj["runtime"]


def _database_problem(exc: Exception, runtime: Runtime) -> click.ClickException:
    from sqlalchemy.engine import make_url

    where = make_url(runtime.settings.effective_database_url).render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
    return click.ClickException(
        f"Cannot reach the database at {where}: {reason}. Check DATABASE_URL and that the server is running."
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """Incident-response bot for Slack. Settings come from the environment (see the README)."""
    ctx.ensure_object(dict)


@main.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Run the bot: the Slack app over HTTP (or Socket Mode), the scheduler and the outbox worker.

    With no Slack credentials set, it runs in the sandbox: a local Slack workspace at http://127.0.0.1:PORT/sandbox.
    """
    runtime = _runtime(ctx)
    from app.http.server import run_server

    def ensure_schema() -> None:  # production only: the sandbox never opens DATABASE_URL
        try:
            runtime.ensure_schema()
        except SchemaOutOfDate as exc:
            raise click.ClickException(str(exc)) from None
        except OperationalError as exc:
            raise _database_problem(exc, runtime) from None

    try:
        run_server(runtime, prepare=ensure_schema)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@main.group(name="db")
def db_group() -> None:
    """Manage the database schema (Alembic migrations shipped with the bot)."""


@db_group.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Upgrade the schema to the newest version."""
    runtime = _runtime(ctx)
    try:
        db.upgrade(runtime.engine)
        click.echo(f"Schema at {db.current_revision(runtime.engine)} (newest).")
    except OperationalError as exc:
        raise _database_problem(exc, runtime) from None


@db_group.command()
@click.argument("revision")
@click.pass_context
def downgrade(ctx: click.Context, revision: str) -> None:
    """Downgrade the schema to REVISION (`base` removes every table: all data is lost)."""
    runtime = _runtime(ctx)
    try:
        db.downgrade(runtime.engine, revision)
    except OperationalError as exc:
        raise _database_problem(exc, runtime) from None
    except Exception as exc:  # alembic raises CommandError and friends for a bad revision
        raise click.ClickException(f"Cannot downgrade to {revision!r}: {exc}") from None
    click.echo(f"Schema at {db.current_revision(runtime.engine) or 'base (empty)'}.")


@db_group.command()
@click.pass_context
def current(ctx: click.Context) -> None:
    """Print the schema version and whether it is the newest."""
    runtime = _runtime(ctx)
    try:
        now, head = db.current_revision(runtime.engine), db.head_revision(runtime.engine)
    except OperationalError as exc:
        raise _database_problem(exc, runtime) from None
    state = "up to date" if now == head else f"out of date: run `incidents db upgrade` (newest is {head})"
    click.echo(f"{now or 'base (empty)'} ({state})")


@main.command(name="list")
@click.option("--all", "show_all", is_flag=True, help="Also show recently resolved incidents.")
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(min=0),
    help="How many resolved incidents with --all (open ones are always all shown).",
)
@click.pass_context
def list_incidents(ctx: click.Context, show_all: bool, limit: int) -> None:
    """List open incidents (with --all, every open one and the recently resolved ones, newest first) as a table."""
    runtime = _runtime(ctx)
    tz = ZoneInfo(runtime.settings.timezone)
    with _reading(runtime) as session:
        rows = list(open_incidents(session))
        if show_all:
            rows = sorted([*rows, *recently_resolved(session, limit=limit)], key=lambda i: i.number, reverse=True)
        if not rows:
            click.echo("No open incidents." if not show_all else "No incidents yet.")
            return
        table = [("REF", "SEV", "STATUS", "DECLARED", "LEAD", "TITLE")]
        for inc in rows:
            declared = inc.declared_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
            table.append(
                (
                    inc.ref,
                    inc.severity,
                    inc.status,
                    declared,
                    inc.holder("acknowledge") or "-",
                    inc.title if not inc.private else "(private)",
                )
            )
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]) - 1)]
        for row in table:
            click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1])


@main.command()
@click.argument("ref")
@click.pass_context
def show(ctx: click.Context, ref: str) -> None:
    """Show incident REF (like INC-12): its state, roles, updates and timeline."""
    runtime = _runtime(ctx)
    tz = ZoneInfo(runtime.settings.timezone)

    def at(moment) -> str:  # type: ignore[no-untyped-def]
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z") if moment else "—"

    with _reading(runtime) as session:
        try:
            inc = get_incident(session, ref)
        except IncidentError as exc:
            raise click.ClickException(str(exc)) from None
        d = durations(inc)
        click.echo(f"{inc.ref}  {inc.title}")
        click.echo(f"  severity {inc.severity}, status {inc.status}{', private' if inc.private else ''}")
        click.echo(f"  services: {', '.join(inc.services) or '—'}   channel: {inc.channel_id or '—'}")
        click.echo(f"  impact: {inc.summary or '—'}")
        click.echo(f"  declared {at(inc.declared_at)} by {inc.reporter_id}")
        click.echo(f"  acknowledged {at(inc.acknowledged_at)}  (time to acknowledge {humanize(d.to_acknowledge)})")
        click.echo(f"  mitigated    {at(inc.mitigated_at)}  (time to mitigate {humanize(d.to_mitigate)})")
        click.echo(f"  resolved     {at(inc.resolved_at)}  (time to resolve {humanize(d.to_resolve)})")
        click.echo("Roles:")
        for role, holder in inc.holders().items():
            click.echo(f"  {role.value:<12} {holder or '—'}")
        click.echo("Timeline:")
        for event in inc.events:
            if event.removed_at is None:
                click.echo(f"  {at(event.occurred_at)}  {event.kind:<18} {event.text}")


class _reading:
    """A read-only session that turns an unreachable database into a clear message."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime

    def __enter__(self):  # type: ignore[no-untyped-def]
        try:
            if not db.schema_is_current(self.runtime.engine):
                raise click.ClickException("The database schema is out of date: run `incidents db upgrade`.")
        except OperationalError as exc:
            raise _database_problem(exc, self.runtime) from None
        self.session = self.runtime.sessions()
        return self.session

    def __exit__(self, *exc: object) -> None:
        self.session.close()


def _attach_optional_groups() -> None:
    """Command groups that live in their own modules."""
    from app.cli.export import export
    from app.cli.outbox import outbox, repair
    from app.cli.scheduler import scheduler

    main.add_command(scheduler)
    main.add_command(export)
    main.add_command(outbox)
    main.add_command(repair)
    try:
        from app.cli.owners import owners
    except ImportError:  # pragma: no cover - the module ships with the package
        return
    main.add_command(owners)


_attach_optional_groups()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
