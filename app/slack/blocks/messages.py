"""Plain messages: the stakeholder update, the role briefing, replies to commands."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from app.slack.blocks.card import status_label
from app.slack.blocks.text import channel, date, md, user
from app.slack.ids import MessageBlock
from incidents.models import Incident, Role, StatusUpdate
from incidents.process import DUTIES

SECTION_MAX = 3000  # characters of a section block's text


def text_blocks(text: str, block_id: str) -> list[Block]:
    """A message's mrkdwn text as section blocks (cut at line ends where it can be), the first one `block_id`:
    the text stays the notification, the block id lets a retry find the message (app.delivery.handlers.posted)."""
    chunks: list[str] = []
    for line in (text or " ").split("\n"):
        while len(line) > SECTION_MAX:
            chunks.append(line[:SECTION_MAX])
            line = line[SECTION_MAX:]
        if chunks and len(chunks[-1]) + 1 + len(line) <= SECTION_MAX:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    return [
        SectionBlock(block_id=block_id if i == 0 else None, text=MarkdownTextObject(text=chunk or " "))
        for i, chunk in enumerate(chunks)
    ]


def message_block_id(outbox_id: int) -> str:
    """The block id of a plain message queued as outbox row `outbox_id` (unique among all the bot's messages)."""
    return f"{MessageBlock.TEXT}:{outbox_id}"


def update_block_id(update: StatusUpdate) -> str:
    return f"{MessageBlock.UPDATE}:{update.id}"


def update_blocks(incident: Incident, update: StatusUpdate) -> list[Block]:
    parts = [f":mega: *Stakeholder update for {incident.ref}* · {md(incident.severity, 40)} · {status_label(incident)}"]
    parts.append(md(update.text, 2500))
    fields = []
    if update.impact:
        fields.append(MarkdownTextObject(text="*Impact*\n" + md(update.impact, 1900)))
    if update.next_steps:
        fields.append(MarkdownTextObject(text="*Next steps*\n" + md(update.next_steps, 1900)))
    if update.eta:
        fields.append(MarkdownTextObject(text="*ETA*\n" + md(update.eta, 400)))
    header = SectionBlock(block_id=update_block_id(update), text=MarkdownTextObject(text="\n".join(parts)))
    blocks: list[Block] = [header]
    if fields:
        blocks.append(SectionBlock(fields=fields))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Posted by {user(update.author_id)}")]))
    return blocks


def update_text(incident: Incident, update: StatusUpdate) -> str:
    return md(f"Stakeholder update for {incident.ref}: {update.text}", 3000)


def briefing_text(incident: Incident, role: Role, *, by: str | None, user_id: str) -> str:
    title, duty = DUTIES[role]
    who = "You took" if by in (None, user_id) else f"{user(by)} gave you"
    return f"{who} the *{title}* role ({role.value}) in *{incident.ref}* ({channel(incident.channel_id)}).\n{duty}"


def channel_failure_text(incident: Incident, reason: str, *, step: str = "create the channel") -> str:
    what = "creating its channel" if incident.channel_id is None else f"setting up its channel (could not {step})"
    return (
        f"{incident.ref} is recorded, but {what} failed because {reason}. "
        "The bot keeps retrying; nothing you entered is lost."
    )


def channel_ready_text(incident: Incident) -> str:
    return f"{incident.ref}'s channel is ready now: {channel(incident.channel_id)}."


def incident_line(incident: Incident) -> str:
    if incident.private:
        return f"• *{incident.ref}* · {md(incident.severity, 40)} · private incident"
    return (
        f"• *{incident.ref}* · {md(incident.severity, 40)} · {incident.status} · {md(incident.title, 200)}"
        f" · {channel(incident.channel_id)}"
    )


def incidents_list(incidents: Sequence[Incident], *, limit: int = 40) -> str:
    if not incidents:
        return "No open incidents."
    lines = [incident_line(i) for i in incidents[:limit]]
    more = len(incidents) - limit
    if more > 0:
        lines.append(f"…and {more} more.")
    return "*Open incidents*\n" + "\n".join(lines)


def roles_text(incident: Incident) -> str:
    lines = [f"*Roles in {incident.ref}*"]
    for role in Role:
        lines.append(f"• *{DUTIES[role][0]}* ({role.value}): {user(incident.holder(role))}")
    return "\n".join(lines)


def status_text(incident: Incident) -> str:
    lines = [
        f"*{incident.ref}*: {md(incident.title, 300)}",
        f"{md(incident.severity, 40)} · {status_label(incident)} · declared {date(incident.declared_at)}",
    ]
    last = incident.last_update
    if last is not None:
        lines.append(f"Last update {date(last.posted_at)}: {md(last.text, 500)}")
    if incident.next_update_due_at is not None:
        lines.append(f"Next update due {date(incident.next_update_due_at, '{time}')}.")
    return "\n".join(lines) + "\n" + roles_text(incident)
