"""`incidents owners`: check the service ownership map and look services up, without Slack."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import click

from app.integrations.pager import missing_keys
from incidents.owners import OwnershipMap, OwnershipMapError, Service, Team, load_map

ENV_VAR = "OWNERSHIP_MAP_PATH"

_paths_argument = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
_settings_option = click.option(
    "--settings-path",
    "settings_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    envvar=ENV_VAR,
    show_envvar=True,
    help=f"Map file or folder, used when no PATH is given (repeatable; in {ENV_VAR}, separate paths with ':').",
)


@click.group("owners")
def owners() -> None:
    """The service ownership map: our YAML and/or Backstage catalog files."""


@owners.command()
@_paths_argument
@_settings_option
@click.option(
    "--require-keys",
    is_flag=True,
    help="Also fail when a pager key variable the map names is not set here (run it where the bot runs).",
)
def check(paths: tuple[Path, ...], settings_paths: tuple[Path, ...], require_keys: bool) -> None:
    """Validate the map: print every problem as FILE:LINE: MESSAGE and exit 1, or a summary and exit 0. Pager key
    variables that are not set in this environment are warnings (the bot refuses to start without them), or
    problems with --require-keys."""
    ownership = _load(paths or settings_paths)
    unset = missing_keys(ownership, os.environ)
    for problem in unset:
        click.echo(f"{'error' if require_keys else 'warning'}: {problem}")
    if unset and require_keys:
        click.echo(f"{_count(len(unset), 'pager key')} not set.", err=True)
        raise SystemExit(1)
    teams, services = len(ownership.teams), len(ownership.services)
    click.echo(f"OK: {_count(teams, 'team')}, {_count(services, 'service')}")


@owners.command()
@click.argument("query")
@_paths_argument
@_settings_option
def show(query: str, paths: tuple[Path, ...], settings_paths: tuple[Path, ...]) -> None:
    """Who owns QUERY (a service name or alias, or a team), who to call first, runbook and dashboards."""
    ownership = _load(paths or settings_paths, quiet=True)
    match = ownership.find_service(query)
    if match is not None:
        click.echo(render_service(ownership, match.service))
        return
    team = ownership.find_team(query)
    if team is not None:
        click.echo(render_team(ownership, team))
        return
    suggestions = ownership.suggest(query)
    hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
    click.echo(f"No service or team named '{query}'.{hint}", err=True)
    raise SystemExit(1)


def _load(paths: Sequence[Path], *, quiet: bool = False) -> OwnershipMap:
    if not paths:
        raise click.UsageError(f"No ownership map given: pass PATH... or set {ENV_VAR}.")
    try:
        ownership = load_map(paths)
    except OwnershipMapError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        click.echo(f"{_count(len(exc.problems), 'problem')} in the ownership map.", err=True)
        raise SystemExit(1) from None
    if not quiet:
        for warning in ownership.warnings:
            click.echo(f"{warning.where}: warning: {warning.message}")
    return ownership


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def render_service(ownership: OwnershipMap, service: Service) -> str:
    owners_ = ownership.owners_of(service)
    aliases = f" (aliases: {', '.join(service.aliases)})" if service.aliases else ""
    tier = f", tier {service.tier}" if service.tier else ""
    lines = [f"{service.name}{aliases}{tier}", *_team_lines(ownership, owners_.team)]
    lines.append(f"runbook: {service.runbook or '(none)'}")
    lines.extend(f"dashboard: {link.label}" + (f" <{link.url}>" if link.title else "") for link in service.dashboards)
    lines.extend(f"depends on: {dep.service.name} (team {dep.team.name})" for dep in owners_.dependencies)
    return "\n".join(lines)


def render_team(ownership: OwnershipMap, team: Team) -> str:
    services = ", ".join(service.name for service in ownership.services_of(team)) or "(none)"
    return "\n".join([*_team_lines(ownership, team), f"services: {services}"])


def _team_lines(ownership: OwnershipMap, team: Team) -> list[str]:
    reach = ", ".join(filter(None, (team.slack_usergroup, team.channel)))
    lines = [f"team: {team.name}" + (f" ({reach})" if reach else "")]
    lines.append(f"call first: {', '.join(ownership.first_contacts(team)) or '(nobody listed)'}")
    lines.extend(f"  {index}. {step.role}: {step.user}" for index, step in enumerate(team.escalation, start=1))
    if team.contact:
        lines.append(f"contact: {team.contact}")
    return lines
