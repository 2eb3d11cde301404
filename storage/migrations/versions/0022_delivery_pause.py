"""A 429's wait is kept in one row the outbox claim reads (delivery_pause), instead of being written into
every pending message: a pause costs the same with 500,000 messages waiting as with ten

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No row: no pause. The waits an older edibot wrote into the messages themselves (send_at) stay as they
    # are and run out as they would have.
    op.create_table(
        "delivery_pause",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_pause")),
    )


def downgrade() -> None:
    # A pause still running is written back into the messages it holds, as the older edibot keeps it.
    op.execute(
        "UPDATE outbox SET send_at = (SELECT until FROM delivery_pause WHERE id = 1)"
        " WHERE status = 'pending' AND send_at < (SELECT until FROM delivery_pause WHERE id = 1)"
    )
    op.drop_table("delivery_pause")
