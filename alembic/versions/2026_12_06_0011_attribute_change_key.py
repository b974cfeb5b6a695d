"""Attribute changes per attribute: a change of one respondent attribute retires only the kept
splits by that attribute.

`attribute_change` counted every change of an organisation's respondents' attributes, so a CRM
sync rewriting one attribute (a last donation date) made every split by attribute (region,
age band) be counted afresh. Each row now names the attribute it changed, and a kept split
carries the sum for its own attribute (feedback/analysis/rollups.py).

The old rows cannot say which attribute they changed, so they are dropped with the table, and
with them every kept rollup: a piece stamped with an organisation-wide sum could otherwise
meet a per-attribute sum that later grows to the same number. Rollups are derived data: the
next trends request counts its waves afresh and keeps them again. The downgrade does the same.

Revision ID: 0011_attribute_change_key
Revises: 0010_trend_rollups
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_attribute_change_key"
down_revision: str | None = "0010_trend_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ChangeId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _attribute_change(*per_attribute: sa.Column[str]) -> None:
    op.create_table(
        "attribute_change",
        sa.Column("id", ChangeId, autoincrement=True, nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        *per_attribute,
        sa.Column("weight", sa.BigInteger(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_attribute_change"),
    )


def upgrade() -> None:
    op.execute("DELETE FROM trend_rollup")
    op.drop_index("ix_attribute_change_org_id", table_name="attribute_change")
    op.drop_table("attribute_change")
    _attribute_change(sa.Column("attribute", sa.String(63), nullable=False))
    op.create_index(
        "ix_attribute_change_org_id_attribute",
        "attribute_change",
        ["org_id", "attribute", "weight"],
    )


def downgrade() -> None:
    op.execute("DELETE FROM trend_rollup")
    op.drop_index("ix_attribute_change_org_id_attribute", table_name="attribute_change")
    op.drop_table("attribute_change")
    _attribute_change()
    op.create_index("ix_attribute_change_org_id", "attribute_change", ["org_id", "weight"])
