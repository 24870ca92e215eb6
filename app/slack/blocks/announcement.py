"""The announcement in the announcements channel, kept in step with the card. A private incident's
announcement shows its reference and severity and nothing else."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from app.slack.blocks.card import status_label
from app.slack.blocks.text import channel, md
from app.slack.ids import AnnouncementBlock
from incidents.models import Incident, Status


def announcement_text(incident: Incident) -> str:
    if incident.private:
        return f"{incident.ref} ({incident.severity}) declared: a private incident."
    return md(f"{incident.ref} ({incident.severity}, {incident.status}): {incident.title}", 3000)


def announcement_blocks(incident: Incident) -> list[Block]:
    if incident.private:
        text = f":lock: *{incident.ref}* · {md(incident.severity, 40)} · private incident"
    else:
        icon = ":white_check_mark:" if incident.status == Status.RESOLVED else ":rotating_light:"
        text = (
            f"{icon} *{incident.ref}* · {md(incident.severity, 40)} · {status_label(incident)}\n"
            f"*{md(incident.title, 600)}*\n"
            f"Follow along in {channel(incident.channel_id)}."
        )
    return [SectionBlock(block_id=AnnouncementBlock.SUMMARY, text=MarkdownTextObject(text=text))]
