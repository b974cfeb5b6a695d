"""Rollups of the trends statement per question and wave, and the change logs that keep them
exact.

Trends read every current answer row of the survey (1.4 s at 10M rows), and a split by
attribute joins each to its respondent (3-5x that). A wave's figures change only when its
answers or the organisation's attributes do, so the statement's rows are kept per question,
wave and split (`trend_rollup`), stamped with the sums of `answer_change` (appended by every
write to a wave's answers) and `attribute_change` (by every change of a respondent's
attributes) they were computed at, and used only while those sums are unchanged
(feedback/analysis/rollups.py).

No rows are written here: existing answers have no change rows (their sums are 0), which
holds until the first write after the upgrade, and no rollup exists yet.

Revision ID: 0010_trend_rollups
Revises: 0009_answer_channel
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_trend_rollups"
down_revision: str | None = "0009_answer_channel"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ChangeId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "answer_change",
        sa.Column("id", ChangeId, autoincrement=True, nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("wave_number", sa.Integer(), nullable=False),
        sa.Column("weight", sa.BigInteger(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_answer_change"),
    )
    op.create_index(
        "ix_answer_change_survey_id_wave_number",
        "answer_change",
        ["survey_id", "wave_number", "weight"],
    )
    op.create_table(
        "attribute_change",
        sa.Column("id", ChangeId, autoincrement=True, nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("weight", sa.BigInteger(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_attribute_change"),
    )
    op.create_index("ix_attribute_change_org_id", "attribute_change", ["org_id", "weight"])
    op.create_table(
        "trend_rollup",
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("spec", sa.String(64), nullable=False),
        sa.Column("wave_number", sa.Integer(), nullable=False),
        sa.Column("answers_seen", sa.BigInteger(), nullable=False),
        sa.Column("attributes_seen", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name="fk_trend_rollup_survey_id_survey",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("survey_id", "spec", "wave_number", name="pk_trend_rollup"),
    )


def downgrade() -> None:
    op.drop_table("trend_rollup")
    op.drop_index("ix_attribute_change_org_id", table_name="attribute_change")
    op.drop_table("attribute_change")
    op.drop_index("ix_answer_change_survey_id_wave_number", table_name="answer_change")
    op.drop_table("answer_change")
