"""The analysis's own table: rollups of the trends statement, per question, wave and split."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from feedback.db import Base


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
