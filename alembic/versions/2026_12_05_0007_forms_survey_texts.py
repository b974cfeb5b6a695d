"""A survey's title may be localised, and it may have a description (forms supporters trust).

`title` keeps the default locale's text, which campaigners' views and reports show; `title_texts`
holds the `{locale: text}` map when the title differs by locale.

Revision ID: 0007_forms_survey_texts
Revises: 0006_loop
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from feedback.db import JSONType

revision: str = "0007_forms_survey_texts"
down_revision: str | None = "0006_loop"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("survey") as batch:
        batch.add_column(sa.Column("title_texts", JSONType, nullable=True))
        batch.add_column(sa.Column("description", JSONType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("survey") as batch:
        batch.drop_column("description")
        batch.drop_column("title_texts")
