"""feedback, feedback_messages, feedback_responders, feedback_settings: anonymous staff feedback, kept with no
one's name, id or time of day

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("channel_name", sa.String(length=200), nullable=False),
        sa.Column("channel_workspace", sa.String(length=32), nullable=True),
        sa.Column("publish_channel", sa.String(length=100), nullable=True),
        sa.Column("publish_channel_name", sa.String(length=200), nullable=True),
        sa.Column("k", sa.SmallInteger(), nullable=False),
        sa.Column("release_times", sa.JSON(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("signposting", sa.Text(), nullable=True),
        sa.Column("last_release", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_settings")),
    )
    op.create_table(
        "feedback_responders",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_feedback_responders_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_feedback_responders")),
    )
    op.create_table(
        "feedback",
        sa.Column("ref", sa.String(length=6), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=True),
        sa.Column("incident", sa.Boolean(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("released_on", sa.Date(), nullable=True),
        sa.Column("code_salt", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"], ["actions.id"], name=op.f("fk_feedback_action_id_actions"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_feedback")),
        sqlite_with_rowid=False,  # no hidden insertion order on SQLite: rows are kept by random reference
    )
    op.create_table(
        "feedback_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feedback_ref", sa.String(length=6), nullable=False),
        sa.Column("author", sa.String(length=12), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feedback_ref"],
            ["feedback.ref"],
            name=op.f("fk_feedback_messages_feedback_ref_feedback"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_messages")),
    )
    op.create_index("ix_feedback_messages_feedback_ref", "feedback_messages", ["feedback_ref"])


def downgrade() -> None:
    op.drop_index("ix_feedback_messages_feedback_ref", table_name="feedback_messages")
    op.drop_table("feedback_messages")
    op.drop_table("feedback")
    op.drop_table("feedback_responders")
    op.drop_table("feedback_settings")
