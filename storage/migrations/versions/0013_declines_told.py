"""action_declines.told_at: when the plan admins heard of a "not mine" (None: it waits for the next morning's
message gathering the rest of its day's)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action_declines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("told_at", sa.DateTime(timezone=True), nullable=True))
    # Every "not mine" before this was told to the admins at once.
    op.execute("UPDATE action_declines SET told_at = at")


def downgrade() -> None:
    with op.batch_alter_table("action_declines", schema=None) as batch_op:
        batch_op.drop_column("told_at")
