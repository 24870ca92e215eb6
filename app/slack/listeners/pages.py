"""`/incident page <service|team> [message]` (in an incident channel) and the card's **Page owners** button:
page the owning team through its pager (PagerDuty or Opsgenie, as the ownership map says). The team is looked
up here (only the app holds the map); the page itself is the use case `incidents.paging.request_page` (one per
team per incident), and its PAGE_TRIGGER effect is delivered by the outbox (app.delivery.handlers.pages)."""

from __future__ import annotations

import difflib
from typing import Any

from slack_bolt import Ack, App, Respond
from sqlalchemy.orm import Session

from app.observability import request_log
from app.slack.blocks.owners import NO_MAP, not_found_text
from app.slack.blocks.pages import already_text, no_pager_text, owners_paged_text, paging_text
from app.slack.deps import Deps
from app.slack.ids import CardAction
from app.slack.listeners.common import change_incident, ephemeral
from app.slack.subcommands import CommandContext, UsageError, subcommand
from incidents import paging
from incidents.models import Incident, Page
from incidents.owners import OwnershipMap


def register(app: App, deps: Deps) -> None:
    @app.action(CardAction.PAGE_OWNERS)
    def on_page_owners(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        tell = ephemeral(respond)
        if deps.owners is None:
            tell(NO_MAP)
            return
        ownership = deps.owners.current()
        user_id = body["user"]["id"]

        def page_owners(session: Session, incident: Incident) -> str:
            teams, unknown = paging.owning_teams(ownership, incident.services)
            paged: list[Page] = []
            already: list[Page] = []
            no_pager: list[str] = []
            for team in teams:
                if team.pager is None:
                    no_pager.append(team.name)
                    continue
                done = paging.request_page(
                    session, incident, team=team.name, pager=team.pager.service, by=user_id, now=deps.now()
                )
                (paged if done.created else already).append(done.page)
            return owners_paged_text(incident.ref, paged=paged, already=already, no_pager=no_pager, unknown=unknown)

        text = change_incident(deps, action.get("value", ""), page_owners, refuse=tell)
        if text is not None:
            tell(text)


def _target(args: str) -> tuple[str, str]:
    """`payments db is down` -> ("payments", "db is down"): the service or team, then an optional message."""
    name, _, message = args.strip().partition(" ")
    if not name:
        raise UsageError("Name the service (or the team) to page, like `page checkout` or `page payments db down`.")
    return name, message.strip()


def _suggest(ownership: OwnershipMap, query: str) -> list[str]:
    teams = [team.name for team in ownership.teams]
    close = difflib.get_close_matches(query, teams, n=2, cutoff=0.6)
    return list(dict.fromkeys([*ownership.suggest(query), *close]))[:3]


@subcommand(
    "page",
    usage="page <service|team> [message]",
    needs_incident=True,
    parse=_target,
    help="Page a service's owning team (or a team) through its pager (PagerDuty or Opsgenie, from the ownership "
    "map), once per incident; the message goes with the page.",
)
def page(ctx: CommandContext) -> None:
    if ctx.deps.owners is None:
        request_log.set_outcome("refused", "no ownership map")
        ctx.reply(NO_MAP)
        return
    ownership = ctx.deps.owners.current()
    query, message = ctx.parsed
    match = ownership.find_service(query)
    team = ownership.team_of(match.service) if match is not None else ownership.find_team(query)
    if team is None:
        request_log.set_outcome("not_found")
        ctx.reply(not_found_text(query, _suggest(ownership, query)))
        return
    if team.pager is None:
        request_log.set_outcome("refused", "team without a pager")
        ctx.reply(no_pager_text(team.name))
        return
    pager = team.pager.service
    done = ctx.change(
        lambda session, incident: paging.request_page(
            session, incident, team=team.name, pager=pager, by=ctx.user_id, now=ctx.deps.now(), message=message
        )
    )
    if done.created:
        ctx.reply(paging_text(done.page))
    else:
        request_log.set_outcome("refused", "already paged")
        ctx.reply(already_text(done.page, ctx.incident.ref if ctx.incident else ""))
