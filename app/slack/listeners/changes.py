"""`/incident changes [service] [--since 6h]`: what changed recently.

In an incident channel it posts in the channel and goes on the timeline (a SHOW_CHANGES effect): without a
service, the incident's services and what they depend on, since CHANGES_WINDOW_HOURS before the declaration
(or `--since` ago); with one, that service. Anywhere else it needs a service and answers only the person who
asked. A service neither the ownership map nor any change event knows is answered with suggestions."""

from __future__ import annotations

import difflib
from datetime import timedelta

from slack_bolt import App
from sqlalchemy import select

from app.observability import request_log
from app.slack.blocks.changes import MAX_SHOWN, changes_blocks, changes_text
from app.slack.blocks.text import md
from app.slack.deps import Deps
from app.slack.listeners.common import incident_for_channel
from app.slack.subcommands import CommandContext, UsageError, subcommand
from incidents import changes
from incidents.errors import InvalidInput
from incidents.models import ChangeEvent

SINCE_FLAG = "--since"
Parsed = tuple[str | None, str | None]


def register(app: App, deps: Deps) -> None:
    """Nothing to add to the app: the subcommand is listed in `app.slack.routes.SUBCOMMANDS`."""


def parse(args: str) -> Parsed:
    """`checkout --since 6h` -> ("checkout", "6h"); the duration is checked here, before the ack."""
    words = args.split()
    since: str | None = None
    rest: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word.lower() == SINCE_FLAG or word.lower().startswith(SINCE_FLAG + "="):
            if "=" in word:
                since = word.split("=", 1)[1]
            elif index + 1 < len(words):
                index += 1
                since = words[index]
            else:
                raise UsageError("`--since` needs a duration, like `--since 6h` (30m, 2d, 1h30m).")
            try:
                changes.parse_since(since)
            except InvalidInput as exc:
                raise UsageError(f"`--since`: {exc}.") from None
        elif word.startswith("--"):
            option = word[:40].replace("`", "'")
            raise UsageError(f"I do not know the option `{option}`; the only one is `--since`.")
        else:
            rest.append(word)
        index += 1
    return (" ".join(rest) or None), since


@subcommand(
    "changes",
    aliases=("changed",),
    usage="changes [service] [--since 6h]",
    parse=parse,
    help="What changed recently (deploys, config, flags, migrations, infrastructure): in an incident channel "
    "for its services and what they depend on, posted in the channel; elsewhere for the service named.",
)
def changes_command(ctx: CommandContext) -> None:
    service, since_text = ctx.parsed
    now = ctx.deps.now()
    span = changes.parse_since(since_text) if since_text else None
    incident = incident_for_channel(ctx.deps, ctx.channel_id)
    if service is not None:
        name = _known(ctx, service)
        if name is None:
            return
        service = name
    if incident is not None:
        ctx.bind_incident(incident)
        window = timedelta(hours=ctx.deps.settings.changes_window_hours)
        since = now - span if span is not None else incident.declared_at - window
        ctx.change(
            lambda session, inc: changes.request(
                session, inc, by=ctx.user_id, now=now, services=[service] if service else None, since=since
            )
        )
        what = f"*{md(service, 150)}*" if service else "this incident's services and what they depend on"
        ctx.reply(f"Posting what changed for {what} in this channel.")
        return
    if service is None:
        request_log.set_outcome("refused", "no service outside an incident channel")
        ctx.reply(
            f"Name a service, like `{ctx.command} changes checkout`, or ask in an incident channel.\n{ctx.usage()}"
        )
        return
    since = now - (span or timedelta(hours=ctx.deps.settings.changes_window_hours))
    ownership = ctx.deps.owners.current() if ctx.deps.owners is not None else None
    where = changes.scope([service], ownership, expand=False)
    with ctx.deps.runtime.sessions() as session:
        shown = changes.snapshot(session, where, since=since, now=now, limit=MAX_SHOWN)
    blocks = [b.to_dict() for b in changes_blocks(shown, command=ctx.command)]
    ctx.reply(changes_text(shown), blocks=blocks)


def _known(ctx: CommandContext, query: str) -> str | None:
    """The service as the map names it, or as change events name it; None after saying it is unknown."""
    ownership = ctx.deps.owners.current() if ctx.deps.owners is not None else None
    if ownership is not None:
        match = ownership.find_service(query)
        if match is not None:
            return match.service.name
    with ctx.deps.runtime.sessions() as session:
        recorded = list(session.scalars(select(ChangeEvent.service).distinct()))
    same = [s for s in recorded if s.lower() == query.strip().lower()]
    if same:
        return same[0]
    known = [s.name for s in ownership.services] if ownership is not None else []
    suggestions = list(dict.fromkeys([*(ownership.suggest(query) if ownership else []), *_close(query, recorded)]))
    request_log.set_outcome("not_found")
    name = md(query, 80).replace("`", "'")
    text = f"I know no service called `{name}`: neither the ownership map nor any recorded change names it."
    if suggestions:
        text += " Did you mean " + " or ".join(f"*{md(s, 150)}*" for s in suggestions[:3]) + "?"
    elif known:
        text += " The map's services: " + ", ".join(f"*{md(s, 60)}*" for s in sorted(known)[:20]) + "."
    ctx.reply(text)
    return None


def _close(query: str, names: list[str]) -> list[str]:
    lowered = {n.lower(): n for n in names}
    return [lowered[n] for n in difflib.get_close_matches(query.lower(), list(lowered), n=3, cutoff=0.6)]
