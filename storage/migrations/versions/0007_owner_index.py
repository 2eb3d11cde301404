"""action_owners indexed by (owner_id, action_id) instead of owner_id alone: a role's actions come from the
index

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-15
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_action_owners_owner_id_action_id", "action_owners", ["owner_id", "action_id"], unique=False
    )
    op.drop_index("ix_action_owners_owner_id", table_name="action_owners")


def downgrade() -> None:
    op.create_index("ix_action_owners_owner_id", "action_owners", ["owner_id"], unique=False)
    op.drop_index("ix_action_owners_owner_id_action_id", table_name="action_owners")
