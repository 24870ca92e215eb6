"""The triage channel's message for an alert: its title, severity, service, a labels summary, its link and a
**Declare incident** button (value: the alert's id). Once an incident is declared from it, the message says
which one instead of offering the button. Within Block Kit's limits: section text 3,000 characters, a button's
URL 3,000, a context element 2,000."""

from __future__ import annotations

from collections.abc import Mapping

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from app.slack.blocks.text import channel, cut, date, md
from app.slack.ids import AlertAction, AlertBlock
from incidents.models import Alert, Incident

LABELS_SHOWN = 12
LINK_MAX = 3000


def summary_block_id(alert_id: int) -> str:
    return f"{AlertBlock.SUMMARY}:{alert_id}"


def labels_summary(labels: Mapping[str, str], *, skip: tuple[str, ...] = ()) -> str:
    shown = [(k, v) for k, v in sorted(labels.items()) if k not in skip]
    text = ", ".join(f"{cut(str(k), 40)}={cut(str(v), 80)}" for k, v in shown[:LABELS_SHOWN])
    if len(shown) > LABELS_SHOWN:
        text += f" (+{len(shown) - LABELS_SHOWN} more)"
    return text


def triage_text(alert: Alert) -> str:
    """The notification text (and what a retry finds the message by: the alert's id)."""
    return cut(f"Alert #{alert.id} from {alert.source} ({alert.severity}): {alert.title}", 3000)


def triage_blocks(alert: Alert, incident: Incident | None = None) -> list[Block]:
    facts = [f"*Severity* {md(alert.severity or '-', 40)}", f"*Service* {md(alert.service or 'unknown', 200)}"]
    text = (
        f":rotating_light: *{md(alert.title, 600)}*\n"
        f"{' · '.join(facts)} · from {md(alert.source, 60)} (alert #{alert.id})"
    )
    description = str((alert.details or {}).get("description") or "")
    if description:
        text += "\n" + md(description, 1500)
    blocks: list[Block] = [SectionBlock(block_id=summary_block_id(alert.id), text=MarkdownTextObject(text=text))]
    labels = labels_summary(alert.labels or {})
    if labels:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=md(f"Labels: {labels}", 1900))]))
    if incident is None and alert.resolved_at is not None:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f":large_green_circle: Stopped firing {date(alert.resolved_at)}; no incident was declared."
                    )
                ]
            )
        )
    if incident is not None:
        blocks.append(
            SectionBlock(
                block_id=AlertBlock.ACTIONS,
                text=MarkdownTextObject(
                    text=f":white_check_mark: Declared as *{incident.ref}*: {channel(incident.channel_id)}"
                ),
            )
        )
        return blocks
    elements = [
        ButtonElement(action_id=AlertAction.DECLARE, text="Declare incident", value=str(alert.id), style="danger")
    ]
    if alert.link and len(alert.link) <= LINK_MAX and alert.link.startswith(("http://", "https://")):
        elements.append(ButtonElement(action_id=AlertAction.OPEN_LINK, text="Open in source", url=alert.link))
    blocks.append(ActionsBlock(block_id=AlertBlock.ACTIONS, elements=elements))
    return blocks


def already_declared_text(incident: Incident) -> str:
    return f"This alert is already {incident.ref}: {channel(incident.channel_id)}."
