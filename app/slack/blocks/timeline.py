"""The timeline in Slack (one page, newest last) and the follow-up list with its Done buttons."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, tzinfo

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from app.slack.blocks.facts import event_mrkdwn
from app.slack.blocks.text import date, md, one_line, user
from app.slack.ids import TicketAction, TimelineAction
from incidents.models import FollowUp, Incident, Ticket, TicketStatus
from incidents.timeline_view import Entry, Page

LINE_TEXT_MAX = 300
SECTION_MAX = 2900
FOLLOWUPS_SHOWN = 40
BLOCKS_MAX = 50  # Slack's limit for one message


def timeline_text(incident: Incident, page: Page) -> str:
    """The notification fallback."""
    return f"{incident.ref} timeline, page {page.number} of {page.pages}"


def timeline_blocks(incident: Incident, page: Page, *, tz: tzinfo, command: str) -> list[Block]:
    if not page.entries:
        return [SectionBlock(text=MarkdownTextObject(text=f"*{incident.ref} timeline*\nNothing on it yet."))]
    blocks: list[Block] = [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"*{incident.ref} timeline* · events {page.first}–{page.last} of {page.total} · "
                    f"page {page.number} of {page.pages}, newest last"
                )
            ]
        )
    ]
    days = {_day(e.occurred_at, tz) for e in page.entries} | {_day(incident.declared_at, tz)}
    fmt = "{date_short} {time}" if len(days) > 1 else "{time}"
    blocks += [
        SectionBlock(text=MarkdownTextObject(text=chunk))
        for chunk in _chunks(_line(e, fmt, incident.ref) for e in page.entries)
    ]
    buttons = []
    if page.has_earlier:
        buttons.append(
            ButtonElement(text="Earlier", action_id=TimelineAction.PAGE, value=f"{incident.ref}:{page.number + 1}")
        )
    if page.has_later:
        buttons.append(
            ButtonElement(text="Later", action_id=TimelineAction.PAGE, value=f"{incident.ref}:{page.number - 1}")
        )
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    if page.pages > 1:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"Or type `{command} timeline <page>`; page 1 is the latest.")]
            )
        )
    return blocks


def _day(moment: datetime, tz: tzinfo) -> object:
    return moment.astimezone(tz).date()


def _line(entry: Entry, fmt: str, ref: str) -> str:
    when = date(entry.occurred_at, fmt)
    text = md(one_line(event_mrkdwn(entry, ref=ref)), LINE_TEXT_MAX)
    if entry.kind == "note":
        intro = f"Note by {user(entry.actor_id)}" + (" (added later)" if entry.backdated else "")
    elif entry.kind == "message":
        intro = user(entry.actor_id, "someone") + (" in a thread" if entry.in_thread else "")
    elif entry.kind == "status_update":
        intro = f"Stakeholder update by {user(entry.actor_id)}"
    else:
        intro = "" if entry.speaks_for_itself else entry.label
    link = f" <{entry.link}|view>" if entry.link else ""
    return f"*{when}* " + (f"{intro}: " if intro else "") + text + link


def _chunks(lines: Iterable[str]) -> list[str]:
    """Lines joined into section texts that fit Slack's 3,000 characters."""
    chunks, current = [], ""
    for line in lines:
        if current and len(current) + 1 + len(line) > SECTION_MAX:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


# --- follow-ups ---------------------------------------------------------------------------------------------


def followups_text(incident: Incident, followups: Sequence[FollowUp]) -> str:
    open_ = sum(not f.done for f in followups)
    return f"{incident.ref}: {len(followups)} follow-up actions, {open_} open"


def followups_blocks(
    incident: Incident,
    followups: Sequence[FollowUp],
    *,
    command: str,
    tickets: Mapping[int, Ticket] | None = None,
    can_ticket: bool = False,
) -> list[Block]:
    """The list; with `tickets` (by follow-up id) each shows its ticket, and with `can_ticket` an open follow-up
    without one gets a Create ticket button."""
    tickets = tickets or {}
    if not followups:
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*Follow-up actions for {incident.ref}*\nNone yet: add one with "
                    f"`{command} followup <what needs doing> @owner`."
                )
            )
        ]
    open_ = sum(not f.done for f in followups)
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*Follow-up actions for {incident.ref}* · {open_} open, {len(followups) - open_} done"
            )
        )
    ]
    shown = 0
    for followup in list(followups)[:FOLLOWUPS_SHOWN]:
        if len(blocks) >= BLOCKS_MAX - 3:
            break
        shown += 1
        owner = f" · {user(followup.owner_id)}" if followup.owner_id else " · _no owner yet_"
        ticket = tickets.get(followup.id)
        about = ticket_mrkdwn(ticket, followup_done=followup.done) if ticket is not None else ""
        if followup.done:
            text = f":white_check_mark: ~{md(followup.text, 2000)}~{owner} · done {date(followup.done_at)}{about}"  # type: ignore[arg-type]
            blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
            continue
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=f":white_square: {md(followup.text, 2000)}{owner}{about}"),
                accessory=ButtonElement(
                    text="Done",
                    action_id=TimelineAction.FOLLOWUP_DONE,
                    value=f"{incident.ref}:{followup.id}",
                    style="primary",
                ),
            )
        )
        if can_ticket and (ticket is None or ticket.status == TicketStatus.FAILED.value or stopped(ticket)):
            label = (
                "Create ticket"
                if ticket is None
                else "Follow ticket again"
                if stopped(ticket)
                else "Create ticket again"
            )
            blocks.append(
                ActionsBlock(
                    block_id=f"followup_ticket:{followup.id}",
                    elements=[
                        ButtonElement(
                            text=label,
                            action_id=TicketAction.CREATE,
                            value=f"{incident.ref}:{followup.id}",
                        )
                    ],
                )
            )
    hidden = len(followups) - shown
    if hidden > 0:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"…and {hidden} more: the post-mortem export lists them all.")]
            )
        )
    return blocks


def ticket_mrkdwn(ticket: Ticket, *, followup_done: bool = False) -> str:
    """` · <url|OPS-12> (In Progress)`, ` · ticket on its way`, ` · ticket not created: reason`."""
    if ticket.status == TicketStatus.FAILED.value:
        return f" · :warning: ticket not created: {md(one_line(ticket.last_error or 'it failed'), 300)}"
    if not ticket.key:
        return " · ticket on its way" + (
            f" (retrying: {md(one_line(ticket.last_error), 200)})" if ticket.last_error else ""
        )
    link = f"<{ticket.url}|{md(ticket.key, 200)}>" if ticket.url else md(ticket.key, 200)
    status = ticket.remote_status or ticket.status
    still = " (still open there)" if followup_done and ticket.status == TicketStatus.OPEN.value else ""
    trouble = ""
    if ticket.last_error and ticket.status == TicketStatus.OPEN.value:
        what = "not followed any more" if stopped(ticket) else "could not be read"
        trouble = f" · :warning: {what}: {md(one_line(ticket.last_error), 200)}"
    return f" · {link} ({md(status, 100)}){still}{trouble}"


def stopped(ticket: Ticket | None) -> bool:
    """An open ticket no longer polled (its tracker said it was gone): Follow ticket again re-arms it."""
    return (
        ticket is not None and bool(ticket.key) and ticket.status == TicketStatus.OPEN.value and not ticket.next_sync_at
    )


def parse_ref_value(value: str) -> tuple[str, int] | None:
    """`INC-12:3` -> ("INC-12", 3); None when malformed."""
    ref, sep, number = (value or "").rpartition(":")
    if not sep or not ref or not number.isdigit():
        return None
    return ref, int(number)
