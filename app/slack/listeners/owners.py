"""`/incident owner <service>` (anywhere): who owns it and how to reach them; `/incident engage <service|team>`
(in an incident channel): bring them in. Both read the ownership map (`Deps.owners`); engaging is an outbox
effect (ENGAGE_OWNERS) that invites, mentions, bookmarks and tells the person who asked what came of it."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from slack_bolt import App
from slack_sdk.errors import SlackApiError

from app.observability import request_log
from app.slack.blocks.owners import NO_MAP, not_found_text, owner_blocks, owner_text, team_blocks
from app.slack.blocks.text import md
from app.slack.deps import Deps
from app.slack.subcommands import CommandContext, UsageError, subcommand
from incidents import engagement
from incidents.owners import OwnershipMap
from incidents.owners.model import is_email, is_slack_user_id

logger = structlog.get_logger("app.slack.listeners")
WHOLE_TEAM_FLAGS = ("--all", "-a")


def register(app: App, deps: Deps) -> None:
    """Nothing to add to the app: the subcommands register themselves when this module is imported."""


def _service_name(args: str) -> str:
    if not args.strip():
        raise UsageError("Name a service (or a team), like `owner checkout`.")
    return args.strip()


def _engage_target(args: str) -> tuple[str, bool]:
    """`checkout --all` -> ("checkout", True): the name, and whether to invite the whole team."""
    words = args.split()
    whole_team = any(word.lower() in WHOLE_TEAM_FLAGS for word in words)
    name = " ".join(word for word in words if word.lower() not in WHOLE_TEAM_FLAGS)
    if not name:
        raise UsageError("Name the service (or the team) whose owners to bring in, like `engage checkout`.")
    return name, whole_team


def _map(ctx: CommandContext) -> OwnershipMap | None:
    if ctx.deps.owners is None:
        request_log.set_outcome("refused", "no ownership map")
        ctx.reply(NO_MAP)
        return None
    return ctx.deps.owners.current()


def contact_display(deps: Deps) -> Callable[[str], str]:
    """How a person of the map is shown: a mention when Slack knows them, else what the map says, marked."""

    def show(contact: str) -> str:
        if is_slack_user_id(contact):
            return f"<@{contact}>"
        if not is_email(contact):
            return f"{md(contact, 120)} _(not in Slack)_"
        try:
            user_id = deps.people.users.lookup_by_email(contact)
        except (SlackApiError, OSError) as exc:  # an answer without mentions beats no answer
            logger.warning("email_lookup_failed", error=str(exc))
            return md(contact, 120)
        return f"<@{user_id}>" if user_id else f"{md(contact, 120)} _(no Slack account has this email)_"

    return show


def _not_found(ctx: CommandContext, ownership: OwnershipMap, query: str) -> None:
    request_log.set_outcome("not_found")
    ctx.reply(not_found_text(query, ownership.suggest(query)))


@subcommand(
    "owner",
    aliases=("owners",),
    usage="owner <service>",
    parse=_service_name,
    help="Who owns a service (or a team): who to call first, the runbook, dashboards, dependencies.",
)
def owner(ctx: CommandContext) -> None:
    ownership = _map(ctx)
    if ownership is None:
        return
    query: str = ctx.parsed
    show = contact_display(ctx.deps)
    match = ownership.find_service(query)
    if match is not None:
        blocks = owner_blocks(ownership, match, show, command=ctx.command)
        ctx.reply(owner_text(match.service), blocks=[b.to_dict() for b in blocks])
        return
    team = ownership.find_team(query)
    if team is not None:
        blocks = team_blocks(ownership, team, show, command=ctx.command)
        ctx.reply(f"Team {team.name}", blocks=[b.to_dict() for b in blocks])
        return
    _not_found(ctx, ownership, query)


@subcommand(
    "engage",
    usage="engage <service|team> [--all]",
    needs_incident=True,
    parse=_engage_target,
    help="Bring a service's owners (or a team) into this incident: invites their first contacts "
    "(`--all`: the whole team), mentions their group, bookmarks the runbook.",
)
def engage(ctx: CommandContext) -> None:
    ownership = _map(ctx)
    if ownership is None:
        return
    query, whole_team = ctx.parsed
    match = ownership.find_service(query)
    team = ownership.team_of(match.service) if match is not None else ownership.find_team(query)
    if team is None:
        _not_found(ctx, ownership, query)
        return
    service = match.service.name if match is not None else None
    ctx.change(
        lambda session, incident: engagement.request(
            session,
            incident,
            by=ctx.user_id,
            now=ctx.deps.now(),
            service=service,
            team=None if service else team.name,
            whole_team=whole_team,
        )
    )
    who = "everyone the map lists for" if whole_team else "the first contacts of"
    what = f"the owners of *{md(service, 150)}*: {who} team" if service else f"{who} team"
    ctx.reply(f"Bringing in {what} *{md(team.name, 150)}*. I will tell you who I invited.")
