"""Responses: respondent, response, response_revision, answer.

Revision ID: 0003_responses
Revises: 0002_surveys
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from feedback.db import JSONType, UTCDateTime

revision: str = "0003_responses"
down_revision: str | None = "0002_surveys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "respondent",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref_hash", sa.String(64), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=True),
        sa.Column("attributes", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisation.id"],
            name=op.f("fk_respondent_org_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_respondent")),
        sa.UniqueConstraint("org_id", "ref_hash", name=op.f("uq_respondent_org_id_ref_hash")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_respondent_token_hash")),
        sa.CheckConstraint("kind IN ('known', 'anonymous')", name=op.f("ck_respondent_kind")),
    )
    op.create_index(op.f("ix_respondent_org_id"), "respondent", ["org_id"])
    op.create_table(
        "response",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("response_id", sa.Uuid(), nullable=False),
        sa.Column("respondent_id", sa.Uuid(), nullable=True),
        sa.Column("wave_number", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("locale", sa.String(35), nullable=True),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("revised_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("edit_token_hash", sa.String(64), nullable=True),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisation.id"],
            name=op.f("fk_response_org_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_response_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["respondent_id"],
            ["respondent.id"],
            name=op.f("fk_response_respondent_id_respondent"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response")),
        sa.UniqueConstraint(
            "survey_id", "response_id", name=op.f("uq_response_survey_id_response_id")
        ),
    )
    op.create_index(op.f("ix_response_respondent_id"), "response", ["respondent_id"])
    op.create_index(
        "ix_response_survey_id_revised_at_id", "response", ["survey_id", "revised_at", "id"]
    )
    op.create_index("ix_response_survey_id_wave_number", "response", ["survey_id", "wave_number"])
    op.create_table(
        "response_revision",
        sa.Column("response_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", JSONType, nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["response.id"],
            name=op.f("fk_response_revision_response_id_response"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", "revision", name=op.f("pk_response_revision")),
    )
    op.create_table(
        "answer",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("response_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("wave_number", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("respondent_id", sa.Uuid(), nullable=True),
        sa.Column("question_key", sa.String(63), nullable=False),
        sa.Column("value_num", sa.Float(), nullable=True),
        sa.Column("option_key", sa.String(63), nullable=True),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column("first", sa.Boolean(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["response.id"],
            name=op.f("fk_answer_response_id_response"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer")),
    )
    op.create_index(
        "ix_answer_analysis",
        "answer",
        [
            "survey_id",
            "question_key",
            "wave_number",
            "value_num",
            "option_key",
            "first",
            "is_current",
        ],
        sqlite_where=sa.text("is_current = 1"),
        postgresql_where=sa.text("is_current"),
    )
    op.create_index("ix_answer_response_id_revision", "answer", ["response_id", "revision"])


def downgrade() -> None:
    op.drop_index("ix_answer_response_id_revision", table_name="answer")
    op.drop_index("ix_answer_analysis", table_name="answer")
    op.drop_table("answer")
    op.drop_table("response_revision")
    op.drop_index("ix_response_survey_id_wave_number", table_name="response")
    op.drop_index("ix_response_survey_id_revised_at_id", table_name="response")
    op.drop_index(op.f("ix_response_respondent_id"), table_name="response")
    op.drop_table("response")
    op.drop_index(op.f("ix_respondent_org_id"), table_name="respondent")
    op.drop_table("respondent")
