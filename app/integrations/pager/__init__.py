"""Paging out: the adapters behind `incidents.paging.Pager`, one module per vendor (pagerduty.py: Events API
v2; opsgenie.py: Alert API v2), built once from the settings (base URLs, PAGER_TIMEOUT_SECONDS).

A team names its pager and the environment variable holding its key in the ownership map
(`pager: {service: pagerduty, key_env: PAGERDUTY_PAYMENTS_KEY}`). `check_keys` runs at start-up: a variable the
map names that is unset or empty stops start-up with a message naming the variable and the team (never a
value). The delivery handler reads the key from the environment when it sends (so a map reloaded later may
name a new variable; a page for a team whose variable is missing then fails with that same message)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from app.integrations.pager.opsgenie import Opsgenie
from app.integrations.pager.pagerduty import PagerDuty
from app.settings import Settings, SettingsError
from incidents.owners import OwnershipStore
from incidents.owners.lookup import OwnershipMap
from incidents.paging import Pager


def build_pagers(settings: Settings) -> dict[str, Pager]:
    timeout = settings.pager_timeout_seconds
    return {
        "pagerduty": PagerDuty(settings.pagerduty_events_url, timeout=timeout),
        "opsgenie": Opsgenie(settings.opsgenie_api_url, timeout=timeout),
    }


def missing_keys(ownership: OwnershipMap, environ: Mapping[str, str]) -> list[str]:
    """One problem per team whose pager's key variable is unset or empty."""
    return [
        f"team {team.name!r} is paged through {team.pager.service} with the key in the environment variable "
        f"{team.pager.key_env}, which is not set: set it, or remove the team's pager from the ownership map"
        for team in ownership.teams
        if team.pager is not None and not environ.get(team.pager.key_env, "").strip()
    ]


def check_keys(owners: OwnershipStore | None, environ: Mapping[str, str] | None = None) -> None:
    """Start-up: raise SettingsError naming every pager key variable the map names that is not set."""
    if owners is None:
        return
    problems = missing_keys(owners.current(), os.environ if environ is None else environ)
    if problems:
        raise SettingsError(problems)
