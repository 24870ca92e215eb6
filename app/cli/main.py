"""The `incidents` command: the root group, the incident views (`list`, `show`), and every command group,
added here explicitly (each lives in its own module)."""

from __future__ import annotations

import sys
from zoneinfo import ZoneInfo

import click

from app.cli.changes import changes
from app.cli.common import reading, runtime_of
from app.cli.db import db_group
from app.cli.export import export
from app.cli.outbox import outbox, repair
from app.cli.owners import owners
from app.cli.report import report
from app.cli.scheduler import scheduler
from app.cli.serve import serve
from app.words.events import Style, sentence
from incidents.durations import durations, humanize
from incidents.errors import IncidentError
from incidents.queries import get_incident, open_incidents, recently_resolved

# A terminal shows a person by their Slack id, written the way Slack would (`<@U02BOB>`): it can be pasted into
# Slack as a mention, and it is what `incidents show` has always printed.
PLAIN = Style(person=lambda user_id: f"<@{user_id}>")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """Incident-response bot for Slack. Settings come from the environment (see the README)."""
    ctx.ensure_object(dict)


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
    runtime = runtime_of(ctx)
    tz = ZoneInfo(runtime.settings.timezone)
    with reading(runtime) as session:
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
    runtime = runtime_of(ctx)
    tz = ZoneInfo(runtime.settings.timezone)

    def at(moment) -> str:  # type: ignore[no-untyped-def]
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z") if moment else "—"

    with reading(runtime) as session:
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
                said = sentence(event, ref=inc.ref, style=PLAIN)
                click.echo(f"  {at(event.occurred_at)}  {event.kind:<18} {said}")


main.add_command(serve)
main.add_command(db_group)
main.add_command(scheduler)
main.add_command(export)
main.add_command(outbox)
main.add_command(repair)
main.add_command(owners)
main.add_command(changes)
main.add_command(report)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
