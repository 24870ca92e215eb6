"""The incident card: one message in the incident channel, redrawn after every change."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from app.slack.blocks.text import cut, date, md, user
from app.slack.ids import CardAction, CardBlock, TimelineAction
from incidents.models import Incident, Role, Status
from incidents.process import DUTIES, Process

STATUS_LABEL = {
    Status.TRIAGE: ":large_orange_circle: Triage",
    Status.ACKNOWLEDGED: ":large_yellow_circle: Acknowledged",
    Status.MITIGATED: ":large_blue_circle: Mitigated",
    Status.RESOLVED: ":white_check_mark: Resolved",
}


def status_label(incident: Incident) -> str:
    return STATUS_LABEL.get(Status(incident.status), incident.status)


def card_text(incident: Incident) -> str:
    """The notification fallback of the card: mrkdwn like the blocks, so user text is escaped (a `<!channel>` in a
    title must not ping anyone)."""
    return md(f"{incident.ref} ({incident.severity}, {incident.status}): {incident.title}", 3000)


def card_blocks(incident: Incident, process: Process, *, interactive: bool = True) -> list[Block]:
    blocks: list[Block] = [
        HeaderBlock(
            block_id=CardBlock.HEADER,
            text=PlainTextObject(text=cut(f"{incident.ref}: {incident.title}", 150), emoji=False),
        ),
        SectionBlock(block_id=CardBlock.FACTS, fields=_facts(incident, process)),
    ]
    if incident.summary:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="*Impact*\n" + md(incident.summary, 2900))))
    blocks += [
        DividerBlock(),
        SectionBlock(block_id=CardBlock.ROLES, fields=_roles(incident)),
        SectionBlock(block_id=CardBlock.UPDATE, text=MarkdownTextObject(text=_update_text(incident))),
    ]
    followups = _followups_line(incident)
    if followups:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=followups)]))
    if interactive:
        blocks.append(ActionsBlock(block_id=CardBlock.ACTIONS, elements=_actions(incident, process)))
    if incident.private:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=":lock: Private incident.")]))
    return blocks


def _facts(incident: Incident, process: Process) -> list[MarkdownTextObject]:
    meaning = next((s.meaning for s in process.severities if s.name == incident.severity), "")
    fields = [
        f"*Severity*\n{md(incident.severity, 40)}" + (f" — {md(meaning, 400)}" if meaning else ""),
        f"*Status*\n{status_label(incident)}",
        f"*Declared*\n{date(incident.declared_at)} by {user(incident.reporter_id, missing='an alert')}",
    ]
    if incident.services:
        fields.append("*Services*\n" + md(", ".join(incident.services), 1900))
    return [MarkdownTextObject(text=f) for f in fields]


def _followups_line(incident: Incident) -> str:
    """`:clipboard: Follow-ups: 2 open, 1 done` (a follow-up with a ticket is done when its ticket is)."""
    followups = incident.__dict__.get("followups")  # loaded with the incident (incidents.queries), else not shown
    if not followups:
        return ""
    open_ = sum(not f.done for f in followups)
    return f":clipboard: Follow-ups: {open_} open, {len(followups) - open_} done"


def _roles(incident: Incident) -> list[MarkdownTextObject]:
    return [
        MarkdownTextObject(text=f"*{DUTIES[role][0]}* ({role.value})\n{user(incident.holder(role))}") for role in Role
    ]


def _update_text(incident: Incident) -> str:
    last = incident.last_update
    if last is None:
        text = "*Stakeholder update*\nNone yet."
    else:
        text = f"*Last stakeholder update* ({date(last.posted_at)}, {user(last.author_id)})\n{md(last.text, 2000)}"
    if incident.status == Status.RESOLVED and incident.resolved_at is not None:
        text += f"\nResolved {date(incident.resolved_at)}."
    elif incident.next_update_due_at is not None:
        text += f"\nNext update due {date(incident.next_update_due_at, '{time}')}."
        if incident.reminder_stage:  # the reminders engine redraws the card at each reminder and escalation
            text += " :warning: *Overdue*: reminders sent."
    return text


def _actions(incident: Incident, process: Process) -> list:
    ref = incident.ref
    resolved = incident.status == Status.RESOLVED
    elements: list = []
    if incident.acknowledged_at is None:
        elements.append(ButtonElement(text="Acknowledge", action_id=CardAction.ACKNOWLEDGE, value=ref, style="primary"))
    if not resolved:
        elements.append(ButtonElement(text="Assign roles", action_id=CardAction.ASSIGN_ROLES, value=ref))
    elements.append(ButtonElement(text="Post update", action_id=CardAction.POST_UPDATE, value=ref))
    if resolved:
        elements.append(ButtonElement(text="Post-mortem draft", action_id=TimelineAction.POSTMORTEM, value=ref))
        return elements
    elements.append(
        StaticSelectElement(
            action_id=CardAction.CHANGE_SEVERITY,
            placeholder=PlainTextObject(text="Change severity"),
            options=[severity_option(s.name, s.meaning, ref=ref) for s in process.severities[:100]],
        )
    )
    if incident.status != Status.MITIGATED:  # after a reopen too: it can be mitigated again
        elements.append(ButtonElement(text="Mark mitigated", action_id=CardAction.MARK_MITIGATED, value=ref))
    if incident.services:  # the owning teams come from the ownership map (app.slack.listeners.pages)
        elements.append(ButtonElement(text="Page owners", action_id=CardAction.PAGE_OWNERS, value=ref))
    elements.append(
        ButtonElement(
            text="Resolve",
            action_id=CardAction.RESOLVE,
            value=ref,
            style="danger",
            confirm=ConfirmObject(
                title="Resolve the incident?",
                text=cut(f"{ref} will be marked resolved and reminders stop. You can reopen it later.", 300),
                confirm="Resolve",
                deny="Not yet",
            ),
        )
    )
    return elements


def severity_option(name: str, meaning: str, *, ref: str | None = None) -> Option:
    """`value` is the severity name (`INC-12:SEV1` on the card, which serves many incidents); the label says
    what it means."""
    value = f"{ref}:{name}" if ref else name
    return Option(value=cut(value, 150), text=cut(f"{name} — {meaning}" if meaning else name, 75))


def parse_severity_value(value: str) -> tuple[str | None, str]:
    """(incident reference or None, severity name) from a severity option's value."""
    ref, sep, name = value.rpartition(":")
    return (ref or None, name) if sep else (None, value)
