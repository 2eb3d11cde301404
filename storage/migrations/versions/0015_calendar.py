"""the diversity calendar: channel subscriptions (and the published .ics feeds they follow), the
organisation's own observances, its settings for each
(hidden, wording, suggestions), and people's holds during observances they keep

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("channel_name", sa.String(length=100), nullable=False),
        sa.Column("channel_workspace", sa.String(length=32), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("lead_days", sa.JSON(), nullable=False),
        sa.Column("working_days_only", sa.Boolean(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("send_time", sa.String(length=5), nullable=False),
        sa.Column("feed_url", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_subscriptions")),
        sa.UniqueConstraint("channel", name=op.f("uq_calendar_subscriptions_channel")),
    )
    op.create_table(
        "calendar_feeds",
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("etag", sa.String(length=200), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_calendar_feeds")),
    )
    op.create_table(
        "organisation_observances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("tone", sa.String(length=20), nullable=False),
        sa.Column("rule", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_observances")),
        sa.UniqueConstraint("key", name=op.f("uq_organisation_observances_key")),
    )
    op.create_table(
        "observance_settings",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("wording", sa.Text(), nullable=True),
        sa.Column("suggestions", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_observance_settings")),
    )
    op.create_table(
        "observance_holds",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_observance_holds_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "key", name=op.f("pk_observance_holds")),
    )


def downgrade() -> None:
    op.drop_table("observance_holds")
    op.drop_table("observance_settings")
    op.drop_table("organisation_observances")
    op.drop_table("calendar_feeds")
    op.drop_table("calendar_subscriptions")
