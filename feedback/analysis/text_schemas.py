"""Wire types of GET /surveys/{slug}/questions/{key}/texts, and the one place a `WaveTexts`
becomes them (msgspec Structs, like `analysis.schemas`, so /schema types every field)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta, Struct

from feedback.analysis.distinct_terms import DistinctTerms, NewTerm, TermScore
from feedback.analysis.texts import TermsReason, TextAnswer, WaveTexts


class TextAnswerRead(Struct, kw_only=True):
    response_id: uuid.UUID
    submitted_at: datetime
    channel: str
    locale: str | None
    version: int
    revision: int
    text: str


class TermScoreRead(Struct, kw_only=True):
    term: str
    count: Annotated[int, Meta(description="Answers of this wave that use the term.")]
    previous_count: Annotated[int, Meta(description="Answers of the previous wave that use it.")]
    prior: Annotated[float, Meta(description="α_w, the term's share of the prior.")]
    delta: Annotated[float, Meta(description="The log-odds ratio δ_w (this wave over the last).")]
    z: float


class NewTermRead(Struct, kw_only=True):
    term: str
    count: int


class TermsRead(Struct, kw_only=True):
    n_terms: Annotated[int, Meta(description="n: term uses in this wave.")]
    previous_n_terms: Annotated[int, Meta(description="n′: term uses in the previous wave.")]
    prior_n_terms: Annotated[int, Meta(description="B: term uses in every earlier wave.")]
    rising: list[TermScoreRead]
    falling: list[TermScoreRead]
    new: list[NewTermRead]


class WaveTextsRead(Struct, kw_only=True):
    """A wave's text answers (one page) and the terms that distinguish it from the previous
    wave. A wave with fewer than `min_n` answers is `suppressed: "small"`: only its `n`."""

    question: str
    wave: int
    n: int
    min_n: int
    suppressed: Literal["small"] | None
    previous_wave: int | None
    previous_n: int
    terms: TermsRead | None
    terms_reason: TermsReason | None
    items: list[TextAnswerRead]
    next_cursor: str | None


def _answer(answer: TextAnswer) -> TextAnswerRead:
    r = answer.response
    return TextAnswerRead(
        response_id=answer.response_id,
        submitted_at=r.submitted_at,
        channel=r.channel,
        locale=r.locale,
        version=r.version,
        revision=r.revision,
        text=answer.text,
    )


def _score(s: TermScore) -> TermScoreRead:
    return TermScoreRead(
        term=s.term,
        count=s.count,
        previous_count=s.previous_count,
        prior=s.prior,
        delta=s.delta,
        z=s.z,
    )


def _new(t: NewTerm) -> NewTermRead:
    return NewTermRead(term=t.term, count=t.count)


def _terms(t: DistinctTerms) -> TermsRead:
    return TermsRead(
        n_terms=t.n_terms,
        previous_n_terms=t.previous_n_terms,
        prior_n_terms=t.prior_n_terms,
        rising=[_score(s) for s in t.rising],
        falling=[_score(s) for s in t.falling],
        new=[_new(n) for n in t.new],
    )


def wave_texts_read(texts: WaveTexts) -> WaveTextsRead:
    return WaveTextsRead(
        question=texts.key,
        wave=texts.wave,
        n=texts.n,
        min_n=texts.min_n,
        suppressed=texts.suppressed,
        previous_wave=texts.previous_wave,
        previous_n=texts.previous_n,
        terms=None if texts.terms is None else _terms(texts.terms),
        terms_reason=texts.terms_reason,
        items=[_answer(a) for a in texts.answers.items],
        next_cursor=texts.answers.next_cursor,
    )
