"""The loop: localised decisions with a status, findings, and the webhooks outbox.

Decision titles and descriptions become JSON (a string or a {locale: text} map); existing ones
are kept as JSON strings.

Revision ID: 0006_loop
Revises: 0005_answer_analysis_version
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from feedback.db import JSONType, UTCDateTime

revision: str = "0006_loop"
down_revision: str | None = "0005_answer_analysis_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DECISION_STATUS = "status IN ('planned', 'in_progress', 'done', 'dropped')"


def _org_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["org_id"], ["organisation.id"], name=f"fk_{table}_org_id_organisation", ondelete="CASCADE"
    )


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete="CASCADE"
    )


def _decision_text_to_json() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in ("title", "description"):
            op.execute(
                f"ALTER TABLE decision ALTER COLUMN {column} TYPE jsonb USING to_jsonb({column})"
            )
    else:
        op.execute(
            "UPDATE decision SET title = json_quote(title), description = json_quote(description)"
        )
        with op.batch_alter_table("decision") as batch:
            batch.alter_column("title", type_=JSONType, existing_nullable=False)
            batch.alter_column("description", type_=JSONType, existing_nullable=False)


def _decision_json_to_text() -> None:
    """Back to plain text: a localised map keeps its first text."""
    if op.get_bind().dialect.name == "postgresql":
        for column, sql_type in (("title", "varchar(200)"), ("description", "text")):
            text = (
                f"CASE jsonb_typeof({column}) WHEN 'string' THEN {column} #>> '{{}}' "
                f"ELSE jsonb_path_query_first({column}, '$.*') #>> '{{}}' END"
            )
            op.execute(
                f"ALTER TABLE decision ALTER COLUMN {column} TYPE {sql_type} USING "
                f"left({text}, 200)"
                if column == "title"
                else f"ALTER TABLE decision ALTER COLUMN {column} TYPE {sql_type} USING {text}"
            )
    else:
        for column in ("title", "description"):
            # The column names are this function's own, never input.
            first = f"(SELECT value FROM json_each({column}) LIMIT 1)"  # noqa: S608
            op.execute(
                f"UPDATE decision SET {column} = CASE json_type({column}) "  # noqa: S608
                f"WHEN 'text' THEN json_extract({column}, '$') ELSE {first} END"
            )
        with op.batch_alter_table("decision") as batch:
            batch.alter_column("title", type_=sa.String(200), existing_nullable=False)
            batch.alter_column("description", type_=sa.Text(), existing_nullable=False)


def upgrade() -> None:
    _decision_text_to_json()
    with op.batch_alter_table("decision") as batch:
        batch.add_column(
            sa.Column("status", sa.String(16), nullable=False, server_default="planned")
        )
        batch.add_column(sa.Column("published_at", UTCDateTime(), nullable=True))
        batch.create_check_constraint(op.f("ck_decision_status"), sa.text(DECISION_STATUS))
    # Decisions public before this revision count as published when they were last updated.
    op.execute("UPDATE decision SET published_at = updated_at WHERE public")
    with op.batch_alter_table("decision") as batch:
        batch.alter_column("status", server_default=None)

    op.create_table(
        "finding",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("question_key", sa.String(63), nullable=False),
        sa.Column("option_key", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("wave_number", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("figures", JSONType, nullable=False),
        sa.Column("sentences", JSONType, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("state_changed_at", UTCDateTime(), nullable=True),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        _org_fk("finding"),
        _fk("finding", "survey_id", "survey"),
        sa.PrimaryKeyConstraint("id", name="pk_finding"),
        sa.UniqueConstraint(
            "survey_id",
            "question_key",
            "option_key",
            "kind",
            "wave_number",
            name="uq_finding_survey_id_question_key_option_key_kind_wave_number",
        ),
        sa.CheckConstraint("kind IN ('change', 'trend')", name="ck_finding_kind"),
        sa.CheckConstraint("state IN ('open', 'answered', 'dismissed')", name="ck_finding_state"),
        sa.CheckConstraint(
            "direction IN ('increasing', 'decreasing')", name="ck_finding_direction"
        ),
    )
    op.create_index(
        "ix_finding_survey_id_state_opened_at", "finding", ["survey_id", "state", "opened_at"]
    )

    op.create_table(
        "decision_finding",
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("finding_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        _fk("decision_finding", "decision_id", "decision"),
        _fk("decision_finding", "finding_id", "finding"),
        _org_fk("decision_finding"),
        sa.PrimaryKeyConstraint("decision_id", "finding_id", name="pk_decision_finding"),
    )
    op.create_index("ix_decision_finding_finding_id", "decision_finding", ["finding_id"])

    op.create_table(
        "finding_check",
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("through_wave", sa.Integer(), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        _fk("finding_check", "survey_id", "survey"),
        _org_fk("finding_check"),
        sa.PrimaryKeyConstraint("survey_id", name="pk_finding_check"),
    )

    op.create_table(
        "webhook",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("events", JSONType, nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _org_fk("webhook"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook"),
    )
    op.create_index("ix_webhook_org_id", "webhook", ["org_id"])

    op.create_table(
        "webhook_topic",
        sa.Column("webhook_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        _fk("webhook_topic", "webhook_id", "webhook"),
        _org_fk("webhook_topic"),
        sa.PrimaryKeyConstraint("webhook_id", "event_type", name="pk_webhook_topic"),
    )
    op.create_index("ix_webhook_topic_org_id_event_type", "webhook_topic", ["org_id", "event_type"])

    op.create_table(
        "webhook_delivery",
        sa.Column("webhook_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        _org_fk("webhook_delivery"),
        _fk("webhook_delivery", "webhook_id", "webhook"),
        sa.PrimaryKeyConstraint("webhook_id", "event_id", name="pk_webhook_delivery"),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name="ck_webhook_delivery_status"
        ),
    )
    op.create_index(
        "ix_webhook_delivery_due",
        "webhook_delivery",
        ["next_attempt_at"],
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_webhook_delivery_webhook_id_created_at",
        "webhook_delivery",
        ["webhook_id", "created_at"],
    )

    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("webhook_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("attempted_at", UTCDateTime(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        _org_fk("webhook_attempt"),
        sa.ForeignKeyConstraint(
            ["webhook_id", "event_id"],
            ["webhook_delivery.webhook_id", "webhook_delivery.event_id"],
            name="fk_webhook_attempt_webhook_id_webhook_delivery",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_attempt"),
    )
    op.create_index(
        "ix_webhook_attempt_webhook_id_event_id", "webhook_attempt", ["webhook_id", "event_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_attempt_webhook_id_event_id", table_name="webhook_attempt")
    op.drop_table("webhook_attempt")
    op.drop_index("ix_webhook_delivery_webhook_id_created_at", table_name="webhook_delivery")
    op.drop_index("ix_webhook_delivery_due", table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_index("ix_webhook_topic_org_id_event_type", table_name="webhook_topic")
    op.drop_table("webhook_topic")
    op.drop_index("ix_webhook_org_id", table_name="webhook")
    op.drop_table("webhook")
    op.drop_table("finding_check")
    op.drop_index("ix_decision_finding_finding_id", table_name="decision_finding")
    op.drop_table("decision_finding")
    op.drop_index("ix_finding_survey_id_state_opened_at", table_name="finding")
    op.drop_table("finding")
    with op.batch_alter_table("decision") as batch:
        batch.drop_constraint(op.f("ck_decision_status"), type_="check")
        batch.drop_column("published_at")
        batch.drop_column("status")
    _decision_json_to_text()
