"""SQLAlchemy 2 typed models. Every schema change ships as an Alembic migration in incidents/migrations."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Status(enum.StrEnum):
    TRIAGE = "triage"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"


class Role(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"
    MITIGATE = "mitigate"
    INVESTIGATE = "investigate"
    COMMUNICATE = "communicate"


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=Status.TRIAGE.value)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    reporter_id: Mapped[str] = mapped_column(String(64))
    # A client-chosen key that makes declaring idempotent (a Slack view id, a retried submission).
    declare_key: Mapped[str | None] = mapped_column(String(255), unique=True)

    # Slack coordinates, filled by the outbox when the effects are delivered.
    channel_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    channel_name: Mapped[str | None] = mapped_column(String(80))
    card_ts: Mapped[str | None] = mapped_column(String(32))
    announcement_channel_id: Mapped[str | None] = mapped_column(String(64))
    announcement_ts: Mapped[str | None] = mapped_column(String(32))

    declared_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mitigated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the latest reopening, if any
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # Stakeholder-update schedule (the reminders feature). `next_reminder_at` is the one instant the scheduler
    # must act next; NULL when nothing is scheduled (resolved). Indexed so a tick only reads the due rows.
    last_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_update_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminder_stage: Mapped[int] = mapped_column(Integer, default=0)
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="incident", order_by="RoleAssignment.id", cascade="all, delete-orphan"
    )
    updates: Mapped[list[StatusUpdate]] = relationship(
        back_populates="incident", order_by="StatusUpdate.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[TimelineEvent]] = relationship(
        back_populates="incident",
        order_by="(TimelineEvent.occurred_at, TimelineEvent.id)",
        cascade="all, delete-orphan",
    )
    followups: Mapped[list[FollowUp]] = relationship(
        back_populates="incident", order_by="FollowUp.id", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_incidents_status", "status"),)

    @property
    def ref(self) -> str:
        return f"INC-{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status != Status.RESOLVED

    def holder(self, role: Role) -> str | None:
        for assignment in self.roles:
            if assignment.role == role and assignment.ended_at is None:
                return assignment.user_id
        return None

    def holders(self) -> dict[Role, str | None]:
        return {role: self.holder(role) for role in Role}

    @property
    def last_update(self) -> StatusUpdate | None:
        return self.updates[-1] if self.updates else None


class RoleAssignment(Base):
    """One person holding one duty for a while. The current holder has `ended_at` NULL."""

    __tablename__ = "role_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str] = mapped_column(String(64))
    assigned_by: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    incident: Mapped[Incident] = relationship(back_populates="roles")

    __table_args__ = (
        Index(
            "uq_role_assignments_current",
            "incident_id",
            "role",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )


class StatusUpdate(Base):
    """A stakeholder update."""

    __tablename__ = "status_updates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    impact: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    eta: Mapped[str] = mapped_column(String(200), default="")
    author_id: Mapped[str] = mapped_column(String(64))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())

    incident: Mapped[Incident] = relationship(back_populates="updates")


class TimelineEvent(Base):
    """An append-only entry of the incident's timeline.

    `source_key` identifies an external source (a Slack message) so that marking it twice stores it once;
    `removed_at` hides an entry whose source was unmarked (unpinned), without deleting history.
    """

    __tablename__ = "timeline_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str | None] = mapped_column(String(500))
    source_key: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    incident: Mapped[Incident] = relationship(back_populates="events")

    __table_args__ = (
        Index("ix_timeline_events_incident_occurred", "incident_id", "occurred_at"),
        UniqueConstraint("incident_id", "source_key", name="uq_timeline_events_source"),
    )


class MessageMark(Base):
    """Who marked a captured Slack message as important, and how (a pin, or a reaction by one user)."""

    __tablename__ = "message_marks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("timeline_events.id", ondelete="CASCADE"), index=True)
    mark: Mapped[str] = mapped_column(String(120))

    __table_args__ = (UniqueConstraint("event_id", "mark", name="uq_message_marks_event_mark"),)


class FollowUp(Base):
    __tablename__ = "followups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    incident: Mapped[Incident] = relationship(back_populates="followups")


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


class OutboxMessage(Base):
    """A side effect (a Slack call) written in the same transaction as the change that causes it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Same key, same effect: enqueueing it twice stores it once.
    key: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A claim is a lease: the worker that holds `claim_token` owns the message until `locked_until`.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_outbox_incident_id", "incident_id"),
    )


class Counter(Base):
    """Sequences kept in the database (the INC-<n> number), so every replica draws from one."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class SeenRequest(Base):
    """Keys of inbound requests already handled (Events API event ids, retried clicks)."""

    __tablename__ = "seen_requests"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


# --- Connected: alerts in, pages out, change events (migration 0003) ---


class AlertStatus(enum.StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class AlertAction(enum.StrEnum):
    """What the routing rules decided for an alert (`incidents.alert_rules`)."""

    DECLARED = "declared"  # it declared an incident
    ATTACHED = "attached"  # it joined the open incident of its service
    TRIAGE = "triage"  # posted to the triage channel with a Declare incident button
    IGNORED = "ignored"


class Alert(Base):
    """One alert while it fires: the same source and dedup key (Alertmanager's fingerprint, a generic dedup key)
    is one row until it resolves; firing again after that is a new row."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(60))
    dedup_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default=AlertStatus.FIRING.value)
    action: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    severity: Mapped[str | None] = mapped_column(String(20))  # ours (SEV2), mapped from the alert's labels
    service: Mapped[str | None] = mapped_column(String(200))  # the ownership map's name when it matched
    link: Mapped[str | None] = mapped_column(String(2000))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # annotations, generic details
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The triage channel's message, once posted (its Declare incident button names this row).
    triage_channel_id: Mapped[str | None] = mapped_column(String(64))
    triage_ts: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index(
            "uq_alerts_firing",
            "source",
            "dedup_key",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
        Index("ix_alerts_service_received", "service", "received_at"),
    )


class PageStatus(enum.StrEnum):
    REQUESTED = "requested"  # queued in the outbox
    TRIGGERED = "triggered"  # the pager accepted it
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    FAILED = "failed"  # the pager refused it, or delivery was given up


class Page(Base):
    """One team paged for one incident (never twice: the pager's dedup key is made from both)."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    team: Mapped[str] = mapped_column(String(200))
    pager: Mapped[str] = mapped_column(String(20))  # pagerduty | opsgenie
    dedup_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default=PageStatus.REQUESTED.value)
    requested_by: Mapped[str | None] = mapped_column(String(64))  # a Slack user id; None when paged automatically
    message: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answer: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the pager's last answer
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("incident_id", "team", name="uq_pages_incident_team"),)


class ChangeKind(enum.StrEnum):
    DEPLOY = "deploy"
    CONFIG = "config"
    FEATURE_FLAG = "feature_flag"
    MIGRATION = "migration"
    INFRASTRUCTURE = "infrastructure"


class ChangeEvent(Base):
    """Something that changed in production: a deploy, a config change, a flag flipped, ... Kept for
    `CHANGE_RETENTION_DAYS`. `external_id` makes a redelivered event (a webhook's delivery id) count once."""

    __tablename__ = "change_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    summary: Mapped[str] = mapped_column(String(1024))  # PagerDuty's limit for a change event's summary
    who: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[str] = mapped_column(String(200), default="")
    link: Mapped[str | None] = mapped_column(String(2000))
    source: Mapped[str] = mapped_column(String(60))  # api, cli, github, pagerduty
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_change_events_service_occurred", "service", "occurred_at"),
        Index("ix_change_events_occurred", "occurred_at"),
    )


# --- Follow-through: tickets for follow-ups (migration 0004) ---


class TicketStatus(enum.StrEnum):
    REQUESTED = "requested"  # queued in the outbox
    OPEN = "open"  # the tracker created it and it is not done there
    DONE = "done"  # done in the tracker (Jira status category "done", a closed GitHub issue)
    FAILED = "failed"  # the tracker refused it, or delivery was given up


class Ticket(Base):
    """A follow-up's ticket in an issue tracker (Jira Cloud, GitHub Issues): at most one per follow-up. Its
    status follows the tracker's (polled at `next_sync_at` with the `etag` of the last answer, or told by the
    GitHub `issues` webhook)."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    followup_id: Mapped[int] = mapped_column(ForeignKey("followups.id", ondelete="CASCADE"), unique=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    tracker: Mapped[str] = mapped_column(String(20))  # jira | github
    project: Mapped[str] = mapped_column(String(200))  # a Jira project key, or a GitHub owner/repository
    issue_type: Mapped[str | None] = mapped_column(String(100))  # Jira only
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    assignee: Mapped[str | None] = mapped_column(String(200))  # a GitHub login or a Jira account id
    team: Mapped[str | None] = mapped_column(String(200))  # the ownership map's team it was routed by
    status: Mapped[str] = mapped_column(String(20), default=TicketStatus.REQUESTED.value)
    key: Mapped[str | None] = mapped_column(String(255))  # OPS-12, or acme/payments#12
    external_id: Mapped[str | None] = mapped_column(String(100))  # Jira's issue id, GitHub's issue number
    url: Mapped[str | None] = mapped_column(String(2000))  # where people open it
    remote_status: Mapped[str | None] = mapped_column(String(200))  # the tracker's own word (In Progress, open)
    etag: Mapped[str | None] = mapped_column(String(255))  # of the last answer read (If-None-Match)
    requested_by: Mapped[str | None] = mapped_column(String(64))  # a Slack user id; None: on resolve
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: not polled (not open)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_tickets_next_sync_at", "next_sync_at"),
        Index("ix_tickets_tracker_key", "tracker", "key"),
    )


# --- Follow-through: the post-mortem review meeting (migration 0004) ---


class ReviewStatus(enum.StrEnum):
    AWAITING = "awaiting"  # asked for on resolve, not scheduled yet (the lead is reminded after the deadline)
    SCHEDULED = "scheduled"
    WAIVED = "waived"  # no review, with a reason (also a scheduled review called off)


class ReviewMeeting(Base):
    """An incident's post-mortem review meeting (at most one per incident, rescheduled in place). `uid` names
    its calendar event for good; `sequence` counts the reschedules (the invite's SEQUENCE). `next_action_at`
    is the one instant the scheduler must look again (a reminder or a nag), indexed; NULL when nothing is due."""

    __tablename__ = "review_meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=ReviewStatus.AWAITING.value)
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())  # schedule it before then (working days)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    scheduled_by: Mapped[str | None] = mapped_column(String(64))
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # who scheduled it first: the invite's ORGANIZER for every SEQUENCE of its UID (calendars refuse an update
    # from another organizer), whoever moves or calls it off later
    organizer_id: Mapped[str | None] = mapped_column(String(64))
    waived_by: Mapped[str | None] = mapped_column(String(64))
    waived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    waived_reason: Mapped[str | None] = mapped_column(Text)
    reminder_stage: Mapped[int] = mapped_column(Integer, default=0)  # 1: the day before sent, 2: 15 min before
    nags: Mapped[int] = mapped_column(Integer, default=0)  # reminders to schedule it, once a working day
    next_action_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- Insight (issue 14): the App Home (migration 0005) ---


class HomeView(Base):
    """Who has opened the bot's Home tab, and when last: only their Homes are redrawn when something they see
    changes (incidents.home)."""

    __tablename__ = "home_views"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


# What one person's Home reads (incidents.home): their current roles, their open follow-ups, the latest resolved.
Index("ix_role_assignments_user_id", RoleAssignment.user_id, RoleAssignment.ended_at)
Index("ix_followups_owner_id", FollowUp.owner_id, FollowUp.done)
Index("ix_incidents_status_resolved_at", Incident.status, Incident.resolved_at)


# --- Insight (issue 14): metrics and the weekly digest (migration 0005) ---


class Digest(Base):
    """One weekly digest: the row whose unique `week` key (`2026-W48`) a replica inserts, with the DIGEST effect,
    in one transaction; another replica's insert for the same week does nothing, so the digest is sent once."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    week: Mapped[str] = mapped_column(String(20), unique=True)
    channel: Mapped[str] = mapped_column(String(200))
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


# The metrics read the incidents declared in a period (incidents.metrics_query).
Index("ix_incidents_declared_at", Incident.declared_at)
