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
