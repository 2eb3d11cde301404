"""digest_subscriptions: channels' weekly digests; history.at indexed for "what moved this week"

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("channel_name", sa.String(length=200), nullable=False),
        sa.Column("channel_workspace", sa.String(length=32), nullable=True),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("theme", sa.String(length=200), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("send_time", sa.String(length=5), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("nation", sa.String(length=20), nullable=False),
        sa.Column("skip_quiet", sa.Boolean(), nullable=False),
        sa.Column("stale_weeks", sa.SmallInteger(), nullable=False),
        sa.Column("last_week", sa.String(length=10), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_digest_subscriptions_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_subscriptions")),
        sa.UniqueConstraint("channel", name="uq_digest_subscriptions_channel"),
    )
    op.create_index("ix_history_at", "history", ["at"])


def downgrade() -> None:
    op.drop_index("ix_history_at", table_name="history")
    op.drop_table("digest_subscriptions")
