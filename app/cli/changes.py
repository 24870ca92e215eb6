"""`incidents changes`: record a change from a CI pipeline (`record`, sent to the bot's `POST /changes` at
BOT_URL with CHANGE_EVENTS_TOKEN), and list the recent ones from the database (`list`).

`record` exits 0 when the change is stored (or was already: the same `--id` again stores nothing new), 1 when
the bot refuses it (the reason is printed: a wrong token, a bad value), 2 for a usage error, and 3 when the bot
cannot be reached or failed (safe to retry with the same `--id`)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click
import httpx

from app.cli.common import reading, runtime_of
from incidents import changes as change_events
from incidents.errors import InvalidInput

TIMEOUT_SECONDS = 10.0
USER_AGENT = "incidents-cli/1"
REFUSED, UNREACHABLE = 1, 3


class Refused(click.ClickException):
    exit_code = REFUSED


class Unreachable(click.ClickException):
    exit_code = UNREACHABLE


def _moment(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time, like 2026-12-03T09:40:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.group("changes")
def changes() -> None:
    """What changed in production: deploys, config, feature flags, migrations, infrastructure."""


@changes.command()
@click.option("--service", required=True, help="The service that changed (as the ownership map names it).")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(change_events.kinds(), case_sensitive=False),
    help="What kind of change.",
)
@click.option("--summary", required=True, help="One line: what changed.")
@click.option("--who", default="", help="Who made the change (a name, a login).")
@click.option("--version", "version", default="", help="The version, tag or commit deployed.")
@click.option("--link", default=None, help="A URL with the details (the pipeline run, the pull request).")
@click.option("--at", "at", default=None, callback=_moment, help="When it happened (ISO 8601); default: now.")
@click.option("--id", "external_id", default=None, help="Your id for it (e.g. the CI run): sent twice, stored once.")
@click.pass_context
def record(
    ctx: click.Context,
    service: str,
    kind: str,
    summary: str,
    who: str,
    version: str,
    link: str | None,
    at: datetime | None,
    external_id: str | None,
) -> None:
    """Record a change through the bot (POST BOT_URL/changes with CHANGE_EVENTS_TOKEN)."""
    settings = runtime_of(ctx).settings
    if settings.change_events_token is None:
        raise click.UsageError("CHANGE_EVENTS_TOKEN is not set: set it to the token the bot was started with.")
    body: dict[str, Any] = {"service": service, "kind": kind.lower(), "summary": summary, "source": "cli"}
    body |= {"who": who, "version": version, "link": link, "external_id": external_id}
    if at is not None:
        body["occurred_at"] = at.isoformat()
    url = f"{settings.bot_url}/changes"
    headers = {
        "Authorization": f"Bearer {settings.change_events_token.get_secret_value()}",
        "User-Agent": USER_AGENT,
    }
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise in a CI log
    try:
        answer = httpx.post(url, json=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx.TimeoutException:
        raise Unreachable(f"The bot at {settings.bot_url} did not answer within {TIMEOUT_SECONDS:.0f} s.") from None
    except httpx.HTTPError as exc:
        raise Unreachable(f"Cannot reach the bot at {settings.bot_url} ({exc}). Check BOT_URL.") from None
    said = _json(answer)
    if answer.status_code in (200, 201):
        for warning in said.get("warnings") or ():
            click.echo(f"warning: {warning}", err=True)
        [stored] = said.get("changes") or [{}]
        if stored.get("duplicate"):
            click.echo(f"Already recorded (id {external_id}); nothing new was stored.")
        else:
            click.echo(f"Recorded the {kind.lower()} of {stored.get('service', service)}.")
        return
    reason = said.get("error") or answer.text.strip()[:300] or answer.reason_phrase
    if answer.status_code == 401:
        raise Refused(f"The bot refused the token (401): {reason}. Check CHANGE_EVENTS_TOKEN.")
    if answer.status_code == 404:
        raise Refused(f"{url} answered 404: {reason}. Check BOT_URL, and that the bot has CHANGE_EVENTS_TOKEN set.")
    if answer.status_code >= 500:
        raise Unreachable(f"The bot failed ({answer.status_code}): {reason}")
    raise Refused(f"The bot refused the change ({answer.status_code}): {reason}")


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        value = answer.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@changes.command(name="list")
@click.option("--service", "services", multiple=True, help="Only this service (repeatable); default: every one.")
@click.option("--since", "since", default=None, help="How far back, like 30m, 6h, 2d; default: CHANGES_WINDOW_HOURS.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1, max=1000))
@click.pass_context
def list_changes(ctx: click.Context, services: tuple[str, ...], since: str | None, limit: int) -> None:
    """The recent changes, newest first, as a table."""
    runtime = runtime_of(ctx)
    try:
        span = change_events.parse_since(since) if since else None
    except InvalidInput as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    if span is None:
        span = timedelta(hours=runtime.settings.changes_window_hours)
    tz = ZoneInfo(runtime.settings.timezone)
    with reading(runtime) as session:
        found = change_events.recent(session, services or None, since=runtime.now() - span, limit=limit)
    if not found.changes:
        scope = ", ".join(services) if services else "any service"
        click.echo(
            f"No changes recorded for {scope} in the last {since or f'{runtime.settings.changes_window_hours:g}h'}."
        )
        return
    table = [("WHEN", "SERVICE", "KIND", "WHO", "VERSION", "SUMMARY")]
    for c in found.changes:
        when = c.occurred_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        table.append((when, c.service, c.kind, c.who or "-", c.version or "-", " ".join(c.summary.split())))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]) - 1)]
    for row in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1])
    if found.total > len(found.changes):
        click.echo(f"... and {found.total - len(found.changes)} more (raise --limit).")
