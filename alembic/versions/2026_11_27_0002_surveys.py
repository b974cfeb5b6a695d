"""Surveys: survey, survey_version (immutable once published), version_change, wave.

Revision ID: 0002_surveys
Revises: 0001_foundation
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from feedback.db import JSONType, UTCDateTime

revision: str = "0002_surveys"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IMMUTABLE = "published survey versions are immutable"


def upgrade() -> None:
    op.create_table(
        "survey",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(63), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("default_locale", sa.String(35), nullable=False),
        sa.Column("schedule", JSONType, nullable=True),
        sa.Column("settings", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        sa.Column("wave_offset", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisation.id"],
            name=op.f("fk_survey_org_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey")),
        sa.UniqueConstraint("org_id", "slug", name=op.f("uq_survey_org_id_slug")),
    )
    op.create_index(op.f("ix_survey_org_id"), "survey", ["org_id"])
    op.create_table(
        "survey_version",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("definition", JSONType, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("changes", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_survey_version_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_version")),
        sa.UniqueConstraint("survey_id", "number", name=op.f("uq_survey_version_survey_id_number")),
    )
    op.create_index(
        "uq_survey_version_one_draft",
        "survey_version",
        ["survey_id"],
        unique=True,
        sqlite_where=sa.text("published_at IS NULL"),
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "version_change",
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("question_key", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("breaks_series", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_version_change_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "survey_id", "version", "question_key", "kind", name=op.f("pk_version_change")
        ),
    )
    op.create_table(
        "wave",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(40), nullable=False),
        sa.Column("opens_at", UTCDateTime(), nullable=False),
        sa.Column("closes_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_wave_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wave")),
        sa.UniqueConstraint("survey_id", "number", name=op.f("uq_wave_survey_id_number")),
    )
    _create_immutability_triggers()


def _create_immutability_triggers() -> None:
    """The schema's half of version immutability: a published row can't change or go."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION survey_version_immutable() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{IMMUTABLE}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER survey_version_immutable BEFORE UPDATE OR DELETE ON survey_version "
            "FOR EACH ROW WHEN (OLD.published_at IS NOT NULL) "
            "EXECUTE FUNCTION survey_version_immutable()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER survey_version_immutable_{event.lower()} "
                f"BEFORE {event} ON survey_version WHEN OLD.published_at IS NOT NULL "
                f"BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS survey_version_immutable ON survey_version")
        op.execute("DROP FUNCTION IF EXISTS survey_version_immutable()")
    else:
        op.execute("DROP TRIGGER IF EXISTS survey_version_immutable_update")
        op.execute("DROP TRIGGER IF EXISTS survey_version_immutable_delete")
    op.drop_table("wave")
    op.drop_table("version_change")
    op.drop_index("uq_survey_version_one_draft", table_name="survey_version")
    op.drop_table("survey_version")
    op.drop_index(op.f("ix_survey_org_id"), table_name="survey")
    op.drop_table("survey")
