"""Statements over response tables, each scoped by organisation or by a survey already scoped."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    case,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

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


def attributes_of_respondents(org_id: uuid.UUID, survey_id: uuid.UUID) -> Select[dict[str, Any]]:
    """The attributes of every respondent with a response to the survey."""
    answered = select(Response.respondent_id).where(Response.survey_id == survey_id)
    return select(Respondent.attributes).where(
        Respondent.org_id == org_id, Respondent.id.in_(answered)
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
    """A respondent attribute as text, the same on both dialects: what a segment groups by.

    PostgreSQL's `attributes ->> 'key'` is the reference: 'true'/'false', strings as they are,
    numbers in plain notation; a missing key or JSON null is NULL (the `null` segment). Join
    `respondent` on `Answer.respondent_id` to use it.
    """
    path = bindparam(None, key, type_=JSON.JSONStrIndexType())
    return _AttributeText(Respondent.attributes, path)


def attribute_segment(key: str) -> ColumnElement[str | None]:
    """The segment a respondent's attribute puts them in: its text (`attribute_value`), with
    NULL (the segment `null`) for a blank value and for the text "null" as well as a missing
    attribute or JSON null. A CRM export writes an unknown value as one or the other, and a
    segment named "null" beside the segment `null` would be two groups under one key."""
    return func.nullif(func.nullif(attribute_value(key), ""), "null", type_=String)


class _AttributeText(FunctionElement[str]):
    """`attributes ->> key` (args: the column and the key); SQLite's JSON functions give other
    text for booleans and numbers, so it is rebuilt there (`_sqlite_text`)."""

    type = String()
    inherit_cache = True


@compiles(_AttributeText)
def _compile_attribute_text(element: _AttributeText, compiler: SQLCompiler, **kw: Any) -> str:
    attributes, path = element.clauses
    return compiler.process(attributes[path].as_string(), **kw)


@compiles(_AttributeText, "sqlite")
def _compile_sqlite_text(element: _AttributeText, compiler: SQLCompiler, **kw: Any) -> str:
    attributes, path = element.clauses
    return compiler.process(_sqlite_text(attributes, path), **kw)


def _sqlite_text(attributes: ColumnElement[Any], path: ColumnElement[str]) -> ColumnElement[str]:
    # json_extract gives booleans as 1/0 and numbers as SQLite values (0.30000000000000004
    # becomes '0.3'); `->` (SQLite >= 3.38) gives a number's JSON text as written, which is
    # what PostgreSQL's `->>` gives for the numbers attributes hold (only exponents differ:
    # 1e+20 here, 100000000000000000000 there). Strings come as they are, JSON null as NULL.
    written = attributes.op("->", return_type=String)(path)
    return case(
        {"true": "true", "false": "false", "integer": written, "real": written},
        value=func.json_type(attributes, path),
        else_=func.json_extract(attributes, path, type_=String),
    )


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
