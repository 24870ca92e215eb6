"""The sandbox's starting world: the default people and `#incidents`, plus everyone, every user group and every
channel the ownership map names, so owner lookups and invitations work in a drill exactly as they would in a
workspace where the map is right."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import structlog

from app.sandbox.workspace import INCIDENTS_CHANNEL_ID, Workspace

log = structlog.get_logger(__name__)

EXAMPLE_MAP = Path(__file__).resolve().parents[2] / "docs" / "ownership-map.example.yml"


def example_ownership_map() -> Path | None:
    """docs/ownership-map.example.yml, when running from a checkout (it is not packaged)."""
    return EXAMPLE_MAP if EXAMPLE_MAP.is_file() else None


def seed(workspace: Workspace, *, announcements: str = "incidents", ownership_map: object | None = None) -> Workspace:
    """`ownership_map` is an `incidents.owners.OwnershipMap` (or None)."""
    workspace.seed_default()
    name = announcements.lstrip("#")
    if workspace.find_channel(name) is None:
        first = workspace.channel(INCIDENTS_CHANNEL_ID)
        workspace.create_channel(name, creator=first.creator, members=list(first.members))
    if ownership_map is not None:
        seed_from_map(workspace, ownership_map)
    return workspace


def seed_from_map(workspace: Workspace, ownership_map: object) -> None:
    for team in getattr(ownership_map, "teams", ()):
        label = team.name.replace("-", " ").replace("_", " ").capitalize()
        steps = {step.user: step.role for step in team.escalation}
        contacts = list(dict.fromkeys([*team.members, *steps]))
        members = [_person(workspace, contact, f"{label} {steps.get(contact, 'engineer')}") for contact in contacts]
        if team.slack_usergroup:
            _usergroup(workspace, team.slack_usergroup, label, members)
        if team.channel:
            _channel(workspace, team.channel, team.name, members)
    for service in getattr(ownership_map, "services", ()):
        for step in getattr(service, "escalation", ()):
            _person(workspace, step.user, f"{service.name} {step.role}")


def _person(workspace: Workspace, contact: str, description: str) -> str:
    """The user id of `contact` (a Slack user id or an email), adding the person when the workspace lacks them."""
    if "@" in contact:
        found = workspace.user_by_email(contact)
        if found is not None:
            return found.id
        local = contact.split("@", 1)[0]
        real_name = " ".join(part.capitalize() for part in local.replace("_", ".").split(".") if part)
        user_id = f"U0{''.join(c for c in local.upper() if c.isalnum())[:9]}"
        while workspace.find_user(user_id) is not None:
            user_id += "X"
        return workspace.add_user(local, real_name or local, email=contact, user_id=user_id).id
    if workspace.find_user(contact) is None:
        real_name = _free_name(workspace, description)
        handle = real_name.lower().replace(" ", "-")
        workspace.add_user(handle, real_name, email=f"{handle}@example.com", user_id=contact)
    return contact


def _free_name(workspace: Workspace, name: str) -> str:
    """`name`, or `name 2`, `name 3`... when someone has it already."""
    taken = {u.real_name for u in workspace.users.values()}
    candidates = [name, *(f"{name} {n}" for n in range(2, 1000))]
    return next(c for c in candidates if c not in taken)


def _usergroup(workspace: Workspace, reference: str, label: str, members: Iterable[str]) -> None:
    handle = reference.lstrip("@")
    with workspace.lock:
        if reference.startswith("S"):
            if reference not in workspace.usergroups:
                workspace.add_usergroup(
                    f"{label.lower().replace(' ', '-')}-team", label, list(members), group_id=reference
                )
        elif not any(g.handle == handle for g in workspace.usergroups.values()):
            workspace.add_usergroup(handle, label, list(members))


def _channel(workspace: Workspace, reference: str, team: str, members: list[str]) -> None:
    if not members:
        return
    with workspace.lock:
        if reference.startswith("#"):
            if workspace.find_channel(reference) is None:
                workspace.create_channel(reference.lstrip("#"), creator=members[0], members=members)
        elif reference not in workspace.channels:
            name = "team-" + "".join(c if c.isalnum() else "-" for c in team.lower())
            workspace.create_channel(name, creator=members[0], channel_id=reference, members=members)
