"""Each answer row carries its channel, and the analysis index holds it after the option.

A split by channel joined every current answer to its response (6-7x a trends request without
a split at 1M-30M rows); a channel filter semi-joined them. The channel of the revision that
wrote an answer row is its response's channel for as long as the row is current (a revision
writes new rows, and only a revision changes a response's channel), so the row can carry it:
splits and filters then read the index alone, and a split groups in index order.

Existing rows take their response's channel: exact for current rows; superseded rows (which
analysis never reads) take the latest revision's too.

Revision ID: 0009_answer_channel
Revises: 0008_answer_analysis_include
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_answer_channel"
down_revision: str | None = "0008_answer_analysis_include"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ["survey_id", "question_key", "wave_number", "value_num", "option_key", "first"]
AFTER = ["survey_id", "question_key", "wave_number", "value_num", "option_key", "channel", "first"]


def _create_analysis_index(columns: list[str]) -> None:
    include = ["respondent_id", "response_id"] if op.get_bind().dialect.name == "postgresql" else []
    op.create_index(
        "ix_answer_analysis",
        "answer",
        [*columns, "version", "is_current"],
        sqlite_where=sa.text("is_current = 1"),
        postgresql_where=sa.text("is_current"),
        postgresql_include=include,
    )


def upgrade() -> None:
    op.drop_index("ix_answer_analysis", table_name="answer")
    with op.batch_alter_table("answer") as batch:
        batch.add_column(sa.Column("channel", sa.String(32), nullable=True))
    op.execute(
        "UPDATE answer SET channel = "
        "(SELECT response.channel FROM response WHERE response.id = answer.response_id)"
    )
    with op.batch_alter_table("answer") as batch:
        batch.alter_column("channel", existing_type=sa.String(32), nullable=False)
    _create_analysis_index(AFTER)


def downgrade() -> None:
    op.drop_index("ix_answer_analysis", table_name="answer")
    with op.batch_alter_table("answer") as batch:
        batch.drop_column("channel")
    _create_analysis_index(BEFORE)
