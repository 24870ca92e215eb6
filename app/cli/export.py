"""`incidents export INC-12 --format md|json [--output FILE] [--picture FILE.png]`: the post-mortem draft from the
command line, and its timeline chart."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from app.charts import incident as incident_chart
from app.cli.common import reading, runtime_of
from app.postmortem.render import render_json, render_markdown
from incidents.errors import IncidentError
from incidents.incident_picture import picture_of
from incidents.postmortem import OwnersOf, build, owners_from_map
from incidents.queries import get_incident

OWNERS_ENV_VAR = "OWNERSHIP_MAP_PATH"


@click.command("export")
@click.argument("ref")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not to stdout.")
@click.option(
    "--picture",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the incident's timeline chart here (PNG); the Markdown draft links it.",
)
@click.option("--timezone", "tz", help="Show times in this IANA time zone (default: the TIMEZONE setting).")
@click.option(
    "--template",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A Jinja2 Markdown template (default: the POSTMORTEM_TEMPLATE setting, else the built-in one).",
)
@click.option(
    "--owners",
    "owner_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    envvar=OWNERS_ENV_VAR,
    show_envvar=True,
    help="Ownership map file or folder, to name each service's owners (repeatable).",
)
@click.pass_context
def export(
    ctx: click.Context,
    ref: str,
    fmt: str,
    output: Path | None,
    picture: Path | None,
    tz: str | None,
    template: Path | None,
    owner_paths: tuple[Path, ...],
) -> None:
    """Export incident REF (like INC-12) as a blameless post-mortem draft: Markdown, or JSON for other tools."""

    runtime = runtime_of(ctx)
    timezone = tz or runtime.settings.timezone
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown time zone {timezone!r}; use an IANA name such as Europe/Paris") from None
    owners_of = _owners(owner_paths)
    with reading(runtime) as session:
        try:
            incident = get_incident(session, ref)
            data = build(
                session,
                incident,
                now=runtime.now(),
                timezone=timezone,
                process=runtime.process,
                owners_of=owners_of,
            )
            png = None if picture is None else incident_chart.draw(picture_of(data), people=data.people)
            if fmt == "json":
                text = render_json(data)
            else:
                text = render_markdown(
                    data,
                    template_path=template or runtime.settings.postmortem_template,
                    picture=None if picture is None else _link(picture, output),
                )
        except IncidentError as exc:
            raise click.ClickException(str(exc)) from None
    if picture is not None and png is not None:
        try:
            picture.write_bytes(png)
        except OSError as exc:
            raise click.ClickException(f"Cannot write {picture}: {exc.strerror}.") from None
        click.echo(f"Wrote {data.ref}'s timeline chart to {picture}.", err=True)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"Cannot write {output}: {exc.strerror}.") from None
    click.echo(f"Wrote {data.ref}'s post-mortem draft ({fmt}) to {output}.", err=True)


def _link(picture: Path, output: Path | None) -> str:
    """The chart as the draft links it: relative to the draft's folder (or as given, when printed)."""
    if output is None:
        return picture.as_posix()
    return Path(os.path.relpath(picture.absolute(), output.absolute().parent)).as_posix()


def _owners(paths: tuple[Path, ...]) -> OwnersOf | None:
    """The ownership map, when one is given; a broken map is reported and the export goes on without it."""
    if not paths:
        return None
    from incidents.owners import OwnershipMapError, load_map

    try:
        return owners_from_map(load_map(paths))
    except OwnershipMapError as exc:
        click.echo(f"warning: the ownership map has {len(exc.problems)} problem(s); owners are left out.", err=True)
        return None
