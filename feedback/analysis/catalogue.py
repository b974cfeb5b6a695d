"""The survey's questions as the analysis counts them: every key across the published versions.

A question's series breaks at a version whose change for its key `breaks_series`; the waves
between two breaks are one *run*. Within a run the type and scale are fixed, so one `Counting`
counts it; across runs estimates are reported, but change tests and trends stay inside a run.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from feedback.analysis.cells import Counting, QuestionQuery
from feedback.analysis.results import Metric
from feedback.surveys.definition import (
    Definition,
    LikertQuestion,
    MultiChoiceQuestion,
    NpsQuestion,
    NumberQuestion,
    Question,
    RatingQuestion,
    SingleChoiceQuestion,
    integer_points,
)

METRICS: dict[str, Metric | None] = {
    "likert": "mean",
    "rating": "mean",
    "nps": "nps",
    "single_choice": "share",
    "multi_choice": "share",
    "number": "mean",
    "text": None,
    "date": None,
}


@dataclass(frozen=True, slots=True)
class QuestionMeta:
    """A question key across the survey's published versions.

    `question` is its newest definition; `series[i]` the newest definition in run i (None when
    no version of that run asks it); `first_versions[i]` the run's first version (the breaking
    version, or the first version that asked it).
    """

    key: str
    question: Question
    series: tuple[Question | None, ...]
    first_versions: tuple[int | None, ...]
    query: QuestionQuery

    @property
    def type(self) -> str:
        return self.question.type

    @property
    def metric(self) -> Metric | None:
        return METRICS[self.question.type]


def catalogue(
    definitions: Sequence[tuple[int, Definition]], breaks: Mapping[str, Sequence[int]]
) -> dict[str, QuestionMeta]:
    """Every question key of the published versions, newest version's order first, then keys
    no longer asked (most recently asked first), each with how each of its runs is counted."""
    asked: dict[str, list[tuple[int, Question]]] = defaultdict(list)
    for number, definition in sorted(definitions, key=lambda d: d[0]):
        for question in definition.questions:
            asked[question.key].append((number, question))
    order = sorted(asked, key=lambda k: (-asked[k][-1][0], _position(definitions, k)))
    out: dict[str, QuestionMeta] = {}
    for key in order:
        key_breaks = tuple(sorted(set(breaks.get(key, ()))))
        by_run: list[list[tuple[int, Question]]] = [[] for _ in range(len(key_breaks) + 1)]
        for number, question in asked[key]:
            by_run[bisect_right(key_breaks, number)].append((number, question))
        series = tuple(s[-1][1] if s else None for s in by_run)
        first_versions = tuple(
            (key_breaks[i - 1] if i else s[0][0]) if s else None for i, s in enumerate(by_run)
        )
        countings = tuple(_counting([q for _, q in s]) if s else None for s in by_run)
        out[key] = QuestionMeta(
            key=key,
            question=asked[key][-1][1],
            series=series,
            first_versions=first_versions,
            query=QuestionQuery(key=key, runs=countings, breaks=key_breaks),
        )
    return out


def _position(definitions: Sequence[tuple[int, Definition]], key: str) -> int:
    newest = max((d for d in definitions if d[1].question(key)), key=lambda d: d[0])[1]
    return newest.keys().index(key)


def _counting(questions: Sequence[Question]) -> Counting:
    """How one run is counted, from its definitions (oldest first). Within a run
    the type and scale are fixed (changing them breaks the series); options may come and go."""
    latest = questions[-1]
    same = [q for q in questions if q.type == latest.type]
    if isinstance(latest, LikertQuestion | RatingQuestion | NpsQuestion):
        points = [p for q in same if (p := integer_points(q)) is not None]
        return Counting(
            "scale", scale=(min(p.start for p in points), max(p.stop - 1 for p in points))
        )
    if isinstance(latest, SingleChoiceQuestion | MultiChoiceQuestion):
        options: dict[str, None] = {}
        for q in reversed(same):
            assert isinstance(q, SingleChoiceQuestion | MultiChoiceQuestion)
            options.update(dict.fromkeys(o.key for o in q.options))
        kind: Literal["single", "multi"] = (
            "single" if isinstance(latest, SingleChoiceQuestion) else "multi"
        )
        return Counting(kind, options=tuple(options))
    if isinstance(latest, NumberQuestion):
        # Not centred on the question's `min`: answers may sit anywhere in [min, max], and sums
        # around a bound far from them lose the variance (queries: "Number answers").
        return Counting("number")
    return Counting("text")


class Wave(Protocol):
    """A wave as the analysis reads it (`surveys.service.WaveInfo` is one)."""

    @property
    def number(self) -> int: ...
    @property
    def label(self) -> str: ...
    @property
    def opens_at(self) -> datetime: ...
    @property
    def closes_at(self) -> datetime | None: ...


def versions_in_effect(
    waves: Sequence[Wave], published: Sequence[tuple[datetime | None, int]], now: datetime
) -> dict[int, int | None]:
    """Per wave, the newest version published before it closed (or now, when still open), from
    `(published_at, number)` of the survey's versions."""
    stamped = sorted((at, number) for at, number in published if at is not None)
    out: dict[int, int | None] = {}
    for wave in waves:
        until = wave.closes_at if wave.closes_at is not None and wave.closes_at < now else now
        current = [number for at, number in stamped if at < until]
        out[wave.number] = current[-1] if current else None
    return out
