"""The timeline: an append-only record of what happened, written in the same transaction as the change.

An event is a fact: its kind, who did it (`actor_id`), when, and its fields in `data` (the role, from, to, the
severities, the target, the minutes, ...). Its `text` is only what a person wrote that the event carries: a
note, a captured message (Slack's own text), a stakeholder update, a follow-up, the title at declaration; it is
empty for the rest. Sentences are written at the edge: app/words/events.py, in Slack mrkdwn, Markdown or plain
text. The fields of each kind are listed in docs/postmortem-json.md."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.models import Incident, TimelineEvent


class EventKind(enum.StrEnum):
    DECLARED = "declared"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    MILESTONES_FILLED = "milestones_filled"
    SEVERITY_CHANGED = "severity_changed"
    ROLE_ASSIGNED = "role_assigned"
    ROLE_HANDOVER = "role_handover"
    STATUS_UPDATE = "status_update"
    NOTE = "note"
    MESSAGE = "message"  # a Slack message marked as important (pinned, reacted to)
    REMINDER_SENT = "reminder_sent"
    REMINDER_SNOOZED = "reminder_snoozed"
    UPDATE_MISSED = "update_missed"  # a communication gap
    ESCALATED = "escalated"
    OWNERS_ENGAGED = "owners_engaged"
    FOLLOWUP_ADDED = "followup_added"
    FOLLOWUP_DONE = "followup_done"
    SLACK_PROBLEM = "slack_problem"
    POSTMORTEM_UPLOADED = "postmortem_uploaded"  # a draft uploaded (data: file_id, picture_file_id: its chart)
    # Connected (issue 12); their fields are listed in docs/postmortem-json.md. Text: the alert's title.
    ALERT_ATTACHED = "alert_attached"  # data: source, alert_id, service, severity, link, declared (it declared it)
    ALERT_RESOLVED = "alert_resolved"  # an attached alert stopped firing; data: source, alert_id, link
    PAGE_REQUESTED = "page_requested"  # a team is to be paged; actor: who asked (none: on declare); data: team,
    # pager (pagerduty|opsgenie), message
    PAGE_SENT = "page_sent"  # the pager accepted the page; data: team, pager, answer (the vendor's id or message)
    PAGE_FAILED = "page_failed"  # refused, or delivery given up; data: team, pager, error
    PAGE_ACKNOWLEDGED = "page_acknowledged"  # data: team, pager
    PAGE_RESOLVED = "page_resolved"  # data: team, pager
    CHANGES_SHOWN = "changes_shown"  # "what changed recently" was posted; data: services, since (ISO 8601),
    # changes (a list of {service, kind, summary, who, version, link, occurred_at}, newest first)
    # Follow-through (issue 13): tickets for follow-ups (incidents.tickets). Text: the follow-up's text.
    TICKET_REQUESTED = "ticket_requested"  # actor: who asked (none: on resolve); data: followup_id, tracker, project
    TICKET_CREATED = "ticket_created"  # data: followup_id, tracker, project, key, url
    TICKET_FAILED = "ticket_failed"  # refused, or delivery given up; data: followup_id, tracker, project, error
    TICKET_STATUS = "ticket_status"  # the tracker's status changed; data: followup_id, tracker, key, from, to,
    # done (the follow-up is done now), reopened (it was done and is open again)
    # Follow-through (issue 13): the post-mortem review meeting (incidents.review)
    REVIEW_SCHEDULED = "review_scheduled"  # data: starts_at, ends_at (ISO 8601), sequence, previous_starts_at
    REVIEW_WAIVED = "review_waived"  # text: the reason; data: was_scheduled_for (ISO 8601, or none)
    REVIEW_REMINDED = "review_reminded"  # data: stage (day_before|soon), starts_at; or stage unscheduled, lead,
    # deadline_at, nags (the lead reminded to schedule it)


def record(
    session: Session,
    incident: Incident,
    kind: EventKind,
    text: str,
    *,
    now: datetime,
    actor_id: str | None = None,
    occurred_at: datetime | None = None,
    source: str | None = None,
    source_key: str | None = None,
    data: dict[str, Any] | None = None,
) -> TimelineEvent:
    event = TimelineEvent(
        incident=incident,
        kind=kind.value,
        actor_id=actor_id,
        text=text,
        occurred_at=occurred_at or now,
        recorded_at=now,
        source=source,
        source_key=source_key,
        data=data or {},
    )
    session.add(event)
    return event


def recorded(session: Session, incident: Incident, source_key: str) -> bool:
    """Is an event with this `source_key` on the incident's timeline already? (How a fact is recorded once.)"""
    stmt = select(TimelineEvent.id).where(
        TimelineEvent.incident_id == incident.id, TimelineEvent.source_key == source_key
    )
    return session.scalar(stmt.limit(1)) is not None
