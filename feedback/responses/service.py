"""The analyst side: responses as lists and details, and the codebook.

Services flush, never commit: reads here run in the request's session.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from feedback.errors import FieldError, Invalid, NotFound
from feedback.orgs.principal import Principal
from feedback.pagination import Page, paginate
from feedback.responses import queries
from feedback.responses.models import Response, ResponseRevision
from feedback.surveys.definition import Definition
from feedback.surveys.models import SurveyVersion
from feedback.surveys.service import definition_of, get_survey, list_versions
from feedback.validation import instant_problem

# The columns every export row starts with, before the question keys of the wide layout.
WIDE_FIXED_COLUMNS = (
    "response_id",
    "revision",
    "wave",
    "version",
    "channel",
    "submitted_at",
    "revised_at",
    "respondent_id",
    "locale",
)

# Respondent attributes follow the question keys in the wide export, as `attribute.NAME`
# (question keys hold no dot, so the two never meet; an import skips these columns).
ATTRIBUTE_PREFIX = "attribute."


@dataclass(frozen=True, slots=True)
class CurrentResponse:
    response: Response
    current: ResponseRevision


@dataclass(frozen=True, slots=True)
class ResponseHistory:
    response: Response
    revisions: list[ResponseRevision]

    @property
    def current(self) -> ResponseRevision:
        return self.revisions[-1]


@dataclass(frozen=True, slots=True)
class CodebookEntry:
    key: str
    type: str
    versions: list[int]
    definitions: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Codebook:
    survey: str
    versions: list[int]
    columns: list[str]
    questions: list[CodebookEntry]


async def counts_by_wave(
    session: AsyncSession, survey_id: uuid.UUID, *, numbers: list[int] | None = None
) -> dict[int, int]:
    """Responses in each wave of a survey the caller has already found in its organisation
    (`surveys.service.get_survey`), or only in the waves `numbers`."""
    return await queries.response_counts_by_wave(session, survey_id, numbers=numbers)


async def attribute_columns(
    session: AsyncSession, org_id: uuid.UUID, survey_id: uuid.UUID
) -> list[str]:
    """The wide export's attribute columns: every attribute name of the respondents of a survey
    the caller has found in its organisation, sorted, each prefixed."""
    names: set[str] = set()
    result = await session.stream_scalars(
        queries.attributes_of_respondents(org_id, survey_id).execution_options(yield_per=1000)
    )
    async for attributes in result:
        names.update(attributes or {})
    return [ATTRIBUTE_PREFIX + name for name in sorted(names)]


async def list_responses(
    session: AsyncSession,
    *,
    principal: Principal,
    slug: str,
    wave: int | None,
    since: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page[CurrentResponse]:
    """Current revisions, oldest change first; `since` keeps responses submitted or revised at
    or after it, so polling with the last `revised_at` seen misses no revision."""
    if since is not None and (problem := instant_problem(since)) is not None:
        raise Invalid([FieldError("/since", problem)], "The since instant is invalid.")
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    stmt = queries.current_revisions_of(survey.id)
    if wave is not None:
        stmt = stmt.where(Response.wave_number == wave)
    if since is not None:
        stmt = stmt.where(Response.revised_at >= since)
    keys = (Response.revised_at, Response.id)
    page = await paginate(session, stmt, keys, limit=limit, cursor=cursor)
    return Page([CurrentResponse(r[0], r[1]) for r in page.items], page.next_cursor)


async def get_response(
    session: AsyncSession, *, principal: Principal, slug: str, response_id: uuid.UUID
) -> ResponseHistory:
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    response = await session.scalar(
        queries.responses_of(survey.id).where(Response.response_id == response_id)
    )
    if response is None:
        raise NotFound(f"Survey '{slug}' has no response {response_id}.")
    revisions = list((await session.scalars(queries.revisions_of(response.id))).all())
    return ResponseHistory(response, revisions)


async def published_definitions(
    session: AsyncSession, *, principal: Principal, slug: str
) -> list[tuple[SurveyVersion, Definition]]:
    versions = await list_versions(session, principal=principal, slug=slug)
    return [(v, definition_of(v)) for v in versions if v.published_at is not None]


def question_keys(definitions: list[tuple[SurveyVersion, Definition]]) -> list[str]:
    """Every question key of every version, in the order they first appear."""
    keys: dict[str, None] = {}
    for _, definition in definitions:
        keys.update(dict.fromkeys(definition.keys()))
    return list(keys)


async def codebook(session: AsyncSession, *, principal: Principal, slug: str) -> Codebook:
    """Every question of every published version, with its options and scale, by key."""
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    definitions = await published_definitions(session, principal=principal, slug=slug)
    entries: dict[str, CodebookEntry] = {}
    for version, definition in definitions:
        for question in definition.questions:
            data = {
                "version": version.number,
                **question.model_dump(mode="json", exclude_none=True),
            }
            entry = entries.get(question.key)
            if entry is None:
                entries[question.key] = CodebookEntry(
                    question.key, question.type, [version.number], [data]
                )
            else:
                entry.versions.append(version.number)
                entry.definitions.append(data)
                # The type the key has now: the newest version's.
                entries[question.key] = CodebookEntry(
                    entry.key, question.type, entry.versions, entry.definitions
                )
    return Codebook(
        survey=slug,
        versions=[v.number for v, _ in definitions],
        columns=[
            *WIDE_FIXED_COLUMNS,
            *question_keys(definitions),
            *await attribute_columns(session, survey.org_id, survey.id),
        ],
        questions=list(entries.values()),
    )
