"""The timeline in Slack: `note` (backdated with a leading time), `timeline [page]`, `followup`, `followups`,
`postmortem`; and the buttons that go with them (timeline pages, a follow-up's Done, the card's Post-mortem)."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from sqlalchemy.orm import Session

from app.observability import request_log
from app.slack import tickets as slack_tickets
from app.slack.blocks.timeline import followups_blocks, followups_text, parse_ref_value, timeline_blocks, timeline_text
from app.slack.deps import Deps
from app.slack.ids import TicketAction, TimelineAction
from app.slack.listeners.common import change_incident, ephemeral, refused
from app.slack.queue import direct_message
from app.slack.subcommands import CommandContext, UsageError, no_arguments, parse_user, required_text, subcommand
from incidents import service
from incidents.errors import IncidentError
from incidents.followups import add_followup, list_followups, mark_done
from incidents.models import Incident
from incidents.notes import describe_when, parse_note
from incidents.postmortem_upload import request_postmortem
from incidents.queries import get_incident
from incidents.tickets import tickets_of
from incidents.timeline_view import timeline_page

PER_PAGE = 20
_TRAILING_MENTION = re.compile(r"\s+(<@[^>]+>|@\S+)$")
_TICKET_FLAG = re.compile(r"(?:^|\s)--ticket(?=\s|$)")
_TRAILING_FLAG = re.compile(r"(?:^|\s)(--[A-Za-z][\w-]*)$")


def register(app: App, deps: Deps) -> None:
    @app.action(TimelineAction.PAGE)
    def on_page(ack: Ack, action: dict[str, Any], respond: Respond) -> None:
        ack()
        parsed = parse_ref_value(action.get("value", ""))
        if parsed is None:
            ephemeral(respond)("That button is not attached to an incident.")
            return
        ref, page = parsed
        request_log.bind(incident=ref)
        try:
            text, blocks = _timeline(deps, ref, page)
        except IncidentError as exc:
            ephemeral(respond)(refused(exc))
            return
        respond(replace_original=True, response_type="ephemeral", text=text, blocks=blocks)

    @app.action(TimelineAction.FOLLOWUP_DONE)
    def on_followup_done(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        parsed = parse_ref_value(action.get("value", ""))
        if parsed is None:
            ephemeral(respond)("That button is not attached to a follow-up.")
            return
        ref, followup_id = parsed
        user_id = body["user"]["id"]

        def done(session: Session, incident: Incident) -> tuple[str, list[dict[str, Any]]]:
            mark_done(session, incident, followup_id=followup_id, by=user_id, now=deps.now())
            return _followups(deps, incident, list_followups(session, incident), tickets_of(session, incident.id))

        answer = change_incident(deps, ref, done, refuse=ephemeral(respond))
        if answer is None:
            return
        text, blocks = answer
        respond(replace_original=True, response_type="ephemeral", text=text, blocks=blocks)

    @app.action(TicketAction.CREATE)
    def on_create_ticket(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        parsed = parse_ref_value(action.get("value", ""))
        if parsed is None:
            ephemeral(respond)("That button is not attached to a follow-up.")
            return
        ref, followup_id = parsed
        user_id = body["user"]["id"]

        def create(session: Session, incident: Incident) -> tuple[str, tuple[str, list[dict[str, Any]]]]:
            asked = slack_tickets.ask(deps, session, incident, followup_id=followup_id, by=user_id)
            listing = _followups(deps, incident, list_followups(session, incident), tickets_of(session, incident.id))
            return slack_tickets.reply(asked), listing

        answer = change_incident(deps, ref, create, refuse=ephemeral(respond))
        if answer is None:
            return
        said, (text, blocks) = answer
        respond(replace_original=True, response_type="ephemeral", text=text, blocks=blocks)
        ephemeral(respond)(said)

    @app.action(TimelineAction.POSTMORTEM)
    def on_postmortem(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()

        def ask(session: Session, incident: Incident) -> str:
            queued = request_postmortem(session, incident, by=body["user"]["id"], now=deps.now())
            return _postmortem_reply(incident, queued)

        reply = change_incident(deps, action.get("value", ""), ask, refuse=ephemeral(respond))
        if reply is not None:
            ephemeral(respond)(reply)


# --- subcommands --------------------------------------------------------------------------------------------


@subcommand(
    "note",
    usage="note <text>",
    needs_incident=True,
    parse=required_text("note"),
    help="Add a note to the timeline. Start with a time to date it then: `note at 14:05, the cache was flushed`.",
)
def note(ctx: CommandContext) -> None:
    settings = ctx.deps.settings
    tz, now = ZoneInfo(settings.timezone), ctx.deps.now()
    when, text = parse_note(ctx.parsed, now=now, tz=tz)
    ctx.change(lambda s, i: service.add_note(s, i, text=text, author_id=ctx.user_id, now=now, occurred_at=when))
    if when is None:
        ctx.reply("Noted on the timeline.")
    else:
        ctx.reply(f"Noted on the timeline at {describe_when(when, now=now, tz=tz)} ({settings.timezone}).")


def _page_number(args: str) -> int:
    if not args:
        return 1
    if not args.isdigit() or int(args) < 1:
        raise UsageError(f"`{args[:20]}` is not a page number; page 1 is the latest.")
    return int(args)


@subcommand(
    "timeline",
    usage="timeline [page]",
    needs_incident=True,
    parse=_page_number,
    help="The incident's timeline, newest last, a page at a time (page 1 is the latest).",
)
def timeline(ctx: CommandContext) -> None:
    text, blocks = _timeline(ctx.deps, ctx.incident.ref, ctx.parsed)  # type: ignore[union-attr]
    ctx.reply(text, blocks=blocks)


def parse_followup(args: str) -> tuple[str, str | None, bool]:
    """`add an alert <@U1|dana> --ticket` -> ("add an alert", "U1", True): an @-mention at the end names the
    owner; `--ticket` (anywhere as a word) asks for its ticket too. Another `--option` at the end is refused."""
    if not args:
        raise UsageError("Say what needs doing, and who owns it if you know: `followup add an alert @dana`.")
    ticket = bool(_TICKET_FLAG.search(args))
    args = " ".join(_TICKET_FLAG.sub(" ", args).split())
    match = _TRAILING_MENTION.search(args)
    owner = None
    if match is not None:
        args, owner = args[: match.start()].strip(), parse_user(match.group(1))
    flag = _TRAILING_FLAG.search(args)
    if flag is not None:
        raise UsageError(f"`{flag.group(1)[:30]}` is not an option of followup; the only one is `--ticket`.")
    if not args:
        raise UsageError("Say what needs doing before the owner: `followup add an alert @dana --ticket`.")
    return args, owner, ticket


@subcommand(
    "followup",
    usage="followup <what needs doing> [@owner] [--ticket]",
    needs_incident=True,
    parse=parse_followup,
    help="Add a follow-up action (it outlives the incident and closes the post-mortem); `--ticket` files it in "
    "the owning team's tracker (Jira, GitHub Issues) too.",
)
def followup(ctx: CommandContext) -> None:
    text, owner_id, ticket = ctx.parsed
    now = ctx.deps.now()
    if ticket and not slack_tickets.enabled(ctx.deps):
        ctx.reply(
            "Tickets are not set up on this bot (no Jira or GitHub credentials), so nothing was added. Add the "
            "follow-up without `--ticket`, or ask whoever runs the bot (see Tickets for follow-ups in the README)."
        )
        return
    asked: list[str] = []

    def add(session, incident: Incident):  # type: ignore[no-untyped-def]
        action = add_followup(session, incident, text=text, owner_id=owner_id, by=ctx.user_id, now=now)
        if owner_id and owner_id != ctx.user_id:
            direct_message(
                session,
                user_id=owner_id,
                text=f"<@{ctx.user_id}> gave you a follow-up action from {incident.ref} ({incident.title}): "
                f"{action.text}\nSee them all with `{ctx.command} followups` in <#{incident.channel_id}>.",
                key=f"followup_owner:{action.id}",
                now=now,
                incident_id=incident.id,
            )
        if ticket:  # in the same transaction: a ticket that cannot go anywhere adds nothing
            asked.append(
                slack_tickets.reply(
                    slack_tickets.ask(ctx.deps, session, incident, followup_id=action.id, by=ctx.user_id)
                )
            )
        return action

    ctx.change(add)
    owner = f", owned by <@{owner_id}>" if owner_id else ""
    also = f" {asked[0]}" if asked else ""
    ctx.reply(f"Follow-up added to {ctx.incident.ref}{owner}. `{ctx.command} followups` lists them.{also}")  # type: ignore[union-attr]


@subcommand(
    "followups",
    usage="followups",
    needs_incident=True,
    parse=no_arguments,
    help="The follow-up actions, with a button to mark each done.",
)
def followups(ctx: CommandContext) -> None:
    with ctx.deps.runtime.sessions() as session:
        incident = get_incident(session, ctx.incident.number)  # type: ignore[union-attr]
        text, blocks = _followups(
            ctx.deps, incident, list_followups(session, incident), tickets_of(session, incident.id)
        )
    ctx.reply(text, blocks=blocks)


@subcommand(
    "postmortem",
    aliases=("post-mortem",),
    usage="postmortem",
    needs_incident=True,
    parse=no_arguments,
    help="Upload a blameless post-mortem draft (Markdown) to this channel.",
)
def postmortem(ctx: CommandContext) -> None:
    queued = ctx.change(lambda s, i: request_postmortem(s, i, by=ctx.user_id, now=ctx.deps.now()))
    ctx.reply(_postmortem_reply(ctx.incident, queued))  # type: ignore[arg-type]


# --- shared -------------------------------------------------------------------------------------------------


def _timeline(deps: Deps, ref: str, page: int) -> tuple[str, list[dict[str, Any]]]:
    with deps.runtime.sessions() as session:
        incident = get_incident(session, ref)
        request_log.bind_incident(incident)
        found = timeline_page(session, incident, page=page, per_page=PER_PAGE)
    tz = ZoneInfo(deps.settings.timezone)
    blocks = timeline_blocks(incident, found, tz=tz, command=deps.settings.slash_command)
    return timeline_text(incident, found), [b.to_dict() for b in blocks]


def _followups(deps: Deps, incident: Incident, items: Any, tickets: Any = None) -> tuple[str, list[dict[str, Any]]]:
    blocks = followups_blocks(
        incident, items, command=deps.settings.slash_command, tickets=tickets, can_ticket=slack_tickets.enabled(deps)
    )
    return followups_text(incident, items), [b.to_dict() for b in blocks]


def _postmortem_reply(incident: Incident, queued: bool) -> str:
    name = f"{incident.ref}-postmortem.md"
    if not queued:
        return f"A post-mortem draft for {incident.ref} is already on its way; it will appear here as `{name}`."
    still_open = "" if not incident.is_open else f" {incident.ref} is still open: the draft covers it so far."
    return f"Preparing the post-mortem draft: it will appear in this channel as `{name}`.{still_open}"
