"""`incidents outbox ...` and `incidents repair REF`: look at undelivered Slack effects and put them right."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import click
import structlog

from app.cli.common import reading, runtime_of
from app.runtime import Runtime
from incidents import outbox_admin
from incidents.errors import IncidentError
from incidents.models import OutboxStatus

log = structlog.get_logger("app.cli.outbox")
ERROR_WIDTH = 60


def _checked_runtime(ctx: click.Context) -> Runtime:
    runtime = runtime_of(ctx)
    with reading(runtime):  # the same checks and messages as every other command: reachable, schema current
        pass
    return runtime


@click.group()
def outbox() -> None:
    """Slack effects waiting to be delivered, and the ones that failed for good (dead letters)."""


@outbox.command(name="list")
@click.option("--status", type=click.Choice([s.value for s in OutboxStatus]), help="Only messages in this state.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.pass_context
def list_messages(ctx: click.Context, status: str | None, limit: int) -> None:
    """List messages, newest first: id, incident, kind, status, attempts, next attempt and last error."""
    runtime = _checked_runtime(ctx)
    tz = ZoneInfo(runtime.settings.timezone)
    with runtime.sessions() as session:
        rows = outbox_admin.list_messages(session, now=runtime.now(), status=status, limit=limit)
    if not rows:
        click.echo(f"No {status} messages." if status else "The outbox is empty.")
        return
    table = [("ID", "INCIDENT", "KIND", "STATUS", "ATTEMPTS", "NEXT ATTEMPT", "LAST ERROR")]
    for row in rows:
        next_at = row.next_attempt_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
        state = f"{row.status} (delivering)" if row.in_flight else row.status
        table.append(
            (
                str(row.id),
                row.incident_ref or "-",
                row.kind,
                state,
                str(row.attempts),
                next_at if row.status == OutboxStatus.PENDING else "-",
                _one_line(row.last_error),
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]) - 1)]
    for line in table:
        click.echo("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=False)) + "  " + line[-1])


def _one_line(error: str | None) -> str:
    if not error:
        return "-"
    text = " ".join(error.split())
    return text if len(text) <= ERROR_WIDTH else text[: ERROR_WIDTH - 1] + "…"


@outbox.command()
@click.argument("message_id", type=int, required=False)
@click.option("--all", "every", is_flag=True, help="Every dead or pending message.")
@click.pass_context
def retry(ctx: click.Context, message_id: int | None, every: bool) -> None:
    """Deliver message MESSAGE_ID (or --all) again now, with its attempts reset."""
    if (message_id is None) == (not every):
        raise click.UsageError("Give one message id, or --all.")
    runtime = _checked_runtime(ctx)
    try:
        with runtime.sessions.begin() as session:
            count = outbox_admin.retry(session, now=runtime.now(), message_id=message_id)
    except IncidentError as exc:
        raise click.ClickException(str(exc)) from None
    log.info("outbox.retried", outbox_id=message_id, count=count)
    click.echo(f"{count} message(s) will be delivered again now.")


@outbox.command()
@click.argument("message_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (scripts, CI).")
@click.pass_context
def drop(ctx: click.Context, message_id: int, yes: bool) -> None:
    """Delete pending or dead message MESSAGE_ID for good: its effect will never happen."""
    runtime = _checked_runtime(ctx)
    if not yes:
        click.confirm(f"Drop outbox message {message_id}? Its Slack effect will never happen.", abort=True)
    try:
        with runtime.sessions.begin() as session:
            message = outbox_admin.drop(session, message_id=message_id, now=runtime.now())
    except IncidentError as exc:
        raise click.ClickException(str(exc)) from None
    log.warning("outbox.dropped", outbox_id=message_id, kind=message.kind, incident_id=message.incident_id)
    click.echo(f"Dropped message {message_id} ({message.kind}, {message.status}).")


@outbox.command()
@click.option("--days", default=30, show_default=True, type=click.IntRange(1), help="Keep this many days.")
@click.pass_context
def prune(ctx: click.Context, days: int) -> None:
    """Delete delivered messages and remembered Slack request ids older than --days."""
    runtime = _checked_runtime(ctx)
    with runtime.sessions.begin() as session:
        done, seen = outbox_admin.prune(session, now=runtime.now(), keep=timedelta(days=days))
    click.echo(f"Deleted {done} delivered message(s) and {seen} request id(s) older than {days} days.")


@click.command()
@click.argument("ref")
@click.pass_context
def repair(ctx: click.Context, ref: str) -> None:
    """Put incident REF (like INC-12) back on track: retry its dead effects, re-open a missing channel or card,
    redraw the card. Safe to run twice: the effects skip what is already done."""
    runtime = _checked_runtime(ctx)
    try:
        with runtime.sessions.begin() as session:
            actions = outbox_admin.repair(session, ref, now=runtime.now())
    except IncidentError as exc:
        raise click.ClickException(str(exc)) from None
    log.info("incident.repaired", ref=ref, actions=actions)
    for action in actions:
        click.echo(f"{ref.upper()}: {action}")
