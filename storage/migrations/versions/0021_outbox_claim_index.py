"""The outbox claim finds each conversation's first message by index, not by grouping every pending message:
an index of messages by conversation (status, person, channel, id) answers "is an earlier one still to go?"
with one probe, and the due-messages index carries the id the claim breaks ties by, so a claim costs the
same with 500,000 messages pending as with 1,000

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_outbox_conversation", "outbox", ["status", "person_id", "channel", "id"], unique=False
    )
    op.create_index("ix_outbox_status_send_at_id", "outbox", ["status", "send_at", "id"], unique=False)
    op.drop_index("ix_outbox_status_send_at", table_name="outbox")


def downgrade() -> None:
    op.create_index("ix_outbox_status_send_at", "outbox", ["status", "send_at"], unique=False)
    op.drop_index("ix_outbox_status_send_at_id", table_name="outbox")
    op.drop_index("ix_outbox_conversation", table_name="outbox")
