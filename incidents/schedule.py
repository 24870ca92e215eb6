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


def window_start(incident: Incident) -> tuple[datetime, str]:
    """When the current update window began, and why: "declared", "updated" or "reopened" (the latest of the
    three). A snooze or a new severity moves the due time, not the start: silence is counted from here."""
    moments = [(incident.declared_at, "declared")]
    if incident.last_update_at is not None:
        moments.append((incident.last_update_at, "updated"))
    if incident.reopened_at is not None:
        moments.append((incident.reopened_at, "reopened"))
    return max(moments, key=lambda moment: moment[0])


def change_cadence(incident: Incident, *, old_severity: str, now: datetime, process: Process) -> None:
    """A new severity may carry another interval: the current window keeps its start and takes the new length
    (a snoozed due time stays where the person put it), and the reminders of this window start over.

    A due time the new interval puts at or before `now` becomes `now`: the communicator is reminded first and
    the escalation follows one new interval later. Windows are only ever counted under the interval in force
    while they ran, so a shorter cadence never turns the past into missed windows."""
    due = incident.next_update_due_at
    old, new = process.interval_for(old_severity), process.interval_for(incident.severity)
    if due is None or not incident.is_open or old == new:
        return
    if incident.snoozed_until is None:
        due = window_start(incident)[0] + new
    incident.next_update_due_at = max(due, now)
    incident.reminder_stage = 0
    incident.next_reminder_at = next_action_at(incident, process)
