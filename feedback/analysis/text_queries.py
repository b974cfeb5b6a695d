"""Statements over a text question's answers, for `analysis.texts`: scoped by a survey the caller
has already found in its organisation, current revisions only (an erased respondent's answers
are deleted, so they cannot appear)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeVarTuple

from sqlalchemy import Select, select

from feedback.analysis.cells import CHANNEL_SEGMENT
from feedback.responses.models import Answer, Respondent, Response
from feedback.responses.queries import attribute_segment

Columns = TypeVarTuple("Columns")
# What `segment_value` names the segment `null` by: its key in the trends, or a blank.
NULL_SEGMENT = ("null", "")


@dataclass(frozen=True, slots=True)
class TextFilter:
    """Which answers: a channel, and a respondent attribute with the value it must have
    (`NULL_SEGMENT`: respondents without it)."""

    channels: tuple[str, ...] | None = None
    segment: str | None = None
    segment_value: str | None = None


def _filtered(
    stmt: Select[*Columns], survey_id: uuid.UUID, key: str, only: TextFilter
) -> Select[*Columns]:
    stmt = stmt.join(Response, Response.id == Answer.response_id).where(
        Answer.survey_id == survey_id,
        Answer.question_key == key,
        Answer.is_current,
        Answer.value_text.is_not(None),
    )
    if only.channels is not None:
        stmt = stmt.where(Response.channel.in_(only.channels))
    if only.segment == CHANNEL_SEGMENT:
        stmt = stmt.where(Response.channel == only.segment_value)
    elif only.segment is not None and only.segment_value in NULL_SEGMENT:
        # The segment `null`: answers linked to no respondent are in it too.
        stmt = stmt.outerjoin(Respondent, Respondent.id == Answer.respondent_id).where(
            attribute_segment(only.segment).is_(None)
        )
    elif only.segment is not None:
        stmt = stmt.join(Respondent, Respondent.id == Answer.respondent_id).where(
            attribute_segment(only.segment) == only.segment_value
        )
    return stmt


def texts_up_to(
    survey_id: uuid.UUID, key: str, wave: int, only: TextFilter
) -> Select[int, str | None]:
    """(wave, text) of every answer in the waves up to `wave`: what the terms are counted from."""
    stmt = select(Answer.wave_number, Answer.value_text)
    return _filtered(stmt, survey_id, key, only).where(Answer.wave_number <= wave)


def wave_answers(
    survey_id: uuid.UUID, key: str, wave: int, only: TextFilter
) -> Select[Answer, Response]:
    """The answers of one wave with their responses: what an analyst pages through."""
    stmt = select(Answer, Response)
    return _filtered(stmt, survey_id, key, only).where(Answer.wave_number == wave)
