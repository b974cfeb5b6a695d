"""Statements over response tables, each scoped by organisation or by a survey already scoped."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.responses.models import Answer, Respondent, Response, ResponseRevision


def respondents_of(org_id: uuid.UUID) -> Select[Respondent]:
    return select(Respondent).where(Respondent.org_id == org_id)


def responses_of(survey_id: uuid.UUID) -> Select[Response]:
    return select(Response).where(Response.survey_id == survey_id)


def current_revisions_of(survey_id: uuid.UUID) -> Select[Response, ResponseRevision]:
    """Each response of the survey with its current revision."""
    return (
        select(Response, ResponseRevision)
        .join(
            ResponseRevision,
            and_(
                ResponseRevision.response_id == Response.id,
                ResponseRevision.revision == Response.revision,
            ),
        )
        .where(Response.survey_id == survey_id)
    )


def revisions_of(response_pk: uuid.UUID) -> Select[ResponseRevision]:
    return (
        select(ResponseRevision)
        .where(ResponseRevision.response_id == response_pk)
        .order_by(ResponseRevision.revision)
    )


def current_answers_of(survey_id: uuid.UUID) -> Select[Answer]:
    return select(Answer).where(Answer.survey_id == survey_id, Answer.is_current)


def attribute_value(key: str) -> ColumnElement[str]:
    """A respondent attribute as text, on both dialects (`attributes ->> 'key'` on PostgreSQL,
    `json_extract(attributes, '$."key"')` on SQLite): what a segment groups by. Join
    `respondent` on `Answer.respondent_id` to use it."""
    value: ColumnElement[str] = Respondent.attributes[key].as_string()
    return value


async def response_counts_by_wave(
    session: AsyncSession, survey_id: uuid.UUID, *, numbers: Sequence[int] | None = None
) -> dict[int, int]:
    """The number of responses in each wave of the survey (only `numbers` when given)."""
    stmt = (
        select(Response.wave_number, func.count())
        .where(Response.survey_id == survey_id)
        .group_by(Response.wave_number)
    )
    if numbers is not None:
        stmt = stmt.where(Response.wave_number.in_(list(numbers)))
    return {wave: count for wave, count in (await session.execute(stmt)).all()}
