"""outbox.failures (genuine failed tries, counted apart from rate-limited ones); action_declines ("not mine");
people.quiet_hours; escalation to a channel (plans.escalation_channel*, nudges and outbox rows for a channel)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))

    op.create_table(
        "action_declines",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_action_declines_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_action_declines_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("action_id", "person_id", name=op.f("pk_action_declines")),
    )
    with op.batch_alter_table("action_declines", schema=None) as batch_op:
        batch_op.create_index("ix_action_declines_person_id", ["person_id"], unique=False)

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quiet_hours", sa.String(length=11), nullable=True))

    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escalation_channel", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("escalation_channel_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("escalation_channel_workspace", sa.String(length=32), nullable=True))

    for table in ("nudges", "outbox"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("person_id", existing_type=sa.Integer(), nullable=True)
            batch_op.add_column(sa.Column("channel", sa.String(length=100), nullable=True))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel_workspace", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM nudges WHERE person_id IS NULL")
    op.execute("DELETE FROM outbox WHERE person_id IS NULL")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("channel_workspace")
    for table in ("nudges", "outbox"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("channel")
            batch_op.alter_column("person_id", existing_type=sa.Integer(), nullable=False)

    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("escalation_channel_workspace")
        batch_op.drop_column("escalation_channel_name")
        batch_op.drop_column("escalation_channel")

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("quiet_hours")

    with op.batch_alter_table("action_declines", schema=None) as batch_op:
        batch_op.drop_index("ix_action_declines_person_id")

    op.drop_table("action_declines")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("failures")
