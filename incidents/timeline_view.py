"""Reading the timeline as people see it: visible events (unmarked messages hidden), oldest first, labelled,
whole (for the post-mortem) or a page at a time (for `/incident timeline`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incidents.models import Incident, TimelineEvent
from incidents.timeline import EventKind


@dataclass(frozen=True)
class Entry:
    id: int
    kind: str
    label: str
    occurred_at: datetime
    recorded_at: datetime
    actor_id: str | None
    text: str
    link: str | None
    data: dict[str, Any]

    @property
    def backdated(self) -> bool:
        """A note written down more than a minute after what it describes."""
        return self.kind == EventKind.NOTE and self.recorded_at - self.occurred_at > timedelta(minutes=1)

    @property
    def speaks_for_itself(self) -> bool:
        """Its sentence says what happened ("Acknowledged by ..."), so a renderer need not prefix it with its label."""
        return self.kind in SELF_DESCRIBING

    @property
    def in_thread(self) -> bool:
        return bool(self.data.get("thread_ts"))


LABELS: dict[str, str] = {
    EventKind.DECLARED: "Declared",
    EventKind.ACKNOWLEDGED: "Acknowledged",
    EventKind.MITIGATED: "Mitigated",
    EventKind.RESOLVED: "Resolved",
    EventKind.REOPENED: "Reopened",
    EventKind.MILESTONES_FILLED: "Milestones",
    EventKind.SEVERITY_CHANGED: "Severity",
    EventKind.ROLE_ASSIGNED: "Role",
    EventKind.ROLE_HANDOVER: "Handover",
    EventKind.STATUS_UPDATE: "Stakeholder update",
    EventKind.NOTE: "Note",
    EventKind.MESSAGE: "Message",
    EventKind.REMINDER_SENT: "Reminder",
    EventKind.REMINDER_SNOOZED: "Reminder snoozed",
    EventKind.UPDATE_MISSED: "Update missed",
    EventKind.ESCALATED: "Escalated",
    EventKind.OWNERS_ENGAGED: "Owners engaged",
    EventKind.FOLLOWUP_ADDED: "Follow-up",
    EventKind.FOLLOWUP_DONE: "Follow-up done",
    EventKind.SLACK_PROBLEM: "Slack problem",
    EventKind.POSTMORTEM_UPLOADED: "Post-mortem draft",
    EventKind.ALERT_ATTACHED: "Alert",
    EventKind.ALERT_RESOLVED: "Alert resolved",
    EventKind.PAGE_REQUESTED: "Page",
    EventKind.PAGE_SENT: "Paged",
    EventKind.PAGE_FAILED: "Page failed",
    EventKind.PAGE_ACKNOWLEDGED: "Page acknowledged",
    EventKind.PAGE_RESOLVED: "Page resolved",
    EventKind.CHANGES_SHOWN: "Recent changes",
    EventKind.TICKET_REQUESTED: "Ticket",
    EventKind.TICKET_CREATED: "Ticket created",
    EventKind.TICKET_FAILED: "Ticket failed",
    EventKind.TICKET_STATUS: "Ticket status",
}

SELF_DESCRIBING = frozenset(
    {
        EventKind.DECLARED,
        EventKind.ACKNOWLEDGED,
        EventKind.MITIGATED,
        EventKind.RESOLVED,
        EventKind.REOPENED,
        EventKind.MILESTONES_FILLED,
        EventKind.SEVERITY_CHANGED,
        EventKind.ROLE_ASSIGNED,
        EventKind.ROLE_HANDOVER,
        EventKind.FOLLOWUP_ADDED,
        EventKind.FOLLOWUP_DONE,
        EventKind.POSTMORTEM_UPLOADED,
        EventKind.REMINDER_SENT,
        EventKind.REMINDER_SNOOZED,
        EventKind.UPDATE_MISSED,
        EventKind.ESCALATED,
        EventKind.ALERT_ATTACHED,
        EventKind.ALERT_RESOLVED,
        EventKind.PAGE_REQUESTED,
        EventKind.PAGE_SENT,
        EventKind.PAGE_FAILED,
        EventKind.PAGE_ACKNOWLEDGED,
        EventKind.PAGE_RESOLVED,
        EventKind.TICKET_REQUESTED,
        EventKind.TICKET_CREATED,
        EventKind.TICKET_FAILED,
        EventKind.TICKET_STATUS,
        EventKind.CHANGES_SHOWN,
    }
)


def label(kind: str) -> str:
    return LABELS.get(kind) or kind.replace("_", " ").capitalize()


def visible_events(session: Session, incident: Incident) -> list[Entry]:
    """The timeline as shown: oldest first, without the messages whose marks were all removed.

    Reads plain columns rather than ORM objects: an incident with 10,000 events loads in milliseconds."""
    rows = session.execute(
        _columns()
        .where(TimelineEvent.incident_id == incident.id, TimelineEvent.removed_at.is_(None))
        .order_by(TimelineEvent.occurred_at, TimelineEvent.id)
    )
    return [_entry(row) for row in rows]


def _columns():  # type: ignore[no-untyped-def]
    return select(
        TimelineEvent.id,
        TimelineEvent.kind,
        TimelineEvent.occurred_at,
        TimelineEvent.recorded_at,
        TimelineEvent.actor_id,
        TimelineEvent.text,
        TimelineEvent.source,
        TimelineEvent.data,
    )


def _entry(row: Any) -> Entry:
    return Entry(
        id=row.id,
        kind=row.kind,
        label=label(row.kind),
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        actor_id=row.actor_id,
        text=row.text,
        link=row.source,
        data=row.data or {},
    )


@dataclass(frozen=True)
class Page:
    entries: list[Entry]  # oldest first
    number: int  # 1 is the most recent page
    pages: int
    total: int
    per_page: int

    @property
    def last(self) -> int:
        """The position of this page's newest event, counting the incident's events from 1 (the oldest)."""
        return self.total - (self.number - 1) * self.per_page

    @property
    def first(self) -> int:
        return self.last - len(self.entries) + 1

    @property
    def has_earlier(self) -> bool:
        return self.number < self.pages

    @property
    def has_later(self) -> bool:
        return self.number > 1


def timeline_page(session: Session, incident: Incident, *, page: int = 1, per_page: int = 20) -> Page:
    """Page 1 is the latest `per_page` events, page 2 the ones before, ...; each page reads oldest first, so the
    newest event is always last. A page past the end gives the earliest page."""
    visible = (TimelineEvent.incident_id == incident.id, TimelineEvent.removed_at.is_(None))
    total = session.scalar(select(func.count()).select_from(TimelineEvent).where(*visible)) or 0
    pages = max(1, -(-total // per_page))
    number = min(max(page, 1), pages)
    rows = session.execute(
        _columns()
        .where(*visible)
        .order_by(TimelineEvent.occurred_at.desc(), TimelineEvent.id.desc())
        .offset((number - 1) * per_page)
        .limit(per_page)
    ).all()
    return Page([_entry(row) for row in reversed(rows)], number, pages, total, per_page)
