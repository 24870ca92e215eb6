"""The reminder's controls: "Post update" opens the update modal; "Snooze" moves the due time 15/30/60 minutes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from app.slack.blocks.modals import update_modal
from app.slack.blocks.reminders import parse_snooze_value, snoozed_blocks
from app.slack.blocks.text import date
from app.slack.deps import Deps
from app.slack.ids import ReminderAction
from app.slack.listeners.common import change_incident, ephemeral, open_incident_form
from incidents import reminders
from incidents.models import Incident


def register(app: App, deps: Deps) -> None:
    @app.action(ReminderAction.POST_UPDATE)
    def on_post_update(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        open_incident_form(deps, client, body, respond, action.get("value", ""), update_modal)

    @app.action(ReminderAction.SNOOZE)
    def on_snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        parsed = parse_snooze_value((action.get("selected_option") or {}).get("value", ""))
        if parsed is None:
            ephemeral(respond)("That snooze picker is not attached to an incident.")
            return
        ref, minutes = parsed
        user_id = body["user"]["id"]

        def snooze(session: Session, incident: Incident) -> tuple[bool, datetime | None]:
            snoozed = reminders.snooze(session, incident, minutes=minutes, by=user_id, now=deps.now())
            return snoozed, incident.next_update_due_at

        outcome = change_incident(deps, ref, snooze, refuse=ephemeral(respond))
        if outcome is None:
            return
        snoozed, due = outcome
        if not snoozed:
            when = date(due) if due else "later"
            ephemeral(respond)(f"Nothing to snooze: {ref}'s next stakeholder update is due {when} already.")
            return
        respond(
            replace_original=True,
            text=f"{ref}: reminder snoozed for {minutes} minutes by <@{user_id}>.",
            blocks=[b.to_dict() for b in snoozed_blocks(ref, by=user_id, minutes=minutes, until=due)],
        )
