"""The sweep's candidates from a partial index of live, open actions by next_nudge_on, instead of an index of
every action: "never worked out" (NULL) no longer walks every done action, so the sweep's cost follows what
is due, not the size of the store

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# As storage.models has them (a migration keeps its own copy: the models move on, this step does not).
LOOK_AT_SQLITE = "archived IS 0 AND status != 'done'"
LOOK_AT_POSTGRESQL = "archived IS false AND status != 'done'"


def upgrade() -> None:
    op.create_index(
        "ix_actions_to_look_at",
        "actions",
        ["next_nudge_on"],
        unique=False,
        sqlite_where=sa.text(LOOK_AT_SQLITE),
        postgresql_where=sa.text(LOOK_AT_POSTGRESQL),
    )
    op.drop_index("ix_actions_next_nudge_on", table_name="actions")


def downgrade() -> None:
    op.create_index("ix_actions_next_nudge_on", "actions", ["next_nudge_on"], unique=False)
    op.drop_index("ix_actions_to_look_at", table_name="actions")
