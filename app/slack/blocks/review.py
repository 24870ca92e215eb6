"""The post-mortem review in Slack's words: the messages in the incident channel (asked for, the reminders, the
daily "schedule it", waived), the comment posted with the calendar invite, the Schedule review form, and the
replies to whoever typed `review`. Times are shown in TIMEZONE, which is named."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    SectionBlock,
    TimePickerElement,
)
from slack_sdk.models.views import View

from app.slack.blocks.messages import text_blocks
from app.slack.blocks.modals import metadata
from app.slack.blocks.text import md, user
from app.slack.ids import ReviewId
from incidents.models import Incident
from incidents.review import Message
from incidents.review_time import EXAMPLES


def local(moment: datetime | str, tz: str) -> str:
    """`Tue 8 Dec 2026, 14:00 (Europe/Paris)`."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    shown = moment.astimezone(ZoneInfo(tz))
    return f"{shown:%a} {shown.day} {shown:%b %Y}, {shown:%H:%M} ({tz})"


def _day(deadline: str, tz: str) -> str:
    """The day a deadline (a local midnight) ends: `Thursday 10 December`."""
    shown = (datetime.fromisoformat(deadline) - timedelta(seconds=1)).astimezone(ZoneInfo(tz))
    return f"{shown:%A} {shown.day} {shown:%B}"


def message_text(payload: Mapping[str, Any], *, tz: str, command: str) -> str:
    """The mrkdwn of a REVIEW_MESSAGE, from its payload (a fact: `message` and its fields)."""
    ref, message = payload["ref"], payload["message"]
    how = f"`{command} review <date and time>` (like {EXAMPLES}) or *Schedule review*"
    if message == Message.ASKED:
        lead = payload.get("lead")
        who = f"{user(lead)}, please" if lead else "Please"
        return (
            f":spiral_calendar_pad: {ref} is resolved. {who} schedule its post-mortem review by the end of "
            f"{_day(payload['deadline_at'], tz)}: {how}. No review needed? `{command} review waive <reason>`."
        )
    if message == Message.UNSCHEDULED:
        lead = payload.get("lead")
        who = f"{user(lead)}, the" if lead else "The"
        return (
            f":alarm_clock: {who} post-mortem review of {ref} is not scheduled yet, and was due by the end of "
            f"{_day(payload['deadline_at'], tz)}. Schedule it with {how}, or waive it with "
            f"`{command} review waive <reason>`. I will ask again each working day."
        )
    if message == Message.DAY_BEFORE:
        when = local(payload["starts_at"], tz)
        return f":spiral_calendar_pad: Reminder: the post-mortem review of {ref} is within a day, on {when}."
    if message == Message.SOON:
        return f":bell: The post-mortem review of {ref} starts in 15 minutes, at {local(payload['starts_at'], tz)}."
    if message == Message.WAIVED:
        reason = md(str(payload.get("reason") or ""), 600)
        return f"{user(payload.get('by'))} waived the post-mortem review of {ref}: {reason}"
    raise ValueError(f"unknown review message {message!r}")


def message_blocks(payload: Mapping[str, Any], text: str, block_id: str) -> list[Block]:
    """The message's text, with a Schedule review button while the review waits to be scheduled."""
    blocks = text_blocks(text, block_id)
    if payload["message"] in (Message.ASKED, Message.UNSCHEDULED):
        button = ButtonElement(
            text="Schedule review", action_id=ReviewId.SCHEDULE, value=payload["ref"], style="primary"
        )
        blocks.append(ActionsBlock(elements=[button]))
    return blocks


def invite_comment(
    incident: Incident, *, starts_at: datetime, minutes: int, tz: str, by: str | None, cancel: bool, rescheduled: bool
) -> str:
    """What is posted with the .ics file."""
    when = local(starts_at, tz)
    if cancel:
        return (
            f":x: The post-mortem review of {incident.ref} ({when}) is called off by {user(by)}. "
            "Open the attached file to remove it from your calendar."
        )
    verb = "moved to" if rescheduled else "scheduled for"
    return (
        f":spiral_calendar_pad: The post-mortem review of {incident.ref} is {verb} *{when}*, {minutes} minutes, by "
        f"{user(by)}. Open the attached invite to add it to your calendar; reminders follow here the day before "
        "and 15 minutes before."
    )


def scheduled_reply(incident: Incident, starts_at: datetime, *, tz: str, changed: bool) -> str:
    if not changed:
        return f"The post-mortem review of {incident.ref} is already at {local(starts_at, tz)}."
    return (
        f"Post-mortem review of {incident.ref} set for {local(starts_at, tz)}; the invite is on its way to the channel."
    )


def waived_reply(incident: Incident, called_off: bool) -> str:
    cancelled = " The calendar event is cancelled." if called_off else ""
    return f"The post-mortem review of {incident.ref} is waived; the reason is on the timeline.{cancelled}"


def review_modal(incident: Incident, *, tz: str, initial: date) -> View:
    return View(
        type="modal",
        callback_id=ReviewId.FORM,
        title="Schedule review",
        submit="Schedule",
        close="Cancel",
        private_metadata=metadata({"incident": incident.ref}),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{incident.ref}*: {md(incident.title, 300)}\nThe post-mortem review, announced in the "
                    f"incident channel with a calendar invite. Times are in {tz}."
                )
            ),
            InputBlock(
                block_id=ReviewId.DATE,
                label="Day",
                element=DatePickerElement(action_id=ReviewId.DATE, initial_date=initial.isoformat()),
            ),
            InputBlock(
                block_id=ReviewId.TIME,
                label=f"Time ({tz})",
                element=TimePickerElement(action_id=ReviewId.TIME, initial_time="10:00"),
            ),
        ],
    )
