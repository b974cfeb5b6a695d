"""On PostgreSQL the analysis index carries each answer's respondent and response.

A segment split joins every current answer to its respondent's attribute (or its response's
channel), and a channel filter keeps the answers of some responses. Without those ids in the
index, both read the table row by row; as INCLUDE columns they sit outside the key, so the
index keeps its order and the trends statement without a split reads it as before. SQLite has
no INCLUDE: its split scans the table once (`analysis.queries._segmented_statement`).

PostgreSQL also keeps statistics on how many distinct (question, wave, value, option) groups the
answers form: without them it multiplies the columns' own counts, expects millions of groups
where there are thousands, and sorts a split's joined rows instead of hashing its few groups
(17.0 s against 7.5 s for a split at 10M answers).

Revision ID: 0008_answer_analysis_include
Revises: 0007_forms_survey_texts
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_answer_analysis_include"
down_revision: str | None = "0007_forms_survey_texts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
    "survey_id",
    "question_key",
    "wave_number",
    "value_num",
    "option_key",
    "first",
    "version",
    "is_current",
]


def _create_analysis_index(include: list[str]) -> None:
    op.create_index(
        "ix_answer_analysis",
        "answer",
        COLUMNS,
        sqlite_where=sa.text("is_current = 1"),
        postgresql_where=sa.text("is_current"),
        postgresql_include=include,
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_answer_analysis", table_name="answer")
    _create_analysis_index(["respondent_id", "response_id"])
    op.execute(
        "CREATE STATISTICS st_answer_groups (ndistinct) "
        "ON question_key, wave_number, value_num, option_key FROM answer"
    )
    op.execute("ANALYZE answer")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP STATISTICS IF EXISTS st_answer_groups")
    op.drop_index("ix_answer_analysis", table_name="answer")
    _create_analysis_index([])
