"""Trends, charts and panels of a survey, assembled per question from one aggregate query.

`survey_trends` reads the survey's published versions, series breaks, waves and decisions, runs
the one trends aggregate (`queries.trend_stats`) and turns each question's cells into the
figures of ANALYSIS.md: per-wave estimates, the change from the previous non-suppressed wave of
the same series segment with Benjamini–Hochberg q over the question's family, Mann–Kendall with
Sen's slope per series segment, breaks, decisions, and with `segment=ATTR` the same per
attribute value under complementary suppression.

Decisions made here, beyond the contract:

- **A wave straddling a break.** A version published mid-wave leaves answers under both versions
  in that wave. Each answer's version decides its series segment, so such a wave has one entry
  per segment in `waves` (same `number`, its own `series` and `version`), and each takes part in
  its own segment's tests and trend. A chart draws the wave once, with the part that holds most
  of its answers.
- **Which trend is the question's `trend`.** The latest series segment's (`trend_series` gives
  its index in `series`, which lists every segment in range with its own trend).
- **q families.** One question's change tests within one figure set: the total is a family,
  each segment value another.
- **Waves.** Every wave of the range that has opened, including waves without answers (n 0,
  suppressed); a wave that has not opened is left out.
- **`version` of a wave entry.** For a question whose series breaks, the newest version its
  answers in that wave were given under; otherwise the version current when the wave closed
  (or now, for the open wave): versions are read from answers only where they change figures.
"""

from __future__ import annotations

import re
import uuid
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import partial
from itertools import pairwise
from typing import Literal

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.analysis import queries
from feedback.analysis.changes import (
    chi_square,
    mann_whitney,
    nps_z,
    two_proportion_z,
    welch_t,
    with_q_values,
)
from feedback.analysis.charts import (
    ChartBreak,
    ChartDecision,
    ChartFit,
    ChartFormat,
    ChartPoint,
    ChartSeries,
    decision_position,
    render_chart,
    render_segments,
)
from feedback.analysis.estimates import (
    choice_estimate,
    nps_estimate,
    number_estimate,
    scale_estimate,
    text_estimate,
)
from feedback.analysis.impact import (
    Impact,
    WavePoint,
    figure_text,
    interrupted_time_series,
    series_run,
    unfitted,
)
from feedback.analysis.panel import mcnemar, paired_t, wilcoxon_signed_rank
from feedback.analysis.queries import Cell, CellStats, Counting, QuestionQuery, SegmentValue, Stats
from feedback.analysis.results import (
    ChangeTest,
    Metric,
    NoTrend,
    PanelResult,
    TrendTest,
    WaveEstimate,
)
from feedback.analysis.series import complementary_suppression, effective_min_n
from feedback.analysis.sufficient import Moments, OptionCounts, OptionPairs, PairTable, ScaleCounts
from feedback.analysis.trend import mann_kendall
from feedback.errors import FieldError, Invalid, NotFound
from feedback.loop.service import decisions_for_survey
from feedback.surveys import queries as survey_queries
from feedback.surveys.definition import (
    Definition,
    LikertQuestion,
    MultiChoiceQuestion,
    NpsQuestion,
    NumberQuestion,
    Question,
    RatingQuestion,
    SingleChoiceQuestion,
    TextQuestion,
    in_number_domain,
    integer_points,
    label_text,
)
from feedback.surveys.models import Survey, SurveyVersion
from feedback.surveys.service import (
    WaveInfo,
    definition_of,
    get_survey,
    next_opens_at,
    series_breaks,
    survey_settings,
    waves_in_range,
    window_at,
)

SEGMENT_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,62}")
MAX_SEGMENT_PANELS = 12
NO_VALUE = "no value"

METRICS: dict[str, Metric | None] = {
    "likert": "mean",
    "rating": "mean",
    "nps": "nps",
    "single_choice": "share",
    "multi_choice": "share",
    "number": "mean",
    "text": None,
}


@dataclass(frozen=True, slots=True)
class TrendsQuery:
    """What a trends request asks for: question keys (None: all), opening dates (inclusive),
    a respondent attribute to split by, and a `min_n` that may raise the survey's, never lower."""

    questions: Sequence[str] | None = None
    start: date | None = None
    end: date | None = None
    segment: str | None = None
    min_n: int | None = None


# --- the survey's questions ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuestionMeta:
    """A question key across the survey's published versions.

    `question` is its newest definition; `series[i]` the newest definition in series segment i
    (None when no version of that segment asks it); `first_versions[i]` the segment's first
    version (the breaking version, or the first version that asked it).
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
    no longer asked (most recently asked first), each with how its series are counted."""
    asked: dict[str, list[tuple[int, Question]]] = defaultdict(list)
    for number, definition in sorted(definitions, key=lambda d: d[0]):
        for question in definition.questions:
            asked[question.key].append((number, question))
    order = sorted(asked, key=lambda k: (-asked[k][-1][0], _position(definitions, k)))
    out: dict[str, QuestionMeta] = {}
    for key in order:
        key_breaks = tuple(sorted(set(breaks.get(key, ()))))
        by_series: list[list[tuple[int, Question]]] = [[] for _ in range(len(key_breaks) + 1)]
        for number, question in asked[key]:
            by_series[bisect_right(key_breaks, number)].append((number, question))
        series = tuple(s[-1][1] if s else None for s in by_series)
        first_versions = tuple(
            (key_breaks[i - 1] if i else s[0][0]) if s else None for i, s in enumerate(by_series)
        )
        countings = tuple(_counting([q for _, q in s]) if s else None for s in by_series)
        out[key] = QuestionMeta(
            key=key,
            question=asked[key][-1][1],
            series=series,
            first_versions=first_versions,
            query=QuestionQuery(key=key, series=countings, breaks=key_breaks),
        )
    return out


def _position(definitions: Sequence[tuple[int, Definition]], key: str) -> int:
    newest = max((d for d in definitions if d[1].question(key)), key=lambda d: d[0])[1]
    return newest.keys().index(key)


def _counting(questions: Sequence[Question]) -> Counting:
    """How one series segment is counted, from its definitions (oldest first). Within a segment
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
        # Subtracting the lower bound keeps Σx² exact for answers far from zero (years, prices);
        # a bound outside the numbers answers can take (a definition older than that rule)
        # shifts nothing.
        low = None if latest.min is None else in_number_domain(float(latest.min))
        return Counting("number", shift=low or 0.0)
    return Counting("text")


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WaveFigures:
    """One wave of one question (one series segment of it, for a wave straddling a break)."""

    wave: WaveInfo
    series: int | None
    version: int | None
    estimate: WaveEstimate
    change: ChangeTest | None = None
    option_changes: Mapping[str, ChangeTest] | None = None

    @property
    def shown(self) -> bool:
        return not self.estimate.suppressed

    def to_json(self, *, with_series: bool) -> dict[str, object]:
        """The contract's wave entry; a suppressed wave carries only number, label, n and
        `suppressed` (and `series` when the range holds a break, to tell a split wave apart)."""
        out: dict[str, object] = {"number": self.wave.number, "label": self.wave.label}
        if self.estimate.suppressed:
            out |= {"n": self.estimate.n, "suppressed": True}
            if with_series:
                out["series"] = self.series
            return out
        out |= {
            "opens_at": self.wave.opens_at,
            "closes_at": self.wave.closes_at,
            "version": self.version,
        }
        if with_series:
            out["series"] = self.series
        out |= self.estimate.to_json()
        if self.option_changes is not None:
            out["option_changes"] = {k: t.to_json() for k, t in self.option_changes.items()}
        elif self.estimate.metric is not None:
            out["change"] = None if self.change is None else self.change.to_json()
        return out


Trend = TrendTest | NoTrend


@dataclass(frozen=True, slots=True)
class SeriesFigures:
    """One series segment of a question in the range: its waves and its trend (per option for
    share metrics; None for text)."""

    index: int
    version: int | None
    waves: tuple[int, ...]
    metric: Metric | None
    trend: Trend | None = None
    option_trends: Mapping[str, Trend] | None = None

    def trend_json(self) -> dict[str, object]:
        """`trend` (null with `trend_reason` when no test ran) and, for shares, `option_trends`."""
        if self.metric is None:
            return {"trend": None, "trend_reason": "text answers have no metric to trend"}
        if self.option_trends is not None:
            reasons = [t.reason for t in self.option_trends.values() if isinstance(t, NoTrend)]
            return {
                "trend": None,
                "trend_reason": reasons[0]
                if reasons
                else "a share metric has a trend per option (option_trends)",
                "option_trends": {k: t.to_json() for k, t in self.option_trends.items()},
            }
        if isinstance(self.trend, NoTrend):
            return {"trend": None, "trend_reason": self.trend.reason}
        return {"trend": None if self.trend is None else self.trend.to_json()}

    def to_json(self) -> dict[str, object]:
        return {
            "series": self.index,
            "version": self.version,
            "metric": self.metric,
            "first_wave": self.waves[0] if self.waves else None,
            "last_wave": self.waves[-1] if self.waves else None,
            **self.trend_json(),
        }


@dataclass(frozen=True, slots=True)
class Figures:
    """A question's figures over the range: the total's, or one segment value's."""

    waves: tuple[WaveFigures, ...]
    series: tuple[SeriesFigures, ...]

    @property
    def latest(self) -> SeriesFigures | None:
        return self.series[-1] if self.series else None

    def n_total(self) -> int:
        return sum(w.estimate.n for w in self.waves)

    def to_json(self, *, metric: Metric | None) -> dict[str, object]:
        with_series = len(self.series) > 1
        out: dict[str, object] = {"waves": [w.to_json(with_series=with_series) for w in self.waves]}
        latest = self.latest
        if latest is not None:
            out |= latest.trend_json()
        elif metric is None:
            out |= SeriesFigures(0, None, (), None).trend_json()
        else:
            out |= {"trend": None, "trend_reason": "no answers in this range"}
            if metric == "share":
                out["option_trends"] = {}
        out["trend_series"] = None if latest is None else len(self.series) - 1
        out["series"] = [s.to_json() for s in self.series]
        return out


@dataclass(frozen=True, slots=True)
class DecisionMark:
    """A decision shown with a question: `wave` is the wave open when it was taken, or the first
    to open after it (None when no wave opens after it)."""

    id: uuid.UUID
    title: str
    decided_at: datetime
    wave: int | None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "decided_at": self.decided_at,
            "wave": self.wave,
        }


@dataclass(frozen=True, slots=True)
class QuestionTrends:
    meta: QuestionMeta
    label: str
    option_labels: Mapping[str, str]
    total: Figures
    segments: Mapping[SegmentValue, Figures] | None
    decisions: tuple[DecisionMark, ...]

    @property
    def metric(self) -> Metric | None:
        return self.meta.metric

    def breaks(self) -> list[dict[str, object]]:
        """The series breaks inside the range: the version and the first wave after each."""
        return [
            {"version": s.version, "wave": s.waves[0], "series": s.index}
            for s in self.total.series[1:]
        ]

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "key": self.meta.key,
            "type": self.meta.type,
            "metric": self.metric,
            "label": self.label,
            **self.total.to_json(metric=self.metric),
            "breaks": self.breaks(),
            "decisions": [d.to_json() for d in self.decisions],
        }
        if self.option_labels:
            out["options"] = dict(self.option_labels)
        if self.segments is not None:
            out["segments"] = {
                _segment_name(value): {"value": value, **figures.to_json(metric=self.metric)}
                for value, figures in self.segments.items()
            }
        return out


def _segment_name(value: SegmentValue) -> str:
    return "null" if value is None else value


@dataclass(frozen=True, slots=True)
class SurveyTrends:
    survey: Survey
    min_n: int
    segment: str | None
    start: date | None
    end: date | None
    waves: tuple[WaveInfo, ...]
    questions: tuple[QuestionTrends, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "survey": self.survey.slug,
            "min_n": self.min_n,
            "from": self.start,
            "to": self.end,
            "segment": self.segment,
            "questions": [q.to_json() for q in self.questions],
        }


# --- trends ------------------------------------------------------------------------------------


async def trends(
    session: AsyncSession, *, org_id: uuid.UUID, slug: str, query: TrendsQuery, now: datetime
) -> SurveyTrends:
    survey = await get_survey(session, org_id=org_id, slug=slug)
    return await survey_trends(session, survey, query, now=now)


async def survey_trends(
    session: AsyncSession, survey: Survey, query: TrendsQuery, *, now: datetime
) -> SurveyTrends:
    """Every requested question's figures, from one aggregate query over the answers: the
    waves that have opened by `now`."""
    if query.segment is not None and not _is_attribute(query.segment):
        raise Invalid(
            [FieldError("/segment", "must be a respondent attribute name", "query")],
            "The segment is not an attribute name.",
        )
    versions = await _published(session, survey)
    metas = catalogue(
        [(v.number, definition_of(v)) for v in versions], await series_breaks(session, survey.id)
    )
    wanted = _wanted(metas, query.questions)
    min_n = effective_min_n(survey_settings(survey).min_n, query.min_n)
    waves = tuple(
        w
        for w in await waves_in_range(session, survey, query.start, query.end, {}, now=now)
        if w.opens_at <= now
    )
    decisions = await decisions_for_survey(session, survey.id)
    stats = queries.TrendStats({}, None if query.segment is None else {})
    if wanted and waves:
        ranged = query.start is not None or query.end is not None
        stats = await queries.trend_stats(
            session,
            [m.query for m in wanted],
            survey_id=survey.id,
            org_id=survey.org_id,
            waves=(waves[0].number, waves[-1].number) if ranged else None,
            segment=query.segment,
        )
    in_effect = _versions_in_effect(waves, versions, now)
    marks = [
        (
            d.question_keys,
            DecisionMark(
                d.id,
                label_text(d.title, None, survey.default_locale),
                d.decided_at,
                _wave_of(d.decided_at, survey, waves),
            ),
        )
        for d in decisions
    ]
    questions = tuple(
        _question_trends(
            meta,
            survey=survey,
            waves=waves,
            in_effect=in_effect,
            totals=stats.totals.get(meta.key, {}),
            by_segment=None if stats.segments is None else stats.segments.get(meta.key, {}),
            min_n=min_n,
            decisions=[mark for keys, mark in marks if not keys or meta.key in keys],
        )
        for meta in wanted
    )
    return SurveyTrends(
        survey=survey,
        min_n=min_n,
        segment=query.segment,
        start=query.start,
        end=query.end,
        waves=waves,
        questions=questions,
    )


def _is_attribute(name: str) -> bool:
    return SEGMENT_PATTERN.fullmatch(name) is not None


async def _published(session: AsyncSession, survey: Survey) -> list[SurveyVersion]:
    return list(
        (
            await session.scalars(
                survey_queries.published_versions_of(survey.id).order_by(SurveyVersion.number)
            )
        ).all()
    )


def _wanted(metas: Mapping[str, QuestionMeta], keys: Sequence[str] | None) -> list[QuestionMeta]:
    if keys is None:
        return list(metas.values())
    unknown = [k for k in keys if k not in metas]
    if unknown:
        raise Invalid(
            [
                FieldError("/questions", f"'{k}' is not a question of this survey", "query")
                for k in unknown
            ],
            "Unknown question keys.",
        )
    return [metas[k] for k in dict.fromkeys(keys)]


def _versions_in_effect(
    waves: Sequence[WaveInfo], versions: Sequence[SurveyVersion], now: datetime
) -> dict[int, int | None]:
    """Per wave, the newest version published before it closed (or now, when still open)."""
    published = sorted((v.published_at, v.number) for v in versions if v.published_at is not None)
    out: dict[int, int | None] = {}
    for wave in waves:
        until = wave.closes_at if wave.closes_at is not None and wave.closes_at < now else now
        current = [number for at, number in published if at < until]
        out[wave.number] = current[-1] if current else None
    return out


def _wave_of(instant: datetime, survey: Survey, waves: Sequence[WaveInfo]) -> int | None:
    """The wave open at `instant`, else the first wave to open after it: from the waves in
    range (the stored record) first, then from the survey's schedule."""
    for wave in waves:
        if wave.opens_at <= instant and (wave.closes_at is None or instant < wave.closes_at):
            return wave.number
    window = window_at(survey, instant)
    if window is not None:
        return window.number
    later = [w for w in waves if w.opens_at > instant]
    if later:
        return later[0].number
    upcoming = next_opens_at(survey, instant)
    window = None if upcoming is None else window_at(survey, upcoming)
    return None if window is None else window.number


def _question_trends(
    meta: QuestionMeta,
    *,
    survey: Survey,
    waves: Sequence[WaveInfo],
    in_effect: Mapping[int, int | None],
    totals: Mapping[Cell, CellStats],
    by_segment: Mapping[Cell, CellStats] | None,
    min_n: int,
    decisions: Sequence[DecisionMark],
) -> QuestionTrends:
    locale = survey.default_locale
    options: dict[str, str] = {}
    if isinstance(meta.question, SingleChoiceQuestion | MultiChoiceQuestion):
        for question in meta.series:
            if isinstance(question, SingleChoiceQuestion | MultiChoiceQuestion):
                for option in question.options:
                    options.setdefault(option.key, label_text(option.label, None, locale))
        for option in meta.question.options:
            options[option.key] = label_text(option.label, None, locale)
    figure = partial(_figures, meta, waves=waves, in_effect=in_effect, min_n=min_n)
    segments: dict[SegmentValue, Figures] | None = None
    if by_segment is not None:
        hidden = _complementary(totals, by_segment, min_n)
        values = sorted(
            {c.segment for c in by_segment},
            key=lambda v: (
                v is None,
                -sum(_n(s.stats) for c, s in by_segment.items() if c.segment == v),
                v or "",
            ),
        )
        segments = {
            value: figure(
                {Cell(c.wave, c.series): s for c, s in by_segment.items() if c.segment == value},
                hidden={(c.wave, c.series) for c in hidden if c.segment == value},
            )
            for value in values
        }
    return QuestionTrends(
        meta=meta,
        label=label_text(meta.question.label, None, locale),
        option_labels=options,
        total=figure(totals, hidden=set()),
        segments=segments,
        decisions=tuple(decisions),
    )


def _n(stats: Stats) -> int:
    return stats if isinstance(stats, int) else stats.n


def _complementary(
    totals: Mapping[Cell, CellStats], by_segment: Mapping[Cell, CellStats], min_n: int
) -> set[Cell]:
    """Segment cells to hide: below min_n, or revealing one that is by subtraction from the
    total (ANALYSIS.md "Segments")."""
    per_cell: dict[tuple[int, int], dict[SegmentValue, int]] = defaultdict(dict)
    for cell, stats in by_segment.items():
        per_cell[(cell.wave, cell.series)][cell.segment] = _n(stats.stats)
    hidden: set[Cell] = set()
    for (wave, series), cells in per_cell.items():
        total = totals.get(Cell(wave, series))
        total_n = 0 if total is None else _n(total.stats)
        for value in complementary_suppression(total_n, cells, min_n):
            hidden.add(Cell(wave, series, value))
    return hidden


def _figures(
    meta: QuestionMeta,
    cells: Mapping[Cell, CellStats],
    *,
    waves: Sequence[WaveInfo],
    in_effect: Mapping[int, int | None],
    min_n: int,
    hidden: set[tuple[int, int]],
) -> Figures:
    """Estimates, change tests (q over the family), and each series segment's trend."""
    estimates: dict[tuple[int, int], WaveEstimate] = {}
    for cell, cell_stats in cells.items():
        question = meta.series[cell.series]
        assert question is not None
        estimate = _estimate(question, cell_stats.stats, min_n)
        if (cell.wave, cell.series) in hidden:
            estimate = estimate.as_suppressed()
        estimates[(cell.wave, cell.series)] = estimate
    listed = {w.number for w in waves}
    by_series: dict[int, list[int]] = defaultdict(list)
    for number, series in sorted(estimates):
        if number in listed:
            by_series[series].append(number)
    changes = _changes(meta, cells, estimates, by_series)
    entries: list[WaveFigures] = []
    for wave in waves:
        here = sorted(s for w, s in estimates if w == wave.number)
        if not here:
            entries.append(WaveFigures(wave, None, in_effect.get(wave.number), _empty(meta, min_n)))
        for series in here:
            key = (wave.number, series)
            change = changes.get(key)
            version = cells[Cell(wave.number, series)].version
            entries.append(
                WaveFigures(
                    wave,
                    series,
                    version if meta.query.breaks else in_effect.get(wave.number),
                    estimates[key],
                    change if isinstance(change, ChangeTest) else None,
                    change if isinstance(change, dict) else None,
                )
            )
    series_figures = tuple(
        _series_trend(meta, index, tuple(numbers), estimates)
        for index, numbers in sorted(by_series.items())
    )
    return Figures(tuple(entries), series_figures)


def _empty(meta: QuestionMeta, min_n: int) -> WaveEstimate:
    """A wave without answers to the question: n 0, suppressed (min_n is at least 1)."""
    return WaveEstimate(metric=meta.metric, n=0, suppressed=min_n > 0)


def _estimate(question: Question, stats: Stats, min_n: int) -> WaveEstimate:
    if isinstance(stats, int):
        return text_estimate(stats, min_n=min_n)
    if isinstance(stats, Moments):
        return number_estimate(stats, min_n=min_n)
    if isinstance(stats, OptionCounts):
        return choice_estimate(stats, min_n=min_n)
    if isinstance(question, NpsQuestion):
        return nps_estimate(stats, min_n=min_n)
    return scale_estimate(stats, min_n=min_n)


ChangeOf = ChangeTest | dict[str, ChangeTest]


def _changes(
    meta: QuestionMeta,
    cells: Mapping[Cell, CellStats],
    estimates: Mapping[tuple[int, int], WaveEstimate],
    by_series: Mapping[int, Sequence[int]],
) -> dict[tuple[int, int], ChangeOf]:
    """Each shown wave against the previous shown wave of its series segment, then BH q over
    the whole family (every test in wave order; every option's for multi-choice)."""
    raw: list[tuple[tuple[int, int], ChangeOf]] = []
    for series, waves in by_series.items():
        question = meta.series[series]
        assert question is not None
        test = _change_test(question)
        if test is None:
            continue
        shown = [w for w in waves if not estimates[(w, series)].suppressed]
        for before, after in pairwise(shown):
            raw.append(
                (
                    (after, series),
                    test(
                        cells[Cell(before, series)].stats,
                        cells[Cell(after, series)].stats,
                        before,
                    ),
                )
            )
    raw.sort(key=lambda item: item[0])
    flat = [
        t for _, change in raw for t in (change.values() if isinstance(change, dict) else [change])
    ]
    adjusted = iter(with_q_values(flat))
    out: dict[tuple[int, int], ChangeOf] = {}
    for key, change in raw:
        if isinstance(change, dict):
            out[key] = {option: next(adjusted) for option in change}
        else:
            out[key] = next(adjusted)
    return out


def _change_test(question: Question) -> Callable[[Stats, Stats, int], ChangeOf] | None:
    def scale(a: Stats, b: Stats, wave: int) -> ChangeOf:
        assert isinstance(a, ScaleCounts) and isinstance(b, ScaleCounts)
        if isinstance(question, NpsQuestion):
            return nps_z(a, b, from_wave=wave)
        return mann_whitney(a, b, from_wave=wave)

    def choice(a: Stats, b: Stats, wave: int) -> ChangeOf:
        assert isinstance(a, OptionCounts) and isinstance(b, OptionCounts)
        if isinstance(question, MultiChoiceQuestion):
            return two_proportion_z(a, b, from_wave=wave)
        return chi_square(a, b, from_wave=wave)

    def number(a: Stats, b: Stats, wave: int) -> ChangeOf:
        assert isinstance(a, Moments) and isinstance(b, Moments)
        return welch_t(a, b, from_wave=wave)

    if isinstance(question, TextQuestion):
        return None
    if isinstance(question, NumberQuestion):
        return number
    if isinstance(question, SingleChoiceQuestion | MultiChoiceQuestion):
        return choice
    return scale


def _series_trend(
    meta: QuestionMeta,
    index: int,
    waves: tuple[int, ...],
    estimates: Mapping[tuple[int, int], WaveEstimate],
) -> SeriesFigures:
    question = meta.series[index]
    assert question is not None
    metric = METRICS[question.type]
    shown = [(w, estimates[(w, index)]) for w in waves if not estimates[(w, index)].suppressed]
    version = meta.first_versions[index]
    if metric is None:
        return SeriesFigures(index, version, waves, metric)
    if metric == "share":
        options: dict[str, None] = {}
        for _, estimate in shown:
            options.update(dict.fromkeys(estimate.options or {}))
        option_trends: dict[str, Trend] = {}
        for option in options:
            points = [
                (w, share.estimate)
                for w, e in shown
                if (share := (e.options or {}).get(option)) is not None
                and share.estimate is not None
            ]
            option_trends[option] = mann_kendall([w for w, _ in points], [v for _, v in points])
        if not shown:
            option_trends = {}
        return SeriesFigures(index, version, waves, metric, option_trends=option_trends)
    points = [(w, e.estimate) for w, e in shown if e.estimate is not None]
    trend = mann_kendall([w for w, _ in points], [v for _, v in points])
    return SeriesFigures(index, version, waves, metric, trend=trend)


# --- charts ------------------------------------------------------------------------------------


async def chart(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    slug: str,
    key: str,
    query: TrendsQuery,
    fmt: ChartFormat,
    now: datetime,
    impact: uuid.UUID | None = None,
) -> bytes:
    """The question's trend chart; with `impact` (a decision of the survey) the decision's
    fitted pre and post lines over the waves closed by `now`."""
    survey = await get_survey(session, org_id=org_id, slug=slug)
    if impact is None:
        return await survey_chart(session, survey, key, query, fmt, now=now)
    decision = await survey_decision(session, survey, impact)
    result = await _one_question(session, survey, key, query, now=now)
    question = result.questions[0]
    effect = None
    if question.metric is not None:
        effect = impact_of(result, question, decision.mark, now=now)
    render = chart_renderer(result, question, effect)
    return await anyio.to_thread.run_sync(partial(render, fmt))


async def survey_chart(
    session: AsyncSession,
    survey: Survey,
    key: str,
    query: TrendsQuery,
    fmt: ChartFormat,
    *,
    now: datetime,
) -> bytes:
    """One question's trend chart (small multiples per segment value with `segment`), rendered
    in a worker thread: matplotlib takes ~100 ms of CPU, which must not stall the event loop."""
    result = await _one_question(session, survey, key, query, now=now)
    render = chart_renderer(result, result.questions[0])
    return await anyio.to_thread.run_sync(partial(render, fmt))


async def _one_question(
    session: AsyncSession, survey: Survey, key: str, query: TrendsQuery, *, now: datetime
) -> SurveyTrends:
    try:
        result = await survey_trends(
            session,
            survey,
            TrendsQuery([key], query.start, query.end, query.segment, query.min_n),
            now=now,
        )
    except Invalid as exc:
        if any(e.pointer == "/questions" for e in exc.errors):
            raise NotFound(f"Survey '{survey.slug}' has no question '{key}'.") from exc
        raise
    return result


def chart_renderer(
    result: SurveyTrends, question: QuestionTrends, impact: DecisionImpact | None = None
) -> Callable[[ChartFormat], bytes]:
    """A function rendering the question's chart in a format (the series are built here, on
    the caller's thread; only drawing happens in the renderer), with a decision's fitted lines
    when `impact` is given (per panel in a segment chart)."""
    if question.metric is None:
        raise Invalid(
            [
                FieldError(
                    "/question", "is a text question: it has no chart, only n per wave", "path"
                )
            ],
            "Text questions have no chart.",
        )
    if question.segments is None:
        series = chart_series(
            result,
            question,
            question.total,
            question.label,
            impact=None if impact is None else (impact.decision, impact.total),
        )
        return lambda fmt: render_chart(series, fmt)
    ordered = list(question.segments.items())
    shown = ordered[:MAX_SEGMENT_PANELS]
    panels = [
        chart_series(
            result,
            question,
            figures,
            NO_VALUE if value is None else value,
            impact=None
            if impact is None or impact.segments is None
            else (impact.decision, impact.segments[value]),
        )
        for value, figures in shown
    ]
    subtitle = f"By {result.segment}"
    if impact is not None:
        subtitle += f" · fitted before/after {_shorten_title(impact.decision.title)}"
    if len(ordered) > len(shown):
        subtitle += f": the {len(shown)} largest of {len(ordered)} groups"
    return lambda fmt: render_segments(question.label, panels, fmt, subtitle=subtitle)


def chart_series(
    result: SurveyTrends,
    question: QuestionTrends,
    figures: Figures,
    title: str,
    *,
    impact: tuple[DecisionMark, FiguresImpact] | None = None,
) -> ChartSeries:
    """A chart's series from figures: each wave once (the part with most answers when a break
    splits it), breaks before each later series segment, the decisions, the latest trend, and
    with `impact` a decision's fitted lines, its verdict or why there is none in the subtitle."""
    metric = question.metric
    assert metric is not None
    drawn: dict[int, WaveFigures] = {}
    for entry in figures.waves:
        held = drawn.get(entry.wave.number)
        if held is None or entry.estimate.n >= held.estimate.n:
            drawn[entry.wave.number] = entry
    points = tuple(
        ChartPoint.from_estimate(number, entry.wave.label, entry.estimate)
        for number, entry in drawn.items()
    )
    breaks = []
    for series in figures.series[1:]:
        first = next((w for w in series.waves if drawn[w].series == series.index), None)
        if first is not None and series.version is not None:
            breaks.append(ChartBreak(first, series.version))
    openings = [(w.number, w.opens_at) for w in result.waves]
    decisions = tuple(
        ChartDecision(position, d.title)
        for d in question.decisions
        if (position := decision_position(d.decided_at, openings)) is not None
    )
    latest = figures.latest
    meta = question.meta
    out = ChartSeries(
        title=title,
        metric=metric,
        points=points,
        min_n=result.min_n,
        breaks=tuple(breaks),
        decisions=decisions,
        trend=None if latest is None or metric == "share" else latest.trend,
        y_label=_y_label(meta.question),
        y_bounds=_y_bounds(meta.question),
        option_labels=question.option_labels or None,
        multiple_choice=isinstance(meta.question, MultiChoiceQuestion),
    )
    if impact is None:
        return out
    decision, effect = impact
    fitted = [(None, effect.impact)] if effect.options is None else list(effect.options.items())
    name = _shorten_title(decision.title)
    return replace(
        out,
        fits=tuple(
            ChartFit(line[0], line[1], option)
            for option, one in fitted
            for line in (one.pre_line(), one.post_line())
            if line is not None
        ),
        fit_label=f"Before/after {name}",
        share_lines=effect.options is not None,
        subtitle=f"Impact of {name}: {_impact_note(effect, metric)}",
    )


def _shorten_title(title: str) -> str:
    text = " ".join(title.split())
    return f"“{text if len(text) <= 40 else text[:39].rstrip() + '…'}”"


def _impact_note(impact: FiguresImpact, metric: Metric) -> str:
    """The verdict with its figures, or why there is none (a share's summary names options)."""
    overall = impact.impact
    if overall.verdict == "insufficient data":
        return f"no verdict, {overall.reason}"
    if impact.options is not None:
        return overall.summary
    level, slope = overall.level_change, overall.slope_change
    assert level is not None and slope is not None
    return (
        f"{overall.verdict} (level {figure_text(level.estimate, metric, signed=True)}, "
        f"{_p_text(level.p)}; slope {figure_text(slope.estimate, metric, signed=True)}/wave, "
        f"{_p_text(slope.p)})"
    )


def _p_text(p: float | None) -> str:
    return "p n/a" if p is None else "p<0.001" if p < 0.001 else f"p={p:.3f}"


def _y_label(question: Question) -> str | None:
    if isinstance(question, LikertQuestion | RatingQuestion):
        return f"Mean answer ({question.scale.min}–{question.scale.max})"
    if isinstance(question, NpsQuestion):
        return "Net Promoter Score"
    if isinstance(question, NumberQuestion):
        return "Mean"
    return None


def _y_bounds(question: Question) -> tuple[float, float] | None:
    if isinstance(question, LikertQuestion | RatingQuestion):
        return float(question.scale.min), float(question.scale.max)
    if isinstance(question, NpsQuestion):
        return -100.0, 100.0
    if (
        isinstance(question, NumberQuestion)
        and question.min is not None
        and question.max is not None
    ):
        return float(question.min), float(question.max)
    return None


# --- panels ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PanelFigures:
    key: str
    type: str
    from_wave: int
    to_wave: int
    min_n: int
    excluded_across_break: int
    result: PanelResult = field(repr=False)

    def to_json(self) -> dict[str, object]:
        return {
            "question": self.key,
            "type": self.type,
            "from_wave": self.from_wave,
            "to_wave": self.to_wave,
            "min_n": self.min_n,
            "excluded_across_break": self.excluded_across_break,
            **self.result.to_json(),
        }


async def panel(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    slug: str,
    key: str,
    from_wave: int,
    to_wave: int,
    min_n: int | None = None,
) -> PanelFigures:
    """Change within the same respondents between two waves (ANALYSIS.md "Panel")."""
    if from_wave >= to_wave:
        raise Invalid(
            [FieldError("/from_wave", "must be an earlier wave than to_wave", "query")],
            "The panel's waves are in the wrong order.",
        )
    survey = await get_survey(session, org_id=org_id, slug=slug)
    versions = await _published(session, survey)
    metas = catalogue(
        [(v.number, definition_of(v)) for v in versions], await series_breaks(session, survey.id)
    )
    meta = metas.get(key)
    if meta is None:
        raise NotFound(f"Survey '{slug}' has no question '{key}'.")
    if isinstance(meta.question, TextQuestion):
        raise Invalid(
            [FieldError("/question", "is a text question: it has no panel test", "path")],
            "Text questions have no panel test.",
        )
    stats = await queries.panel_stats(
        session, meta.query, survey_id=survey.id, from_wave=from_wave, to_wave=to_wave
    )
    effective = effective_min_n(survey_settings(survey).min_n, min_n)
    return PanelFigures(
        key=key,
        type=meta.type,
        from_wave=from_wave,
        to_wave=to_wave,
        min_n=effective,
        excluded_across_break=stats.excluded_across_break,
        result=panel_test(stats.stats, effective),
    )


def panel_test(stats: PairTable | Moments | OptionPairs, min_n: int) -> PanelResult:
    if isinstance(stats, PairTable):
        return wilcoxon_signed_rank(stats.differences(), min_n=min_n)
    if isinstance(stats, Moments):
        return paired_t(stats, min_n=min_n)
    return mcnemar(stats, min_n=min_n)


# --- decision impact ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FiguresImpact:
    """A decision's impact on one figure set (the total, or one segment value's): the impact on
    the question's estimate, or for a share metric the waves it is measured on (`impact`, with
    no verdict of its own) and one impact per option."""

    impact: Impact
    options: Mapping[str, Impact] | None = None

    def to_json(self) -> dict[str, object]:
        return {
            **self.impact.to_json(),
            "options": None
            if self.options is None
            else {key: impact.to_json() for key, impact in self.options.items()},
        }


@dataclass(frozen=True, slots=True)
class DecisionImpact:
    """ANALYSIS.md "Decision impact" of one decision on one question: the total's and, with
    `segment`, each segment value's."""

    decision: DecisionMark
    key: str
    metric: Metric
    min_n: int
    segment: str | None
    total: FiguresImpact
    segments: Mapping[SegmentValue, FiguresImpact] | None

    def to_json(self) -> dict[str, object]:
        return {
            "decision": self.decision.id,
            "decision_title": self.decision.title,
            "decided_at": self.decision.decided_at,
            "question": self.key,
            "metric": self.metric,
            "min_n": self.min_n,
            "segment": self.segment,
            **self.total.to_json(),
            "segments": None
            if self.segments is None
            else {
                _segment_name(value): {"value": value, **figures.to_json()}
                for value, figures in self.segments.items()
            },
        }


async def decision_impact(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    slug: str,
    decision_id: uuid.UUID,
    key: str | None,
    segment: str | None,
    now: datetime,
) -> DecisionImpact:
    """Did the question's metric change after the decision? `key` may be left out when the
    decision names exactly one question. Only waves closed by `now` count: an open wave's
    estimate is still moving."""
    survey = await get_survey(session, org_id=org_id, slug=slug)
    decision = await survey_decision(session, survey, decision_id)
    if key is None:
        if len(decision.keys) != 1:
            raise Invalid(
                [
                    FieldError(
                        "/question",
                        f"is required: the decision names {len(decision.keys)} questions, not one",
                        "query",
                    )
                ],
                "Which question's impact?",
            )
        key = decision.keys[0]
    try:
        trends = await survey_trends(session, survey, TrendsQuery([key], segment=segment), now=now)
    except Invalid as exc:
        if any(e.pointer == "/questions" for e in exc.errors):
            raise Invalid(
                [FieldError("/question", f"'{key}' is not a question of this survey", "query")],
                "Unknown question.",
            ) from exc
        raise
    question = trends.questions[0]
    if question.metric is None:
        raise Invalid(
            [FieldError("/question", "is a text question: it has no metric to change", "query")],
            "Text questions have no impact.",
        )
    return impact_of(trends, question, decision.mark, now=now)


@dataclass(frozen=True, slots=True)
class SurveyDecision:
    """A decision of the survey as the analysis reads it: its mark and the keys it names."""

    mark: DecisionMark
    keys: tuple[str, ...]


async def survey_decisions(session: AsyncSession, survey: Survey) -> list[SurveyDecision]:
    """The survey's decisions, oldest first, titles in the survey's default locale."""
    return [
        SurveyDecision(
            DecisionMark(
                d.id, label_text(d.title, None, survey.default_locale), d.decided_at, None
            ),
            tuple(d.question_keys),
        )
        for d in await decisions_for_survey(session, survey.id)
    ]


async def survey_decision(
    session: AsyncSession, survey: Survey, decision_id: uuid.UUID
) -> SurveyDecision:
    """One decision of the survey (so of its organisation); NotFound for any other."""
    for decision in await survey_decisions(session, survey):
        if decision.mark.id == decision_id:
            return decision
    raise NotFound("Decision not found.")


def impact_of(
    trends: SurveyTrends, question: QuestionTrends, decision: DecisionMark, *, now: datetime
) -> DecisionImpact:
    """The decision's impact on a question of computed trends (its total, and each segment
    value when the trends are split)."""
    metric = question.metric
    if metric is None:
        raise ValueError("text questions have no impact")
    figures_impact = partial(_figures_impact, question, decided_at=decision.decided_at, now=now)
    return DecisionImpact(
        decision=decision,
        key=question.meta.key,
        metric=metric,
        min_n=trends.min_n,
        segment=trends.segment,
        total=figures_impact(question.total),
        segments=None
        if question.segments is None
        else {value: figures_impact(figures) for value, figures in question.segments.items()},
    )


def _figures_impact(
    question: QuestionTrends, figures: Figures, *, decided_at: datetime, now: datetime
) -> FiguresImpact:
    """The interrupted time series over the figure set's shown waves that closed by `now`."""
    metric = question.metric
    assert metric is not None
    shown = sorted(
        (
            entry
            for entry in figures.waves
            if entry.shown
            and entry.series is not None
            and entry.wave.closes_at is not None
            and entry.wave.closes_at <= now
        ),
        key=lambda entry: (entry.wave.number, entry.series or 0),
    )
    points = [WavePoint(e.wave.number, e.series or 0, e.wave.opens_at >= decided_at) for e in shown]
    versions = dict(enumerate(question.meta.first_versions))
    if metric != "share":
        values = [e.estimate.estimate for e in shown]
        kept = [(p, v) for p, v in zip(points, values, strict=True) if v is not None]
        impact = interrupted_time_series(
            [p for p, _ in kept], [v for _, v in kept], metric=metric, series_versions=versions
        )
        return FiguresImpact(impact)
    options: dict[str, Impact] = {}
    for option in _option_keys(question, shown):
        kept = [
            (point, share.estimate)
            for point, entry in zip(points, shown, strict=True)
            if (share := (entry.estimate.options or {}).get(option)) is not None
            and share.estimate is not None
        ]
        options[option] = interrupted_time_series(
            [p for p, _ in kept], [v for _, v in kept], metric="share", series_versions=versions
        )
    run = series_run(points, series_versions=versions)
    summary = None if run.reason else _options_summary(options, question.option_labels)
    return FiguresImpact(unfitted(run, summary=summary), options)


def _option_keys(question: QuestionTrends, shown: Sequence[WaveFigures]) -> list[str]:
    """The question's options in their listed order, then any others its waves hold."""
    keys = dict.fromkeys(question.option_labels)
    for entry in shown:
        keys.update(dict.fromkeys(entry.estimate.options or {}))
    return list(keys)


def _options_summary(options: Mapping[str, Impact], labels: Mapping[str, str]) -> str:
    moved = [
        f"{labels.get(key, key)}: {impact.verdict}"
        for key, impact in options.items()
        if impact.concluded and impact.verdict != "no significant change"
    ]
    refused = [labels.get(key, key) for key, impact in options.items() if not impact.concluded]
    parts = ["; ".join(moved) if moved else "no option changed significantly"]
    if refused:
        parts.append(f"no verdict for {', '.join(refused)}")
    text = ". ".join(parts)
    return text[0].upper() + text[1:] + "."
