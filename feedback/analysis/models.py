"""The analysis's own tables: rollups of the trends statement, per question, wave and split,
and the splits readers ask for."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from feedback.db import Base, JSONType, UTCDateTime


class TrendRollup(Base):
    """The rows the trends statement returned for one question, one wave and one split (its
    segment or none, channel filter and counting: `spec`, a hash), with the sums of changes
    they were computed at (`analysis.rollups`). `rows` is their JSON text: floats written by their
    shortest exact form, read back bit for bit."""

    __tablename__ = "trend_rollup"

    survey_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), primary_key=True
    )
    spec: Mapped[str] = mapped_column(String(64), primary_key=True)
    wave_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    answers_seen: Mapped[int] = mapped_column(BigInteger)
    attributes_seen: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[str] = mapped_column(Text)


class TrendSplit(Base):
    """A split of a survey's trends that readers ask for: its segment (None: no split) and
    channel filter (None: every channel), `key` a hash of both; `used_at`, when one last did
    (written at most once a day), or, for a split the survey adopted, when one last did on
    another survey of its organisation (`analysis.splits`). The worker keeps the rollups of
    the splits used lately counted (`analysis.warming`), so that a reader does not wait for a
    count after a write; `warming_until` is the lease of the worker counting it."""

    __tablename__ = "trend_split"

    survey_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    segment: Mapped[str | None] = mapped_column(String(63), nullable=True)
    channels: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warming_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
