"""Questions asked of the ownership map during an incident: who owns this, who do I call first, where is the
runbook, and who do I bring into the channel. Pure: no I/O, no Slack.
"""

from __future__ import annotations

import difflib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from cachetools import TLRUCache, cachedmethod

from incidents.owners.model import EscalationStep, Link, Service, Team, is_email, is_slack_user_id, normalize
from incidents.owners.validate import Problem


@dataclass(frozen=True)
class ServiceMatch:
    service: Service
    matched: str  # the name or alias the query matched

    @property
    def by_alias(self) -> bool:
        return self.matched != self.service.name


@dataclass(frozen=True)
class DependencyOwner:
    service: Service
    team: Team


@dataclass(frozen=True)
class Owners:
    service: Service
    team: Team
    escalation: tuple[EscalationStep, ...]  # first contact first
    runbook: str | None
    dashboards: tuple[Link, ...]
    dependencies: tuple[DependencyOwner, ...]


@dataclass(frozen=True)
class Engagement:
    """Everything needed to bring a team into an incident channel."""

    team: Team
    service: Service | None
    invite: tuple[str, ...]  # Slack user ids or emails, to resolve with resolve_contacts()
    mention: str | None  # the usergroup to mention (@handle or S... id)
    channel: str | None  # the team's own channel
    runbook: str | None  # to bookmark in the incident channel
    dashboards: tuple[Link, ...]
    escalation: tuple[EscalationStep, ...]  # who to call next if the first contacts do not answer


class OwnershipMap:
    """Validated teams and services (built by ``load_map``); every reference in it resolves."""

    def __init__(self, teams: Iterable[Team], services: Iterable[Service], warnings: Iterable[Problem] = ()) -> None:
        self.teams: tuple[Team, ...] = tuple(teams)
        self.services: tuple[Service, ...] = tuple(services)
        self.warnings: tuple[Problem, ...] = tuple(warnings)
        self._teams = {normalize(team.name): team for team in self.teams}
        self._usergroups = {normalize(t.slack_usergroup): t for t in self.teams if t.slack_usergroup}
        self._services: dict[str, ServiceMatch] = {}
        for service in self.services:
            self._services.setdefault(normalize(service.name), ServiceMatch(service, service.name))
        for service in self.services:
            for alias in service.aliases:
                self._services.setdefault(normalize(alias), ServiceMatch(service, alias))

    def __repr__(self) -> str:
        return f"<OwnershipMap {len(self.teams)} teams, {len(self.services)} services>"

    def find_service(self, query: str) -> ServiceMatch | None:
        """By name or alias; case, spaces, ``-`` and ``_`` do not matter."""
        return self._services.get(normalize(query.strip().lstrip("#")))

    def suggest(self, query: str, n: int = 3) -> list[str]:
        """Service names closest to a query that matched nothing: names containing it first, then typos."""
        key = normalize(query)
        if not key:
            return []
        containing = [match.service.name for k, match in self._services.items() if key in k]
        close = difflib.get_close_matches(key, list(self._services), n=n * 2, cutoff=0.6)
        names = dict.fromkeys([*containing, *(self._services[k].service.name for k in close)])
        return list(names)[:n]

    def find_team(self, query: str) -> Team | None:
        """By team name or usergroup handle (``@payments-oncall``)."""
        key = normalize(query.strip())
        return self._teams.get(key) or self._usergroups.get(key) or self._usergroups.get(normalize("@" + query))

    def team_of(self, service: Service) -> Team:
        return self._teams[normalize(service.team)]

    def owners_of(self, service: Service) -> Owners:
        team = self.team_of(service)
        dependencies = []
        for name in service.depends_on:
            dependency = self._services[normalize(name)].service
            dependencies.append(DependencyOwner(dependency, self.team_of(dependency)))
        return Owners(service, team, team.escalation, service.runbook, service.dashboards, tuple(dependencies))

    def first_contacts(self, target: Service | Team) -> tuple[str, ...]:
        """Who to call first: the first escalation step, else every member of the team."""
        team = target if isinstance(target, Team) else self.team_of(target)
        return (team.escalation[0].user,) if team.escalation else team.members

    def services_of(self, team: Team) -> tuple[Service, ...]:
        return tuple(s for s in self.services if normalize(s.team) == normalize(team.name))

    def engagement(self, target: Service | Team, *, whole_team: bool = False) -> Engagement:
        """Who to invite (first contacts, or with ``whole_team`` the escalation and every member), who to mention,
        what to bookmark."""
        team = target if isinstance(target, Team) else self.team_of(target)
        service = target if isinstance(target, Service) else None
        invite = self.first_contacts(team)
        if whole_team:
            invite = tuple(dict.fromkeys([*invite, *(step.user for step in team.escalation), *team.members]))
        return Engagement(
            team=team,
            service=service,
            invite=invite,
            mention=team.slack_usergroup,
            channel=team.channel,
            runbook=service.runbook if service else None,
            dashboards=service.dashboards if service else (),
            escalation=team.escalation,
        )


class UserDirectory(Protocol):
    """The port to the people directory; the Slack layer implements it with ``users.lookupByEmail``."""

    def lookup_by_email(self, email: str) -> str | None:
        """The Slack user id for an email, or None when nobody has it."""
        ...


class ResolvingDirectory:
    """Caches another directory's answers: hits for ``ttl`` seconds, misses for ``miss_ttl``; errors are not
    cached. Thread-safe; the lock is not held during the wrapped lookup, so two threads may both ask once."""

    def __init__(
        self,
        directory: UserDirectory,
        *,
        ttl: float = 3600.0,
        miss_ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._directory = directory
        self._answers: TLRUCache[str, str | None] = TLRUCache(
            maxsize=10_000, ttu=lambda _email, user_id, now: now + (ttl if user_id else miss_ttl), timer=clock
        )
        self._lock = threading.Lock()

    def lookup_by_email(self, email: str) -> str | None:
        return self._lookup(email.strip())

    @cachedmethod(lambda self: self._answers, key=lambda _self, email: email.casefold(), lock=lambda self: self._lock)
    def _lookup(self, email: str) -> str | None:
        return self._directory.lookup_by_email(email)


def resolve_contacts(contacts: Iterable[str], directory: UserDirectory) -> tuple[list[str], list[str]]:
    """Contacts -> (Slack user ids, in order and without repeats; the contacts that could not be resolved).

    A Slack user id is kept as is, an email is looked up, anything else (an unresolved Backstage ref) and any
    email the directory does not know is returned as unresolved, to be reported.
    """
    resolved: list[str] = []
    unresolved: list[str] = []
    for contact in dict.fromkeys(contacts):
        user_id = contact if is_slack_user_id(contact) else None
        if user_id is None and is_email(contact):
            user_id = directory.lookup_by_email(contact)
        if user_id is None:
            unresolved.append(contact)
        elif user_id not in resolved:
            resolved.append(user_id)
    return resolved, unresolved
