"""outbox.tried_at: when a try of a message began posting it and no outcome was recorded yet (None: no post
was begun, or its try ended) — so a restart knows which messages the platform may have taken

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tried_at", sa.DateTime(timezone=True), nullable=True))
    # A pending message still under a lease was claimed before this column existed: its try may have posted
    # it (the worker may have died mid-send), so it is counted as begun.
    op.execute(
        "UPDATE outbox SET tried_at = lease_until WHERE status = 'pending' AND lease_until IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("tried_at")
