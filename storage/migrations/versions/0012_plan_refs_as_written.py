"""actions.ref: a plan's own reference as the plan writes it ("WB-1"), for actions imported when it was made
into the plan's prefix and the letters and digits of it ("WE-WB1")

Imports before references were kept as written gave "WB-1" in the plan WE the reference "WE-WB1", so
`/edi show WB-1` found nothing. Each such action takes its plan's own reference back, unless another action
already has it (then it keeps the one people have been using). Bare numbers ("1.2" → "LT-1.2") were and are
written under the plan's prefix, and are left alone. The rules are copied here as they were, so this step
does what it did whatever the code later says.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# storage.rules.refs as of this revision: the reference an import made, and the one it makes now.
_FORMER_DROPPED = re.compile(r"[^A-Za-z0-9.]+")
_SPACES = re.compile(r"\s+")
_NAMES_ITSELF = re.compile(r"^[A-Z][A-Z0-9.\-/]*\d[A-Z0-9.\-/]*$")
_REF_MAX = 40

_plans = sa.table("plans", sa.column("id", sa.Integer), sa.column("ref_prefix", sa.String))
_actions = sa.table(
    "actions",
    sa.column("id", sa.Integer),
    sa.column("plan_id", sa.Integer),
    sa.column("ref", sa.String),
    sa.column("source_ref", sa.String),
)


def former_ref(prefix: str, written: str) -> str:
    return f"{prefix}-{_FORMER_DROPPED.sub('', written)[:20]}".upper()


def plan_ref(written: str) -> str | None:
    kept = _SPACES.sub("", written).strip(".-/").upper()
    return kept if _NAMES_ITSELF.match(kept) and len(kept) <= _REF_MAX else None


def upgrade() -> None:
    connection = op.get_bind()
    prefixes = dict(connection.execute(sa.select(_plans.c.id, _plans.c.ref_prefix)).all())
    rows = connection.execute(
        sa.select(_actions.c.id, _actions.c.plan_id, _actions.c.ref, _actions.c.source_ref).order_by(
            _actions.c.id
        )
    ).all()
    in_use = {row.ref for row in rows}
    for row in rows:
        if not row.source_ref or row.plan_id not in prefixes:
            continue
        kept = plan_ref(row.source_ref)
        if kept is None or kept in in_use or row.ref != former_ref(prefixes[row.plan_id], row.source_ref):
            continue
        connection.execute(sa.update(_actions).where(_actions.c.id == row.id).values(ref=kept))
        in_use.discard(row.ref)
        in_use.add(kept)


def downgrade() -> None:
    # The former references are still found by lookup (storage.rules.refs.former_ref), so nothing to undo.
    pass
