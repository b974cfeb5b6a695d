"""The splits of trends that readers ask for, so that the worker keeps their rollups counted.

A write retires the rollup pieces of the waves it touched (and a change of an attribute, every
piece of the splits by it); the next reader then waits for those waves to be counted: 7 s at
10M answer rows for a split by attribute after an import into every wave. `trend_split` records
each split (segment, channel filter) a reader asked for, and when one last did, at most once a
day; the worker counts the retired waves of those asked for in the last week
(feedback/analysis/warming.py), each split claimed by one worker at a time
(`warming_until`, a lease). No rows are written here: the first request of each split records
it.

Revision ID: 0013_trend_split
Revises: 0012_response_one_voice
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from feedback.db import JSONType, UTCDateTime

revision: str = "0013_trend_split"
down_revision: str | None = "0012_response_one_voice"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trend_split",
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("segment", sa.String(63), nullable=True),
        sa.Column("channels", JSONType, nullable=True),
        sa.Column("used_at", UTCDateTime(), nullable=False),
        sa.Column("warming_until", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name="fk_trend_split_survey_id_survey",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("survey_id", "key", name="pk_trend_split"),
    )


def downgrade() -> None:
    op.drop_table("trend_split")
