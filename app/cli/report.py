"""`incidents report [--since 90d] [--service S] [--severity SEV1] [--format md|json|csv|png] [--output PATH]`:
the metrics across incidents (incidents.metrics) from the command line; `png` writes the three charts."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from app.charts.stats import all_charts
from app.cli.common import OnceEach, reading, runtime_of
from incidents.changes import parse_since
from incidents.durations import humanize
from incidents.errors import InvalidInput
from incidents.metrics import Report, Spread
from incidents.metrics_query import build_report, teams_from_map

OWNERS_ENV_VAR = "OWNERSHIP_MAP_PATH"


def _since(_ctx: click.Context, _param: click.Parameter, value: str) -> timedelta:
    try:
        return parse_since(value)
    except InvalidInput as exc:
        raise click.BadParameter(f"{exc} (e.g. --since 90d, 2w, 36h).") from None


@click.command("report", cls=OnceEach)
@click.option("--since", default="90d", show_default=True, callback=_since, help="How far back: 30d, 2w, 36h.")
@click.option("--service", help="Only incidents naming this service.")
@click.option("--severity", help="Only incidents of this severity (e.g. SEV1).")
@click.option("--format", "fmt", type=click.Choice(["md", "json", "csv", "png"]), default="md", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help="md/json/csv: a file (default: stdout). png: a folder for the three charts (default: the current one).",
)
@click.option(
    "--owners",
    "owner_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    envvar=OWNERS_ENV_VAR,
    show_envvar=True,
    help="Ownership map file or folder, to count incidents by team (repeatable).",
)
@click.pass_context
def report(
    ctx: click.Context,
    since: timedelta,
    service: str | None,
    severity: str | None,
    fmt: str,
    output: Path | None,
    owner_paths: tuple[Path, ...],
) -> None:
    """Metrics across the incidents declared in the period: counts by severity, service and team; time to
    acknowledge, mitigate and resolve (median, p90, by week); stakeholder-update gaps; follow-ups."""
    runtime = runtime_of(ctx)
    if severity is not None:
        known = [s.name for s in runtime.process.severities]
        match = next((name for name in known if name.lower() == severity.strip().lower()), None)
        if match is None:
            raise click.BadParameter(
                f"unknown severity {severity!r}; the severities are {', '.join(known)}.", param_hint="--severity"
            )
        severity = match
    team_of = teams_from_map(_ownership(owner_paths))
    now = runtime.now()
    with reading(runtime) as session:
        result = build_report(
            session,
            since=now - since,
            until=now,
            now=now,
            timezone=runtime.settings.timezone,
            team_of=team_of,
            followup_due=timedelta(days=runtime.settings.followup_overdue_days),
            service=service.strip() if service else None,
            severity=severity,
            private_details=True,  # the operator's command: private incidents in full (README, Incident metrics)
        )
    if fmt == "png":
        folder = output or Path(".")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for chart in all_charts(result):
                (folder / chart.filename).write_bytes(chart.png)
                click.echo(f"Wrote {folder / chart.filename}.", err=True)
        except OSError as exc:
            raise click.ClickException(f"Cannot write the charts to {folder}: {exc.strerror}.") from None
        return
    text = {"md": markdown, "json": as_json, "csv": as_csv}[fmt](result)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"Cannot write {output}: {exc.strerror}.") from None
    click.echo(f"Wrote the report ({fmt}) to {output}.", err=True)


def _ownership(paths: tuple[Path, ...]) -> object | None:
    if not paths:
        return None
    from incidents.owners import OwnershipMapError, load_map

    try:
        return load_map(paths)
    except OwnershipMapError as exc:
        click.echo(f"warning: the ownership map has {len(exc.problems)} problem(s); teams are left out.", err=True)
        return None


# --- formats ----------------------------------------------------------------------------------------------


def as_json(r: Report) -> str:
    return json.dumps(r.as_dict(), indent=2) + "\n"


def _spread_cells(s: Spread) -> list[str]:
    return [
        str(s.measured),
        str(s.skipped),
        str(s.open),
        "" if s.median is None else str(int(s.median.total_seconds())),
        "" if s.p90 is None else str(int(s.p90.total_seconds())),
    ]


def as_csv(r: Report) -> str:
    """One row per figure: `section,key,measure,value` (durations in seconds), easy to pivot in a spreadsheet."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["section", "key", "measure", "value"])
    for measure, value in (("total", r.total), ("open", r.open), ("resolved", r.resolved), ("reopened", r.reopened)):
        w.writerow(["incidents", "all", measure, value])
    for section, counts in (("severity", r.by_severity), ("service", r.by_service), ("team", r.by_team)):
        for key, n in counts.items():
            w.writerow([section, key, "incidents", n])
    measures = ("measured", "skipped", "open", "median_seconds", "p90_seconds")
    for name, s in (("to_acknowledge", r.to_acknowledge), ("to_mitigate", r.to_mitigate), ("to_resolve", r.to_resolve)):
        for measure, value in zip(measures, _spread_cells(s), strict=True):
            w.writerow([name, "all", measure, value])
    for week in r.weeks:
        w.writerow(["week", week.start.isoformat(), "incidents", week.incidents])
        for name, s in (
            ("to_acknowledge", week.to_acknowledge),
            ("to_mitigate", week.to_mitigate),
            ("to_resolve", week.to_resolve),
        ):
            w.writerow(["week", week.start.isoformat(), f"{name}_median_seconds", _spread_cells(s)[3]])
    for section, gaps in (("gaps_incident", r.gaps_by_incident), ("gaps_team", r.gaps_by_team)):
        for key, totals in gaps.items():
            for measure, value in totals.as_dict().items():
                w.writerow([section, key, measure, "" if value is None else value])
    f = r.followups
    for measure, value in (("opened", f.opened), ("done", f.done), ("open", f.open), ("overdue", len(f.overdue))):
        w.writerow(["followups", "all", measure, value])
    return out.getvalue()


def _md_spread(name: str, s: Spread) -> str:
    return f"| {name} | {humanize(s.median)} | {humanize(s.p90)} | {s.measured} | {s.skipped} | {s.open} |"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(r: Report) -> str:
    tz = ZoneInfo(r.timezone)
    fmt = "%Y-%m-%d %H:%M"
    filters = [f"service {r.service}" if r.service else "", f"severity {r.severity}" if r.severity else ""]
    scope = ", ".join(f for f in filters if f)
    lines = [
        "# Incident metrics",
        "",
        f"Incidents declared from {r.since.astimezone(tz):{fmt}} to {r.until.astimezone(tz):{fmt}} ({r.timezone})"
        + (f", {scope}" if scope else "")
        + ".",
        "",
        f"**{r.total}** incidents: {r.open} open, {r.resolved} resolved, {r.reopened} reopened.",
        "",
    ]
    for title, counts in (("severity", r.by_severity), ("service", r.by_service), ("team", r.by_team)):
        lines += [f"## By {title}", "", f"| {title} | incidents |", "| --- | ---: |"]
        lines += [f"| {_md_cell(k)} | {n} |" for k, n in counts.items()] or ["| (none) | 0 |"]
        lines.append("")
    lines += [
        "## Durations (from the declaration)",
        "",
        "| | median | p90 | measured | skipped | still open |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        _md_spread("to acknowledge", r.to_acknowledge),
        _md_spread("to mitigate", r.to_mitigate),
        _md_spread("to resolve", r.to_resolve),
        "",
        "## By week (medians)",
        "",
        "| week of | incidents | to acknowledge | to mitigate | to resolve |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {w.start.isoformat()} | {w.incidents} | {humanize(w.to_acknowledge.median)} | "
        f"{humanize(w.to_mitigate.median)} | {humanize(w.to_resolve.median)} |"
        for w in r.weeks
    ]
    total = r.gap_total
    lines += [
        "",
        "## Stakeholder-update gaps",
        "",
        f"{total.gaps} gaps, {humanize(total.silent)} without an update in all, {total.ongoing} ongoing.",
        "",
        "| team | gaps | silent | longest | ongoing |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {_md_cell(team)} | {t.gaps} | {humanize(t.silent)} | {humanize(t.longest)} | {t.ongoing} |"
        for team, t in r.gaps_by_team.items()
    ]
    lines += ["", "| incident | gaps | silent | longest | ongoing |", "| --- | ---: | ---: | ---: | ---: |"]
    lines += [
        f"| {ref} | {t.gaps} | {humanize(t.silent)} | {humanize(t.longest)} | {t.ongoing} |"
        for ref, t in r.gaps_by_incident.items()
    ]
    f = r.followups
    lines += ["", "## Follow-ups", "", f"{f.opened} opened, {f.done} done, {len(f.overdue)} overdue.", ""]
    if f.overdue:
        lines += ["| incident | follow-up | owner | opened | days |", "| --- | --- | --- | --- | ---: |"]
        lines += [
            f"| {o.incident_ref} | {_md_cell(o.text)} | {o.owner_id or '—'} | "
            f"{o.opened_at.astimezone(tz):%Y-%m-%d} | {o.age.days} |"
            for o in f.overdue
        ]
        lines.append("")
    return "\n".join(lines) + "\n"
