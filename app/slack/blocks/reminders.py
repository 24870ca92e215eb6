"""Reminder and escalation messages. Every decision (who, how long, which stage) is in the effect payload made
by `incidents.reminders`; these functions only render it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from app.slack.blocks.text import channel, cut, date, md, user
from app.slack.ids import ReminderAction, ReminderBlock
from incidents.durations import humanize
from incidents.models import Incident
from incidents.reminders import SNOOZE_MINUTES

Payload = Mapping[str, Any]


def silence(payload: Payload) -> str:
    """`no stakeholder update for 32m 10s` / `... since it was declared 30m 00s ago` / `... since it was
    reopened 30m 00s ago`: counted from the start of the current window, never across a resolved stretch."""
    elapsed = humanize(timedelta(seconds=payload["since_update_seconds"]))
    if payload["silent_since"] in ("declared", "reopened"):
        return f"no stakeholder update since it was {payload['silent_since']} {elapsed} ago"
    return f"no stakeholder update for {elapsed}"


def _ask(payload: Payload) -> str:
    """What the message asks of whom."""
    who = payload.get("target_id")
    if not payload["needs_communicator"]:
        return f"{user(who)}, please post a stakeholder update now."
    if who:
        return (
            f"Nobody holds the communicate role. {user(who)}, please take it or give it to someone "
            "(*Assign roles* on the card), and post a stakeholder update."
        )
    return "Nobody holds the communicate role: can someone take it (*Assign roles* on the card) and post an update?"


def reminder_text(incident: Incident, payload: Payload) -> str:
    """The message's plain text (notifications, screen readers)."""
    return cut(f"{incident.ref}: {silence(payload)}. {_ask(payload)}", 3000)


def reminder_blocks(incident: Incident, payload: Payload, *, direct: bool = False) -> list[Block]:
    """The reminder: in the incident channel, or `direct`ly to the person (with a link to the channel)."""
    overdue = payload["stage"] > 1
    icon = ":rotating_light:" if overdue else ":bell:"
    headline = f"{icon} *{incident.ref}*: {silence(payload)}"
    if overdue:
        headline += f" ({payload['windows_missed']} update windows missed)"
    where = f"\nIn {channel(incident.channel_id)}: {md(incident.title, 300)}" if direct else ""
    return [
        SectionBlock(block_id=ReminderBlock.TEXT, text=MarkdownTextObject(text=f"{headline}.{where}\n{_ask(payload)}")),
        actions(incident.ref),
        _cadence_block(payload),
    ]


def escalation_blocks(incident: Incident, payload: Payload) -> list[Block]:
    """In the incident channel: every role holder is mentioned."""
    holders = list(dict.fromkeys(payload.get("holders", {}).values()))
    who = " ".join(user(h) for h in holders) if holders else "Nobody holds a role yet:"
    text = (
        f":rotating_light: *{incident.ref} is overdue for a stakeholder update*: {silence(payload)}.\n"
        f"{who} someone please post one now; the announcements channel has been told."
    )
    if payload["needs_communicator"]:
        text += "\nNobody holds the communicate role: take it with *Assign roles* on the card."
    return [
        SectionBlock(block_id=ReminderBlock.TEXT, text=MarkdownTextObject(text=text)),
        actions(incident.ref),
        _cadence_block(payload),
    ]


def escalation_text(incident: Incident, payload: Payload) -> str:
    return cut(f"{incident.ref} is overdue for a stakeholder update: {silence(payload)}.", 3000)


def overdue_blocks(incident: Incident, payload: Payload) -> list[Block]:
    """The announcement as a block that carries the window marker (the text stays the notification)."""
    text = MarkdownTextObject(text=overdue_announcement(incident, payload))
    return [SectionBlock(block_id=marker(payload), text=text)]


def overdue_announcement(incident: Incident, payload: Payload) -> str:
    """For the announcements channel. A private incident shows its reference only."""
    if payload["private"]:
        return f":warning: {incident.ref} is overdue for a stakeholder update."
    return (
        f":warning: *{incident.ref}* ({md(incident.severity, 40)}: {md(incident.title, 300)}) is overdue for a "
        f"stakeholder update: {silence(payload)}. Follow it in {channel(incident.channel_id)}."
    )


def snoozed_blocks(ref: str, *, by: str, minutes: int, until: Any) -> list[Block]:
    """What the reminder becomes once snoozed (its buttons removed)."""
    text = f":zzz: {user(by)} snoozed the {ref} update reminder for {minutes} minutes: next reminder {date(until)}."
    return [SectionBlock(block_id=ReminderBlock.TEXT, text=MarkdownTextObject(text=text))]


def actions(ref: str) -> ActionsBlock:
    return ActionsBlock(
        block_id=ReminderBlock.ACTIONS,
        elements=[
            ButtonElement(text="Post update", action_id=ReminderAction.POST_UPDATE, value=ref, style="primary"),
            StaticSelectElement(
                action_id=ReminderAction.SNOOZE,
                placeholder=PlainTextObject(text="Snooze"),
                options=[Option(value=snooze_value(ref, m), text=f"Snooze {m} minutes") for m in SNOOZE_MINUTES],
            ),
        ],
    )


def snooze_value(ref: str, minutes: int) -> str:
    return f"{ref}:{minutes}"


def parse_snooze_value(value: str) -> tuple[str, int] | None:
    ref, sep, minutes = (value or "").rpartition(":")
    if not sep or not ref or not minutes.isdigit():
        return None
    return ref, int(minutes)


def marker(payload: Payload) -> str:
    """The block id that tells this message from the reminders of other windows and stages (with the incident
    reference in its text): a retry finds the message by it when Slack's answer was lost
    (app.delivery.handlers.posted)."""
    return f"{ReminderBlock.WINDOW}:{payload['due_at']}:{payload['stage']}"


def _cadence_block(payload: Payload) -> ContextBlock:
    text = f"Stakeholder updates are due every {payload['interval_minutes']} minutes until the incident is resolved."
    return ContextBlock(block_id=marker(payload), elements=[MarkdownTextObject(text=text)])
