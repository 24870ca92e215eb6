"""The slash command: parse before the ack (pure and fast), ack, then run the subcommand.

General subcommands live here (declare, list, help); those acting on an incident in
`app.slack.listeners.incident_commands`; every one is listed in `app.slack.routes.SUBCOMMANDS`.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from app.observability import request_log
from app.slack.blocks.help import help_text, problem_text, subcommand_help
from app.slack.blocks.messages import incidents_list
from app.slack.blocks.modals import declare_modal
from app.slack.deps import Deps
from app.slack.listeners.common import (
    incident_for_channel,
    not_an_incident_channel,
    open_incidents,
    open_modal,
    refused,
)
from app.slack.subcommands import (
    CommandContext,
    Invocation,
    Problem,
    Subcommand,
    Subcommands,
    no_arguments,
    subcommand,
    subcommand_named,
)
from incidents.errors import IncidentError, InvalidInput


def register(app: App, deps: Deps, subcommands: Subcommands) -> None:
    command = deps.settings.slash_command

    @app.command(command)
    def on_command(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        invocation = subcommands.parse(body.get("text") or "")
        if isinstance(invocation, Problem):
            request_log.set_outcome("invalid")
            ack(response_type="ephemeral", text=problem_text(command, invocation, subcommands.all()))
            return
        if invocation.spec.name == "help":
            ack(response_type="ephemeral", text=answer_help(command, invocation.parsed, deps, subcommands))
            return
        ack()
        run(deps, invocation, body, respond, client)


def run(deps: Deps, invocation: Invocation, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
    """After the ack: find the incident if the subcommand needs one, then run it."""
    spec = invocation.spec
    ctx = CommandContext(
        deps=deps,
        command=deps.settings.slash_command,
        user_id=body.get("user_id", ""),
        channel_id=body.get("channel_id", ""),
        trigger_id=body.get("trigger_id", ""),
        args=invocation.args,
        parsed=invocation.parsed,
        client=client,
        respond=respond,
        spec=spec,
    )
    try:
        if spec.needs_incident:
            incident = incident_for_channel(deps, ctx.channel_id)
            if incident is None:
                request_log.set_outcome("refused", "not an incident channel")
                ctx.reply(not_an_incident_channel(deps, f"`{ctx.command} {spec.name}`"))
                return
            ctx.bind_incident(incident)
        spec.handler(ctx)
    except InvalidInput as exc:
        ctx.reply(f"{refused(exc)}\n{ctx.usage()}")
    except IncidentError as exc:
        ctx.reply(refused(exc))


@subcommand("declare", usage="declare [title]", help="Open the form to declare an incident (title prefilled).")
def declare(ctx: CommandContext) -> None:
    view = declare_modal(
        ctx.deps.runtime.process,
        services=ctx.deps.service_names(),
        title=ctx.args,
        origin_channel=ctx.channel_id,
    )
    open_modal(ctx.client, ctx.trigger_id, view, tell=ctx.reply)


@subcommand("list", usage="list", help="The open incidents, with links to their channels.", parse=no_arguments)
def list_open(ctx: CommandContext) -> None:
    ctx.reply(incidents_list(open_incidents(ctx.deps)))


@subcommand(
    "help", usage="help [command]", help="What every command does, or one of them in detail.", parse=subcommand_named
)
def help_(ctx: CommandContext) -> None:
    """Answered in the ack itself (`register`); described here so that `help` is listed and parsed."""
    raise AssertionError("help is answered in the ack")


def answer_help(command: str, topic: Subcommand | None, deps: Deps, subcommands: Subcommands) -> str:
    if topic is None:
        return help_text(command, subcommands.all(), deps.runtime.process)
    return subcommand_help(command, topic)
