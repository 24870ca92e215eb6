"""The stakeholder-update clock kept on the incident row (see incidents/reminders for the engine)."""

from __future__ import annotations

from datetime import datetime

from incidents.models import Incident
from incidents.process import Process


def restart_update_clock(incident: Incident, *, now: datetime, process: Process) -> None:
    """An update is due one interval from now; no reminder sent for this window yet."""
    incident.next_update_due_at = now + process.interval_for(incident.severity)
    incident.snoozed_until = None
    incident.reminder_stage = 0
    incident.next_reminder_at = incident.next_update_due_at


def stop_update_clock(incident: Incident) -> None:
    incident.next_update_due_at = None
    incident.snoozed_until = None
    incident.reminder_stage = 0
    incident.next_reminder_at = None


def next_action_at(incident: Incident, process: Process) -> datetime | None:
    """When the reminder engine must look at the incident next: the due time for the first reminder (stage 0),
    then one interval later for each stage reached (stage k acts at due + k intervals)."""
    due = incident.next_update_due_at
    if due is None or not incident.is_open:
        return None
    return due + incident.reminder_stage * process.interval_for(incident.severity)


def change_cadence(incident: Incident, *, old_severity: str, now: datetime, process: Process) -> None:
    """A new severity may carry another interval: the current window keeps its start and takes the new length.

    A snoozed due time stays where the person put it. When the due time moves past `now`, the reminder already
    sent for this window is forgotten, so the new due time reminds again."""
    due = incident.next_update_due_at
    if due is None or not incident.is_open:
        return
    if incident.snoozed_until is None:
        due = due - process.interval_for(old_severity) + process.interval_for(incident.severity)
    incident.next_update_due_at = due
    if due > now:
        incident.reminder_stage = 0
    incident.next_reminder_at = next_action_at(incident, process)
