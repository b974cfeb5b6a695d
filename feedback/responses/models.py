"""Tables of responses: respondent, response, response_revision, answer.

A response is one supporter's answers to one survey in one wave. Its identity is the client's
`response_id` (unique per survey, the idempotency key); its content lives in revisions, each the
document as it came. `answer` holds the same answers normalised (docs/architecture.md, "The
read path of a trends request"): one row per answered question (per chosen option for
multi-choice) and revision, flagged `is_current` on the latest revision only. The analysis SQL
reads `answer` directly, so its column names are part of the contract with
`feedback/analysis/queries.py`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from feedback.db import Base, JSONType, UTCDateTime, new_id, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid); PostgreSQL gets a bigint.
AnswerId = BigInteger().with_variant(Integer(), "sqlite")

# The analysis index is partial on current answers. The predicates are spelled as SQLAlchemy
# renders `where(Answer.is_current)` on each dialect, because SQLite uses a partial index only
# when the query's WHERE contains the index's condition term for term. `is_current` is also its
# last column: SQLite counts a partial index as covering only when it holds every column the
# query names, the WHERE's included (PostgreSQL does not need it, and it costs one byte a row).
# `version` is there for questions whose series breaks, which are counted by version
# (`analysis.queries`): with it, those read the index alone too. It comes after the columns
# every question groups by, so the GROUP BY of a question that never breaks (most of them)
# still follows the index order and aggregates as it scans; put after `wave_number`, it would
# cost those a sort (measured at 1M rows: 1.4x on PostgreSQL, 2x on SQLite).
# `channel` follows the columns every question groups by, so a split by channel groups in index
# order with no join, and a channel filter reads the index alone (migration 0009).
# On PostgreSQL it also carries (outside its key, so the order is the same) the respondent and
# response of each answer: what a split by attribute joins on, which then reads the index
# alone as well (migration 0008; 43% larger, plain trends unchanged at 10M rows).
CURRENT_SQLITE = text("is_current = 1")
CURRENT_POSTGRESQL = text("is_current")


class Respondent(Base):
    """A supporter as the organisation knows them, stored pseudonymously.

    `kind` is `known` (created by the organisation, maybe with an `external_ref`, whose keyed
    hash is `ref_hash`, and a personal `token` stored as `token_hash`) or `anonymous` (made from
    an embed's `anonymous_id`: the id is a keyed hash of it, and nothing else is stored).
    `attributes` are the organisation's segments (`{"country": "NL"}`), scalar values only.
    """

    __tablename__ = "respondent"
    __table_args__ = (
        UniqueConstraint("org_id", "ref_hash"),
        CheckConstraint("kind IN ('known', 'anonymous')", name="kind"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    ref_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Response(Base):
    """The identity and current state of one response; its revisions hold the documents.

    `id` is ours; `response_id` is the client's UUID, unique per survey: concurrent duplicates
    meet on that constraint (INSERT … ON CONFLICT DO NOTHING), never on a read-then-write.
    `body_hash` is the canonical hash of the first submission, so a replay of the same body can
    be told from a different body under the same id.
    """

    __tablename__ = "response"
    __table_args__ = (
        UniqueConstraint("survey_id", "response_id"),
        Index("ix_response_survey_id_revised_at_id", "survey_id", "revised_at", "id"),
        # A wave's responses, and one voice per wave (analysis/one_voice.py): each respondent's
        # responses in a wave in the order they were submitted, read from the index alone.
        Index(
            "ix_response_one_voice",
            "survey_id",
            "wave_number",
            "respondent_id",
            "submitted_at",
            "response_id",
            "id",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    survey_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    response_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    respondent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("respondent.id", ondelete="SET NULL"), nullable=True, index=True
    )
    wave_number: Mapped[int] = mapped_column(Integer)
    # The version and number of the current revision.
    version: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str | None] = mapped_column(String(35), nullable=True)
    # When the supporter answered: the server's receive time, or the time an import states.
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the current revision arrived; lists page by it, so a revised response is seen again.
    revised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edit_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    body_hash: Mapped[str] = mapped_column(String(64))


class ResponseRevision(Base):
    """One revision of a response: the document as it came (minus the respondent's secrets)."""

    __tablename__ = "response_revision"

    response_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("response.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    body_hash: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Answer(Base):
    """One normalised value of one answered question in one revision.

    Analysis filters with `where(Answer.is_current)` (which the partial index matches), counts
    respondents of a multi-choice question with SUM(first), and reaches segments by joining
    `respondent` on `respondent_id` (see `queries.attribute_value`).
    """

    __tablename__ = "answer"
    __table_args__ = (
        Index(
            "ix_answer_analysis",
            "survey_id",
            "question_key",
            "wave_number",
            "value_num",
            "option_key",
            "channel",
            "first",
            "version",
            "is_current",
            sqlite_where=CURRENT_SQLITE,
            postgresql_where=CURRENT_POSTGRESQL,
            postgresql_include=["respondent_id", "response_id"],
        ),
        Index("ix_answer_response_id_revision", "response_id", "revision"),
    )

    id: Mapped[int] = mapped_column(AnswerId, primary_key=True, autoincrement=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    survey_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    response_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    wave_number: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    respondent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    # The channel of the revision that wrote the row: the response's channel while the row is
    # current (a revision writes new rows), so a channel split or filter reads the index alone.
    channel: Mapped[str] = mapped_column(String(32))
    question_key: Mapped[str] = mapped_column(String(63))
    value_num: Mapped[float | None] = mapped_column(Float, nullable=True)
    option_key: Mapped[str | None] = mapped_column(String(63), nullable=True)
    value_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    first: Mapped[bool] = mapped_column(Boolean)
    is_current: Mapped[bool] = mapped_column(Boolean)


class AnswerChange(Base):
    """One write to the current answers of a survey's wave: appended, in the writer's own
    transaction, by every write that adds, supersedes or deletes answer rows (a batch of
    responses, a revision, an erasure), never updated. Per wave the sum of `weight` only grows,
    so a trends rollup computed after reading that sum stays exact while the sum is the same
    (`analysis.rollups`). Appending takes no lock that another writer waits on, unlike a counter
    row; `weight` lets rows be merged later without changing the sum."""

    __tablename__ = "answer_change"
    __table_args__ = (
        Index("ix_answer_change_survey_id_wave_number", "survey_id", "wave_number", "weight"),
    )

    id: Mapped[int] = mapped_column(AnswerId, primary_key=True, autoincrement=True)
    survey_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    wave_number: Mapped[int] = mapped_column(Integer)
    weight: Mapped[int] = mapped_column(BigInteger, server_default=text("1"))


class AttributeChange(Base):
    """One change of one attribute of an organisation's respondents (a respondent's update
    that changed, added or removed it): appended in the writer's transaction, like
    `AnswerChange`, so that splits by that attribute kept in rollups know when a respondent's
    segment may have moved. Per attribute, so a CRM sync that rewrites one attribute (a last
    donation) leaves splits by the others (region) kept."""

    __tablename__ = "attribute_change"
    __table_args__ = (
        Index("ix_attribute_change_org_id_attribute", "org_id", "attribute", "weight"),
    )

    id: Mapped[int] = mapped_column(AnswerId, primary_key=True, autoincrement=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    attribute: Mapped[str] = mapped_column(String(63))
    weight: Mapped[int] = mapped_column(BigInteger, server_default=text("1"))
