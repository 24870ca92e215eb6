"""Subcommands that act on the incident of the channel they are typed in."""

from __future__ import annotations

from app.slack.blocks.messages import roles_text, status_text
from app.slack.blocks.modals import update_modal
from app.slack.listeners.common import open_modal
from app.slack.subcommands import CommandContext, UsageError, no_arguments, parse_user, subcommand
from incidents import service
from incidents.models import Role
from incidents.process import DUTIES

ROLE_WORDS = {role.value: role for role in Role} | {"lead": Role.ACKNOWLEDGE, "ack": Role.ACKNOWLEDGE}
ROLE_NAMES = "|".join(role.value for role in Role)


def _role_and_user(args: str) -> tuple[Role, str]:
    words = args.split()
    if len(words) != 2:
        raise UsageError("Name a role and a person, like `role mitigate @dana`.")
    role = ROLE_WORDS.get(words[0].lower())
    if role is None:
        raise UsageError(f"There is no role `{words[0][:30]}`. The roles are: {', '.join(r.value for r in Role)}.")
    return role, parse_user(words[1])


def _one_word(what: str):  # type: ignore[no-untyped-def]
    def parse_word(args: str) -> str:
        words = args.split()
        if len(words) != 1:
            raise UsageError(f"Give exactly one {what}.")
        return words[0]

    return parse_word


@subcommand(
    "ack",
    aliases=("acknowledge",),
    usage="ack",
    needs_incident=True,
    parse=no_arguments,
    help='"I am looking into it": you become the incident lead (time to acknowledge is recorded).',
)
def acknowledge(ctx: CommandContext) -> None:
    process = ctx.deps.runtime.process
    incident = ctx.change(
        lambda s, i: service.acknowledge(s, i, user_id=ctx.user_id, now=ctx.deps.now(), process=process)
    )
    lead = incident.holder(Role.ACKNOWLEDGE)
    if lead == ctx.user_id:
        ctx.reply(f"You acknowledged {incident.ref} and lead it now.")
    else:
        ctx.reply(f"{incident.ref} is acknowledged; <@{lead}> leads it.")


@subcommand(
    "role",
    usage=f"role <{ROLE_NAMES}> @person",
    needs_incident=True,
    parse=_role_and_user,
    help="Give a duty to someone (handing it over from its holder); they get a short briefing.",
)
def assign_role(ctx: CommandContext) -> None:
    role, user_id = ctx.parsed
    changed = ctx.change(
        lambda s, i: service.assign_role(s, i, role=role, user_id=user_id, by=ctx.user_id, now=ctx.deps.now())
    )
    title = DUTIES[role][0]
    if changed:
        ctx.reply(f"<@{user_id}> now holds the {title} role ({role.value}) in {ctx.incident.ref}.")  # type: ignore[union-attr]
    else:
        ctx.reply(f"<@{user_id}> already holds the {title} role ({role.value}).")


@subcommand("roles", usage="roles", needs_incident=True, parse=no_arguments, help="Who holds each duty.")
def roles(ctx: CommandContext) -> None:
    ctx.reply(roles_text(ctx.incident))  # type: ignore[arg-type]


@subcommand(
    "sev",
    aliases=("severity",),
    usage="sev <severity>",
    needs_incident=True,
    parse=_one_word("severity, like SEV2"),
    help="Change the severity.",
)
def severity(ctx: CommandContext) -> None:
    process = ctx.deps.runtime.process
    changed = ctx.change(
        lambda s, i: service.change_severity(
            s, i, severity=ctx.parsed, by=ctx.user_id, now=ctx.deps.now(), process=process
        )
    )
    name = process.severity(ctx.parsed).name
    ctx.reply(f"Severity changed to {name}." if changed else f"{ctx.incident.ref} is already {name}.")  # type: ignore[union-attr]


@subcommand(
    "update",
    usage="update [text]",
    needs_incident=True,
    help="Post a stakeholder update (without text: open the update form).",
)
def update(ctx: CommandContext) -> None:
    if not ctx.args:
        open_modal(ctx.client, ctx.trigger_id, update_modal(ctx.incident), tell=ctx.reply)  # type: ignore[arg-type]
        return
    process = ctx.deps.runtime.process
    ctx.change(
        lambda s, i: service.post_status_update(
            s, i, text=ctx.args, author_id=ctx.user_id, now=ctx.deps.now(), process=process
        )
    )
    # Queued, not posted yet: if Slack never takes it, the author is told (app.delivery.handlers.dead_letters).
    ctx.reply(f"Update saved for {ctx.incident.ref} and on its way to the channel; the update clock restarts.")  # type: ignore[union-attr]


@subcommand(
    "mitigated",
    aliases=("mitigate",),
    usage="mitigated",
    needs_incident=True,
    parse=no_arguments,
    help="Service is restored (the root cause may still be unknown).",
)
def mitigated(ctx: CommandContext) -> None:
    changed = ctx.change(lambda s, i: service.mark_mitigated(s, i, by=ctx.user_id, now=ctx.deps.now()))
    ref = ctx.incident.ref  # type: ignore[union-attr]
    ctx.reply(f"{ref} is marked mitigated." if changed else f"{ref} is already mitigated.")


@subcommand(
    "resolve", usage="resolve", needs_incident=True, parse=no_arguments, help="The incident is over: reminders stop."
)
def resolve(ctx: CommandContext) -> None:
    process = ctx.deps.runtime.process
    changed = ctx.change(lambda s, i: service.resolve(s, i, by=ctx.user_id, now=ctx.deps.now(), process=process))
    ref = ctx.incident.ref  # type: ignore[union-attr]
    ctx.reply(f"{ref} is resolved." if changed else f"{ref} is already resolved.")


@subcommand(
    "reopen",
    usage="reopen",
    needs_incident=True,
    parse=no_arguments,
    help="The problem is back: reopen a resolved incident.",
)
def reopen(ctx: CommandContext) -> None:
    process = ctx.deps.runtime.process
    ctx.change(lambda s, i: service.reopen(s, i, by=ctx.user_id, now=ctx.deps.now(), process=process))
    ctx.reply(f"{ctx.incident.ref} is reopened.")  # type: ignore[union-attr]


# `note` (with backdating) lives in app.slack.listeners.timeline_commands, with the rest of the timeline.


@subcommand(
    "status",
    usage="status",
    needs_incident=True,
    parse=no_arguments,
    help="Where the incident stands: severity, status, last update, roles.",
)
def status(ctx: CommandContext) -> None:
    ctx.reply(status_text(ctx.incident))  # type: ignore[arg-type]
