"""plans.adopted_at and welcomes: a plan's first sweep and each person's welcome to it happen once; nudges
are indexed by action, for what an action's owners were sent

A store that was reminding people before this revision has adopted its plans already: every plan with a nudge
is marked adopted, and everyone who had a nudge about a plan's action is marked welcomed to it, so upgrading
sends no welcome to people who know edibot.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("adopted_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "welcomes",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_welcomes_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_welcomes_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("person_id", "plan_id", name=op.f("pk_welcomes")),
    )
    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.create_index("ix_nudges_action_id", ["action_id"], unique=False)
    op.execute(
        "UPDATE plans SET adopted_at = created_at WHERE EXISTS (SELECT 1 FROM nudges "
        "JOIN actions ON actions.id = nudges.action_id WHERE actions.plan_id = plans.id)"
    )
    op.execute(
        "INSERT INTO welcomes (person_id, plan_id, at) "
        "SELECT nudges.person_id, actions.plan_id, MIN(nudges.created_at) FROM nudges "
        "JOIN actions ON actions.id = nudges.action_id WHERE nudges.person_id IS NOT NULL "
        "GROUP BY nudges.person_id, actions.plan_id"
    )


def downgrade() -> None:
    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.drop_index("ix_nudges_action_id")
    op.drop_table("welcomes")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("adopted_at")
