"""slack: reminders found by their Slack message (thread replies), and Slack OAuth installations

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SLACK_TABLES = ("slack_installations", "slack_bots", "slack_oauth_states")


def _slack_tables() -> sa.MetaData:
    """slack_sdk's own table shapes, so its installation and state stores can use them as they are."""
    metadata = sa.MetaData(naming_convention={"pk": "pk_%(table_name)s"})
    SQLAlchemyInstallationStore.build_installations_table(metadata, "slack_installations")
    SQLAlchemyInstallationStore.build_bots_table(metadata, "slack_bots")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, "slack_oauth_states")
    return metadata


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_platform_message_id", ["platform_message_id"], unique=False)
    _slack_tables().create_all(op.get_bind())


def downgrade() -> None:
    _slack_tables().drop_all(op.get_bind())
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_platform_message_id")
