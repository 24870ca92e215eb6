"""follow-through: tickets for follow-ups, the post-mortem review meeting, the status page

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the post-mortem review meeting (incidents.review)
    op.create_table(
        "review_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("scheduled_by", sa.String(length=64), nullable=True),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("organizer_id", sa.String(length=64), nullable=True),
        sa.Column("waived_by", sa.String(length=64), nullable=True),
        sa.Column("waived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("waived_reason", sa.Text(), nullable=True),
        sa.Column("reminder_stage", sa.Integer(), nullable=False),
        sa.Column("nags", sa.Integer(), nullable=False),
        sa.Column("next_action_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_review_meetings_incident_id_incidents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_meetings")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_review_meetings_incident_id")),
        sa.UniqueConstraint("uid", name=op.f("uq_review_meetings_uid")),
    )
    with op.batch_alter_table("review_meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_meetings_next_action_at"), ["next_action_at"], unique=False)
    # tickets for follow-ups (incidents.tickets)
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("followup_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("tracker", sa.String(length=20), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("issue_type", sa.String(length=100), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("assignee", sa.String(length=200), nullable=True),
        sa.Column("team", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=True),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("remote_status", sa.String(length=200), nullable=True),
        sa.Column("etag", sa.String(length=255), nullable=True),
        sa.Column("requested_by", sa.String(length=64), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["followup_id"], ["followups.id"], name=op.f("fk_tickets_followup_id_followups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_tickets_incident_id_incidents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("followup_id", name=op.f("uq_tickets_followup_id")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tickets_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index("ix_tickets_next_sync_at", ["next_sync_at"], unique=False)
        batch_op.create_index("ix_tickets_tracker_key", ["tracker", "key"], unique=False)


def downgrade() -> None:
    # the post-mortem review meeting
    with op.batch_alter_table("review_meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_meetings_next_action_at"))
    op.drop_table("review_meetings")
    # tickets for follow-ups
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_tracker_key")
        batch_op.drop_index("ix_tickets_next_sync_at")
        batch_op.drop_index(batch_op.f("ix_tickets_incident_id"))
    op.drop_table("tickets")
