"""Wire types of GET /surveys/{slug}/questions/{key}/texts, and the one place a `WaveTexts`
becomes them (msgspec Structs, like `analysis.schemas`, so /schema types every field). The
terms go out as `distinct_terms` computed them: its frozen dataclasses already carry the
contract's names."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta, Struct

from feedback.analysis.distinct_terms import DistinctTerms
from feedback.analysis.texts import TermsReason, TextAnswer, WaveTexts


class TextAnswerRead(Struct, kw_only=True):
    response_id: uuid.UUID
    submitted_at: datetime
    channel: str
    locale: str | None
    version: int
    revision: int
    text: str


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
    terms: Annotated[
        DistinctTerms | None,
        Meta(description='docs/statistics.md "Distinctive terms of text answers"'),
    ]
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


def wave_texts_read(texts: WaveTexts) -> WaveTextsRead:
    return WaveTextsRead(
        question=texts.key,
        wave=texts.wave,
        n=texts.n,
        min_n=texts.min_n,
        suppressed=texts.suppressed,
        previous_wave=texts.previous_wave,
        previous_n=texts.previous_n,
        terms=texts.terms,
        terms_reason=texts.terms_reason,
        items=[_answer(a) for a in texts.answers.items],
        next_cursor=texts.answers.next_cursor,
    )
