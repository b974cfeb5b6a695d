"""What the report shows of a text question: the terms that set its latest shown wave apart
from the one before, and a few of that wave's answers (docs/statistics.md "Distinctive terms of
text answers"). The same figures as GET …/questions/{key}/texts, never a small wave's."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from feedback.analysis.distinct_terms import DistinctTerms
from feedback.analysis.figures import QuestionTrends
from feedback.analysis.text_queries import TextFilter
from feedback.analysis.texts import TermsReason, survey_wave_texts
from feedback.surveys.models import Survey

SAMPLE = 5


@dataclass(frozen=True, slots=True)
class TextHighlights:
    """`answers` are the first `SAMPLE` answers of the wave in the order they were stored (the
    order the texts route pages in), of `n`."""

    wave_label: str
    previous_label: str | None
    n: int
    terms: DistinctTerms | None
    terms_reason: TermsReason | None
    answers: tuple[str, ...]


async def text_highlights(
    session: AsyncSession,
    survey: Survey,
    question: QuestionTrends,
    channels: tuple[str, ...] | None = None,
) -> TextHighlights | None:
    """None for a question that is not a text question, or has no wave of `min_n` answers
    (through `channels`, the report's channel filter; None: every channel)."""
    if question.meta.type != "text":
        return None
    shown = [w for w in question.total.waves if w.shown]
    if not shown:
        return None
    wave = shown[-1].wave
    texts = await survey_wave_texts(
        session,
        survey,
        question.meta.key,
        wave.number,
        TextFilter(channels),
        limit=SAMPLE,
        cursor=None,
    )
    if texts.suppressed is not None:
        return None
    labels = {w.wave.number: w.wave.label for w in question.total.waves}
    return TextHighlights(
        wave_label=wave.label,
        previous_label=None if texts.previous_wave is None else labels.get(texts.previous_wave),
        n=texts.n,
        terms=texts.terms,
        terms_reason=texts.terms_reason,
        answers=tuple(a.text for a in texts.answers.items),
    )
