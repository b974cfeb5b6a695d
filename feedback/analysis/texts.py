"""A text question's answers in one wave, and the terms that distinguish them from the previous
wave's (`distinct_terms`, docs/statistics.md "Distinctive terms of text answers").

The filters (channel, and a respondent attribute's value) select the answers of every wave
alike, so the terms compare like with like. A wave whose filtered answers number fewer than the
survey's `min_n` is suppressed like any other small cell: its `n` is shown, not its answers
nor its terms; and a small previous wave takes part in no comparison.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from feedback.analysis import text_queries
from feedback.analysis.distinct_terms import DistinctTerms, distinct_terms, term_counts
from feedback.analysis.service import SEGMENT_PATTERN
from feedback.analysis.stopwords import stop_words
from feedback.analysis.text_queries import TextFilter
from feedback.analysis.text_terms import terms_of
from feedback.errors import FieldError, Invalid, NotFound
from feedback.pagination import Page, paginate
from feedback.responses.models import Answer, Response
from feedback.surveys import queries as survey_queries
from feedback.surveys.models import Survey
from feedback.surveys.service import definition_of, get_survey, survey_settings

# Why a wave has no terms.
TermsReason = Literal["suppressed", "first_wave", "previous_wave_small"]


@dataclass(frozen=True, slots=True)
class TextAnswer:
    response_id: uuid.UUID
    text: str
    response: Response


@dataclass(frozen=True, slots=True)
class WaveTexts:
    """One wave's text answers (a page of them) and its distinguishing terms. `suppressed` is
    "small" when the wave has fewer than `min_n` answers: then `answers` is empty and `terms`
    None; `terms_reason` says why there are no terms."""

    key: str
    wave: int
    n: int
    min_n: int
    suppressed: Literal["small"] | None
    previous_wave: int | None
    previous_n: int
    answers: Page[TextAnswer]
    terms: DistinctTerms | None
    terms_reason: TermsReason | None


async def wave_texts(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    slug: str,
    key: str,
    wave: int,
    channels: tuple[str, ...] | None,
    segment: str | None,
    segment_value: str | None,
    limit: int,
    cursor: str | None,
) -> WaveTexts:
    """`segment` is a respondent attribute (or `channel`) that must have `segment_value`."""
    only = TextFilter(channels, segment, segment_value)
    _check_filter(only)
    survey = await get_survey(session, org_id=org_id, slug=slug)
    await _check_text_question(session, survey, key)
    return await survey_wave_texts(session, survey, key, wave, only, limit=limit, cursor=cursor)


async def survey_wave_texts(
    session: AsyncSession,
    survey: Survey,
    key: str,
    wave: int,
    only: TextFilter,
    *,
    limit: int,
    cursor: str | None,
) -> WaveTexts:
    """The texts of a survey already found in its organisation, for a known text question."""
    min_n = survey_settings(survey).min_n
    stop = stop_words(survey_settings(survey).declared_locales(survey.default_locale))
    by_wave: dict[int, list[frozenset[str]]] = {}
    rows = await session.execute(text_queries.texts_up_to(survey.id, key, wave, only))
    for number, text in rows:
        by_wave.setdefault(number, []).append(terms_of(text or "", stop))
    n = len(by_wave.get(wave, []))
    previous = wave - 1 if wave > 1 else None
    previous_n = 0 if previous is None else len(by_wave.get(previous, []))
    if n < min_n:
        empty: Page[TextAnswer] = Page([], None)
        return WaveTexts(
            key, wave, n, min_n, "small", previous, previous_n, empty, None, "suppressed"
        )
    stmt = text_queries.wave_answers(survey.id, key, wave, only)
    page = await paginate(session, stmt, (Answer.id,), limit=limit, cursor=cursor)
    answers = Page(
        [TextAnswer(r[1].response_id, r[0].value_text or "", r[1]) for r in page.items],
        page.next_cursor,
    )
    terms, reason = _terms(by_wave, wave, previous, previous_n, min_n)
    return WaveTexts(key, wave, n, min_n, None, previous, previous_n, answers, terms, reason)


def _terms(
    by_wave: dict[int, list[frozenset[str]]],
    wave: int,
    previous: int | None,
    previous_n: int,
    min_n: int,
) -> tuple[DistinctTerms | None, TermsReason | None]:
    if previous is None:
        return None, "first_wave"
    if previous_n < min_n:
        return None, "previous_wave_small"
    prior: Counter[str] = Counter()
    for number, answers in by_wave.items():
        if number < wave:
            prior.update(term_counts(answers))
    current = term_counts(by_wave[wave])
    before = term_counts(by_wave.get(previous, []))
    return distinct_terms(current, before, prior, min_n=min_n), None


def _check_filter(only: TextFilter) -> None:
    errors: list[FieldError] = []
    if only.segment is not None and SEGMENT_PATTERN.fullmatch(only.segment) is None:
        errors.append(FieldError("/segment", "must be a respondent attribute name"))
    if (only.segment is None) != (only.segment_value is None):
        missing = "/segment_value" if only.segment_value is None else "/segment"
        errors.append(FieldError(missing, "segment and segment_value go together"))
    if errors:
        raise Invalid(errors, "The segment filter is invalid.")


async def _check_text_question(session: AsyncSession, survey: Survey, key: str) -> None:
    """The key must name a text question in some published version."""
    versions = await session.scalars(survey_queries.published_versions_of(survey.id))
    types = {q.type for v in versions if (q := definition_of(v).question(key)) is not None}
    if not types:
        raise NotFound(f"Survey '{survey.slug}' has no question '{key}'.")
    if "text" not in types:
        raise Invalid(
            [FieldError("/key", f"'{key}' is not a text question")],
            "Only text questions have text answers.",
        )
