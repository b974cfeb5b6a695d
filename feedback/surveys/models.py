"""Tables of surveys: survey, survey_version (immutable once published), version_change, wave."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
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


class Survey(Base):
    __tablename__ = "survey"
    __table_args__ = (UniqueConstraint("org_id", "slug"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(63))
    title: Mapped[str] = mapped_column(String(300))
    # The title as supporters read it when it differs by locale ({locale: text}; NULL: `title`
    # in every locale; `title` then holds the default locale's), and the description shown
    # under it (one text or such a map).
    title_texts: Mapped[dict[str, str] | None] = mapped_column(JSONType, nullable=True)
    description: Mapped[str | dict[str, str] | None] = mapped_column(JSONType, nullable=True)
    default_locale: Mapped[str] = mapped_column(String(35))
    # The schedule as its wire JSON ({rrule, starts_at, timezone, wave_duration}) or NULL for
    # one always-open wave; surveys.schedule turns it into waves.
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Waves already numbered before the current schedule took effect: the schedule's wave n
    # is stored as wave n + wave_offset, so a schedule change keeps the count going.
    wave_offset: Mapped[int] = mapped_column(Integer, default=0)


class SurveyVersion(Base):
    """A version of a survey's questions. `published_at IS NULL` is the one editable draft;
    once published a row is immutable, enforced here and by a database trigger."""

    __tablename__ = "survey_version"
    __table_args__ = (
        UniqueConstraint("survey_id", "number"),
        # At most one draft per survey.
        Index(
            "uq_survey_version_one_draft",
            "survey_id",
            unique=True,
            sqlite_where=text("published_at IS NULL"),
            postgresql_where=text("published_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    survey_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Changes against the previous published version, as published (list of dicts).
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class VersionChange(Base):
    """One change of one question key at one published version: the queryable record of
    series breaks that analysis splits trends at."""

    __tablename__ = "version_change"

    survey_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_key: Mapped[str] = mapped_column(String(63), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    breaks_series: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text, default="")


class Wave(Base):
    """A materialised wave. Rows are created idempotently the first time a wave is needed
    (INSERT … ON CONFLICT DO NOTHING), so racing processes agree on one row."""

    __tablename__ = "wave"
    __table_args__ = (UniqueConstraint("survey_id", "number"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    survey_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(40))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
