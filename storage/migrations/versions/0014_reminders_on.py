"""people.reminders_on and people.last_surface: for someone on both Slack and Teams, where their reminders go
(chosen, or the platform they last used edibot on)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminders_on", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("last_surface", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("last_surface")
        batch_op.drop_column("reminders_on")
