"""The `/incident` subcommands: their table, and the parsing that runs before the ack (pure and fast).

A feature describes a subcommand in its own listener module and lists it in `app.slack.routes.SUBCOMMANDS`:

    @subcommand("owner", usage="owner <service>", help="Who owns a service and how to reach them.")
    def owner(ctx: CommandContext) -> None:
        ctx.reply(...)

`needs_incident=True` runs the handler only in an incident channel, with `ctx.incident` loaded; `parse` turns
the arguments into a value (`ctx.parsed`) or raises `UsageError`, before the ack, so a malformed command is
answered at once with what was wrong and the usage.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from app.observability import request_log
from app.slack.deps import Deps
from app.slack.listeners.common import change_incident
from incidents.models import Incident


class UsageError(Exception):
    """The arguments are malformed; the message says what was wrong (the usage is added when shown)."""


class UnknownSubcommand(UsageError):
    """The arguments name a subcommand that does not exist (`help frobnicate`): answered like an unknown
    subcommand, with the list of them all."""


@dataclass(frozen=True)
class Subcommand:
    name: str
    handler: Callable[[CommandContext], None]
    usage: str
    help: str
    needs_incident: bool = False
    aliases: tuple[str, ...] = ()
    parse: Callable[[str], Any] | None = None

    def __call__(self, ctx: CommandContext) -> None:
        self.handler(ctx)


def subcommand(
    name: str,
    *,
    usage: str,
    help: str,
    needs_incident: bool = False,
    aliases: Sequence[str] = (),
    parse: Callable[[str], Any] | None = None,
) -> Callable[[Callable[[CommandContext], None]], Subcommand]:
    """Describe a handler as a subcommand. It answers once it is listed in `app.slack.routes.SUBCOMMANDS`."""

    def describe(handler: Callable[[CommandContext], None]) -> Subcommand:
        return Subcommand(name, handler, usage, help, needs_incident, tuple(aliases), parse)

    return describe


@dataclass(frozen=True)
class Invocation:
    spec: Subcommand
    args: str
    parsed: Any = None


@dataclass(frozen=True)
class Problem:
    message: str
    spec: Subcommand | None = None


DEFAULT = "declare"  # a bare `/incident`


class Subcommands:
    """The `/incident` subcommands, in the order `help` lists them; names and aliases are unique."""

    def __init__(self, specs: Iterable[Subcommand]):
        self._order = tuple(specs)
        self._words: dict[str, Subcommand] = {}
        for spec in self._order:
            for word in (spec.name, *spec.aliases):
                if word.lower() in self._words:
                    raise ValueError(f"/incident subcommand {word!r} is listed twice")
                self._words[word.lower()] = spec

    def all(self) -> list[Subcommand]:
        return list(self._order)

    def find(self, word: str) -> Subcommand | None:
        return self._words.get(word.lower())

    def parse(self, text: str) -> Invocation | Problem:
        """`role mitigate <@U1|bob>` -> Invocation(role, "mitigate <@U1|bob>", (Role.MITIGATE, "U1"))."""
        text = (text or "").strip()
        word, _, rest = text.partition(" ")
        word = word or DEFAULT
        spec = self.find(word)
        if spec is None:
            return Problem(unknown(word))
        rest = rest.strip()
        if spec.parse is None:
            return Invocation(spec, rest)
        parser = self._subcommand_named if spec.parse is subcommand_named else spec.parse
        try:
            return Invocation(spec, rest, parser(rest))
        except UnknownSubcommand as exc:
            return Problem(str(exc))
        except UsageError as exc:
            return Problem(str(exc), spec)

    def _subcommand_named(self, args: str) -> Subcommand | None:
        words = args.split()
        if not words:
            return None
        spec = self.find(words[0].lstrip("/"))
        if spec is None:
            raise UnknownSubcommand(unknown(words[0]))
        return spec


def unknown(word: str) -> str:
    return f"I do not know `{_quote(word)}`."


def _quote(word: str) -> str:
    return word.replace("`", "'")[:40]


# --- argument parsers (pure) ---------------------------------------------------------------------------------

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_BARE_ID = re.compile(r"^@?([UW][A-Z0-9]{4,})$")


def parse_user(token: str) -> str:
    """A person as Slack escapes a mention in command text (`<@U123|bob>`), or a bare user id."""
    token = token.strip()
    match = _MENTION.match(token) or _BARE_ID.match(token)
    if match is None:
        if token.startswith("@"):
            raise UsageError(
                f"I cannot tell who {_quote(token)} is: pick the person from Slack's @-mention list "
                "so that it becomes a mention."
            )
        raise UsageError(f"{_quote(token) or 'Nothing'} is not a person: mention them with @.")
    return match.group(1)


def no_arguments(args: str) -> None:
    if args:
        raise UsageError(f"This command takes no arguments, but got `{_quote(args)}`.")


def subcommand_named(args: str) -> Subcommand | None:
    """The subcommand `help <subcommand>` asks about (None for plain `help`): `Subcommands.parse` looks the
    name up in its own table when a subcommand's `parse` is this function."""
    raise NotImplementedError("parsed by Subcommands.parse")


def required_text(what: str) -> Callable[[str], str]:
    def parse_text(args: str) -> str:
        if not args:
            raise UsageError(f"Write the {what} after the command.")
        return args

    return parse_text


# --- what a handler is given ------------------------------------------------------------------------------


@dataclass
class CommandContext:
    deps: Deps
    command: str
    user_id: str
    channel_id: str
    trigger_id: str
    args: str
    parsed: Any
    client: WebClient
    respond: Callable[..., Any]
    spec: Subcommand
    incident: Incident | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def reply(self, text: str, *, blocks: list | None = None, in_channel: bool = False) -> None:
        """Answer the person who typed the command (everyone in the channel with `in_channel`)."""
        self.respond(text=text, blocks=blocks, response_type="in_channel" if in_channel else "ephemeral")

    def usage(self) -> str:
        return f"Usage: {usage_line(self.command, self.spec)}"

    def change(self, use_case: Callable[[Session, Incident], Any]) -> Any:
        """Run `use_case(session, incident)` in one transaction on this channel's incident (locked), then wake
        the outbox so its Slack effects go out now."""
        assert self.incident is not None, "change() needs an incident; register with needs_incident=True"
        return change_incident(self.deps, self.incident.number, use_case)

    def bind_incident(self, incident: Incident) -> None:
        self.incident = incident
        request_log.bind_incident(incident)


def usage_line(command: str, spec: Subcommand) -> str:
    return f"`{command} {spec.usage}`"
