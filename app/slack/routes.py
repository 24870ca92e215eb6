"""Everything the Bolt app answers, listed in one place: the listener modules' `register(app, deps)` functions
and the `/incident` subcommands, in the order `help` lists them. A feature adds its listeners and subcommands
here; nothing registers itself by being imported."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App

from app.slack.deps import Deps
from app.slack.listeners import (
    actions,
    alerts,
    capture,
    changes,
    commands,
    home,
    incident_commands,
    owners,
    pages,
    reminders,
    review,
    shortcuts,
    stats,
    submissions,
    timeline_commands,
)
from app.slack.subcommands import Subcommands

SUBCOMMANDS = Subcommands(
    [
        commands.declare,
        commands.list_open,
        commands.help_,
        incident_commands.acknowledge,
        incident_commands.assign_role,
        incident_commands.roles,
        incident_commands.severity,
        incident_commands.update,
        incident_commands.mitigated,
        incident_commands.resolve,
        incident_commands.reopen,
        incident_commands.status,
        timeline_commands.note,
        timeline_commands.timeline,
        timeline_commands.followup,
        timeline_commands.followups,
        timeline_commands.postmortem,
        review.review_command,
        owners.owner,
        owners.engage,
        pages.page,
        changes.changes_command,
        stats.stats,
    ]
)


def _slash_command(app: App, deps: Deps) -> None:
    commands.register(app, deps, SUBCOMMANDS)


LISTENERS: tuple[Callable[[App, Deps], None], ...] = (
    _slash_command,
    actions.register,
    submissions.register,
    shortcuts.register,
    reminders.register,
    capture.register,
    timeline_commands.register,
    review.register,
    owners.register,
    pages.register,
    alerts.register,
    home.register,
)
