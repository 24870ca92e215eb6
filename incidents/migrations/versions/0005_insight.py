"""insight: what the App Home, metrics, the weekly digest and each incident's picture need

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the App Home (incidents.home): who opened it, and the indexes one person's Home reads by
    op.create_table(
        "home_views",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_home_views")),
    )
    op.create_index(op.f("ix_home_views_opened_at"), "home_views", ["opened_at"], unique=False)
    op.create_index("ix_role_assignments_user_id", "role_assignments", ["user_id", "ended_at"], unique=False)
    op.create_index("ix_followups_owner_id", "followups", ["owner_id", "done"], unique=False)
    op.create_index("ix_incidents_status_resolved_at", "incidents", ["status", "resolved_at"], unique=False)
    # metrics and the weekly digest (incidents.metrics_query, incidents.digest)
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
        sa.UniqueConstraint("week", name=op.f("uq_digests_week")),
    )
    op.create_index("ix_incidents_declared_at", "incidents", ["declared_at"], unique=False)


def downgrade() -> None:
    # metrics and the weekly digest
    op.drop_index("ix_incidents_declared_at", table_name="incidents")
    op.drop_table("digests")
    # the App Home
    op.drop_index("ix_incidents_status_resolved_at", table_name="incidents")
    op.drop_index("ix_followups_owner_id", table_name="followups")
    op.drop_index("ix_role_assignments_user_id", table_name="role_assignments")
    op.drop_index(op.f("ix_home_views_opened_at"), table_name="home_views")
    op.drop_table("home_views")
