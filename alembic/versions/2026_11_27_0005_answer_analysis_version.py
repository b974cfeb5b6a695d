"""The analysis index holds `version`, before its last column `is_current`.

A question whose series breaks across survey versions is counted by version; without `version`
in the index those branches of the trends statement visited the table for every answer row.
It goes after the columns every question groups by, so that the others still scan in order.

Revision ID: 0005_answer_analysis_version
Revises: 0004_decisions
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_answer_analysis_version"
down_revision: str | None = "0004_decisions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ["survey_id", "question_key", "wave_number", "value_num", "option_key", "first"]
AFTER = [*BEFORE, "version"]


def _create_analysis_index(columns: list[str]) -> None:
    op.create_index(
        "ix_answer_analysis",
        "answer",
        [*columns, "is_current"],
        sqlite_where=sa.text("is_current = 1"),
        postgresql_where=sa.text("is_current"),
    )


def upgrade() -> None:
    op.drop_index("ix_answer_analysis", table_name="answer")
    _create_analysis_index(AFTER)


def downgrade() -> None:
    op.drop_index("ix_answer_analysis", table_name="answer")
    _create_analysis_index(BEFORE)
