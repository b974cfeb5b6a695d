"""The analysis's only I/O: SQL aggregates that turn current answer rows into sufficient statistics.

Python never receives raw answers. One statement per trends request counts every requested
question at once; the rows that come back number O(questions × waves × scale points), whatever
the number of answers, and are folded here into `ScaleCounts`, `OptionCounts`, `Moments` or a
plain count per cell. A panel is one statement over the respondents who answered in both waves.

What keeps the trends statement as cheap as the bare `GROUP BY` over the answer index
(`ix_answer_analysis`: survey, question key, wave, value, option, first, version — partial on
`is_current`) is that it is a `UNION ALL` of one branch per question, each reading only indexed
columns, in index order, so it aggregates as it scans (and PostgreSQL can run the branches in
parallel):

- integer scales, choices and text: `GROUP BY question_key, wave_number, value_num, option_key`
  with `COUNT(*)` and `SUM(first)` (respondents who answered a multi-choice question);
- numbers: `GROUP BY question_key, wave_number` with `COUNT(*)`, `Σ(x − K)` and `Σ(x − K)²`,
  K the question's shift (below).

Grouping by anything else (a `CASE` over the value, or `version`) costs a sort. So `version` is
read only for questions whose series breaks, in branches of their own, where each answer's
version decides its run; the index holds `version` after the columns every question
groups by, so those branches still read the index alone (a sort, but no visit to the table:
2.2–3.6× faster than before `version` was in the index, at 1M rows), and the others keep their
order (migration 0005; models.py says why it is not right after the wave).

A split by channel is the same branches grouped by the answer row's own `channel`, which the
index holds after the option (migration 0009): still in index order, no join. A split by
attribute joins each answer to its respondent's attribute. On PostgreSQL the index carries
`respondent_id` as an INCLUDE column (migration 0008), so that split is the same branches, each
joined to the respondents' values and hashed into its few groups; SQLite, whose index cannot
hold it cheaply, scans the table once instead, numbers told apart by `CASE`
(`_one_scan_statement`). BENCHMARKS.md ("Trends", "Segment splits and
size") reports their costs beside the bare query.

Number answers far from zero. The variance is Σ(x − K)² − (Σ(x − K))²/n: summed around a K
far from the answers (zero, or the question's `min`), Σ(x − K)² swamps it and its digits are
lost (answers 10^6 + tenths had sd 0). Any one answer as K bounds that loss (the shifted-data
algorithm): the relative error is about ε·(1 + (x̄ − K)²/s²). So each count first reads, per
number question, its first current answer in the analysis index (the smallest of the first wave
counted: one index probe, `_references`) and sums around it; a wave whose sums still lost more
than `RECENTRE_ABOVE` of their scale (a level that climbed orders of magnitude since that wave)
is counted once more around its own mean (`_counted`), which costs nothing where nothing was
lost. (A segment orders of magnitude from the rest of its own wave keeps fewer digits: that
would take a shift per segment value, docs/statistics.md.) Each row carries the K it was
summed around (`AggregateRow.shift`), into the rollups too, so kept and fresh rows are read
alike. A panel's differences are summed around zero, then around their mean when that lost too
much.

Every statement is scoped by a survey id that the caller has already scoped to its
organisation; the respondent join is scoped by organisation too.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ColumnExpressionArgument,
    CompoundSelect,
    Float,
    Integer,
    Select,
    String,
    Uuid,
    and_,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from feedback.analysis import rollups as rollup_store
from feedback.analysis import splits
from feedback.analysis.cells import (
    CHANNEL_SEGMENT,
    AggregateRow,
    Cell,
    CellStats,
    Counting,
    QuestionQuery,
    Stats,
    Waves,
    in_waves,
)
from feedback.analysis.one_voice import net_rows, superseded_responses
from feedback.analysis.rollups import Rollups
from feedback.analysis.sufficient import (
    Moments,
    OptionCounts,
    OptionPairs,
    PairTable,
    ScaleCounts,
)
from feedback.responses.models import Answer, Respondent
from feedback.responses.queries import attribute_segment

# Smaller than any number validation lets through (1e-6), far above float underflow.
TINY = 1e-100
# Counting at most this many waves (the ones a rollup lacks), a split by attribute on PostgreSQL
# joins the respondents once for every question rather than once per question's branch.
FEW_WAVES = 2
# Number sums whose Σ(x − K)² exceeds this multiple of Σ(x − x̄)² (K more than ~30 standard
# deviations from the mean) are counted again around their mean: the variance then keeps all but
# ~3 of float64's 16 digits, less the sums' own rounding (√n·ε typically), well within 1e-9.
# Around an answer of the same wave, few sums come near it: the first wave's smallest answer is
# a few deviations from its mean.
RECENTRE_ABOVE = 1e3
# The kind of a question's moments branch (`branch_kinds`); its counts branch is None.
MOMENTS = "moments"


Expression = ColumnElement[Any] | InstrumentedAttribute[Any]


def _current(
    survey_id: uuid.UUID, channels: Sequence[str] | None = None
) -> list[ColumnExpressionArgument[bool]]:
    # `Answer.is_current` alone, as the partial index spells its predicate (models.py).
    return [Answer.survey_id == survey_id, Answer.is_current, *_through(channels)]


def _through(channels: Sequence[str] | None) -> list[ColumnExpressionArgument[bool]]:
    """Answers whose response's latest revision came through one of `channels` (None: any):
    a current answer row carries that channel, in the analysis index."""
    if channels is None:
        return []
    return [Answer.channel.in_(list(channels))]


def _columns(
    *,
    version: Expression | None = None,
    segment: Expression | None = None,
    value: Expression | None = None,
    option: Expression | None = None,
    total: Expression | None = None,
    total_sq: Expression | None = None,
) -> list[ColumnElement[Any]]:
    """The row every branch returns: (key, wave, version, segment, value, option, n, n_first,
    total, total_sq), a typed NULL for what a branch does not count."""
    return [
        Answer.question_key.label("key"),
        Answer.wave_number.label("wave"),
        (cast(null(), Integer) if version is None else version).label("version"),
        (cast(null(), String) if segment is None else segment).label("segment"),
        (cast(null(), Float) if value is None else value).label("value"),
        (cast(null(), String) if option is None else option).label("option"),
        func.count().label("n"),
        func.sum(cast(Answer.first, Integer)).label("n_first"),
        (cast(null(), Float) if total is None else total).label("total"),
        (cast(null(), Float) if total_sq is None else total_sq).label("total_sq"),
    ]


def _sound(number: ColumnExpressionArgument[Any]) -> Expression:
    """A stored number as moments sum it. Validation keeps numbers at 6 decimal places at most;
    one below TINY in magnitude (stored before that rule, or by hand) counts as 0, so that its
    square cannot underflow: PostgreSQL raises on float underflow, which would fail every
    analysis of the survey."""
    return case((func.abs(number) < TINY, literal(0.0, Float)), else_=number)


@dataclass(frozen=True, slots=True)
class Shift:
    """What a question's number answers are centred on before they are summed: `value`, or in
    the waves of `by_wave` that wave's own value (a recount around each wave's mean)."""

    value: float = 0.0
    by_wave: Mapping[int, float] = field(default_factory=dict)

    def at(self, wave: int) -> float:
        return self.by_wave.get(wave, self.value)

    def sql(self) -> ColumnElement[Any] | None:
        """The shift as a SQL expression of the answer row; None for zero (nothing to subtract).
        By wave it is a CASE, evaluated per row: only recounts, over a few waves, use it."""
        if self.by_wave:
            return case(
                {wave: literal(k, Float) for wave, k in sorted(self.by_wave.items())},
                value=Answer.wave_number,
                else_=literal(self.value, Float),
            )
        return None if self.value == 0 else literal(self.value, Float)


def _centred(shift: ColumnElement[Any] | None) -> Expression:
    """A number answer minus its question's shift (None: unshifted)."""
    value = _sound(Answer.value_num)
    return value if shift is None else value - shift


def _branch(
    key: str,
    *,
    survey_id: uuid.UUID,
    waves: Waves | None,
    by_version: bool,
    moments: Shift | None,
    channels: Sequence[str] | None,
    within: ColumnElement[bool] | None = None,
    split: Split | None = None,
) -> Select[Any]:
    """One question's branch of the statement: its counts (or, with `moments`, its moments
    around that shift), by version too when asked, grouped in the index's column order so both
    databases aggregate as they scan. With `split`, by segment value too: each answer joined to
    its respondent's (or response's) value, which PostgreSQL hashes once per branch."""
    group: list[ColumnExpressionArgument[Any]] = [Answer.question_key, Answer.wave_number]
    version = Answer.version if by_version else None
    if by_version:
        group.append(Answer.version)
    values = None if split is None or split.source is None else split.source.subquery("segment_of")
    segment: Expression | None = None
    if values is not None:
        segment = values.c.value
    elif split is not None:
        segment = Answer.channel
    if moments is None:
        columns = _columns(
            version=version, segment=segment, value=Answer.value_num, option=Answer.option_key
        )
        group += [Answer.value_num, Answer.option_key]
    else:
        centred = _centred(moments.sql())
        columns = _columns(
            version=version,
            segment=segment,
            total=func.sum(centred),
            total_sq=func.sum(centred * centred),
        )
    stmt = select(*columns).where(*_current(survey_id, channels), Answer.question_key == key)
    if values is not None:
        assert split is not None and split.on is not None
        stmt = stmt.select_from(Answer).outerjoin(values, values.c.id == split.on)
    if segment is not None:
        group.append(segment)
    stmt = stmt.where(*in_waves(Answer.wave_number, waves))
    if within is not None:
        stmt = stmt.where(within)
    return stmt.group_by(*group)


def trends_statement(
    questions: Sequence[QuestionQuery],
    *,
    survey_id: uuid.UUID,
    org_id: uuid.UUID,
    waves: Waves | None = None,
    segment: str | None = None,
    channels: Sequence[str] | None = None,
    within: ColumnElement[bool] | None = None,
    one_scan: bool = False,
    partial_index: bool = False,
    shifts: Mapping[str, Shift] | None = None,
) -> Select[Any] | CompoundSelect[Any]:
    """The one aggregate of a trends request: every question's counts per wave (and series
    segment, and segment value), as rows of (key, wave, version, segment, value, option, n,
    n_first, total, total_sq), over the answers that came through `channels` (None: all); with
    `within`, over the answers that condition admits only. Numbers are summed around their
    question's `shifts` (none given: around zero).

    A branch per question, a split by attribute joining each to the segment's values; or with
    `one_scan` one statement over every question, joined once (`_one_scan_statement`), which
    reads the table (SQLite's plan for a split), or with `partial_index` the analysis index
    (PostgreSQL's plan for a split over a few waves), or the few answers `within` admits."""
    if not questions:
        raise ValueError("nothing to count")
    if one_scan:
        return _one_scan_statement(
            questions,
            survey_id=survey_id,
            org_id=org_id,
            waves=waves,
            segment=segment,
            channels=channels,
            within=within,
            partial_index=partial_index,
            shifts=shifts or {},
        )
    split = None if segment is None else _segment_of(segment, org_id=org_id)
    branches: list[Select[Any]] = []
    for question in questions:
        for kind in branch_kinds(question):
            branches.append(
                _branch(
                    question.key,
                    survey_id=survey_id,
                    waves=waves,
                    by_version=bool(question.breaks),
                    moments=None if kind is None else (shifts or {}).get(question.key, Shift()),
                    channels=channels,
                    within=within,
                    split=split,
                )
            )
    return branches[0] if len(branches) == 1 else union_all(*branches)


def branch_kinds(question: QuestionQuery) -> list[str | None]:
    """What a question's branches count: None for counts, `MOMENTS` for the moments of its
    number series. A question whose series breaks is counted by version: the moments of its
    number series beside the counts of its other series.

    Part of the rollups' spec. The shift is not: each row carries its own (`AggregateRow`).
    Pieces of numbers written when the spec held the question's `min` instead are never read."""
    series = [c for c in question.runs if c is not None]
    kinds: list[str | None] = []
    if any(c.kind != "number" for c in series):
        kinds.append(None)
    if any(c.kind == "number" for c in series):
        kinds.append(MOMENTS)
    return kinds


def _in_run(question: QuestionQuery, index: int) -> ColumnElement[bool]:
    """The answers of one run of a question: its key, and a version in range."""
    terms: list[ColumnExpressionArgument[bool]] = [Answer.question_key == question.key]
    if index > 0:
        terms.append(Answer.version >= question.breaks[index - 1])
    if index < len(question.breaks):
        terms.append(Answer.version < question.breaks[index])
    return and_(*terms)


def _one_scan_statement(
    questions: Sequence[QuestionQuery],
    *,
    survey_id: uuid.UUID,
    org_id: uuid.UUID,
    waves: Waves | None,
    segment: str | None,
    channels: Sequence[str] | None,
    within: ColumnElement[bool] | None = None,
    partial_index: bool = False,
    shifts: Mapping[str, Shift],
) -> Select[Any]:
    """One statement over every question, split by a respondent attribute (joined once), by
    channel, or not at all. SQLite's plan for a split by attribute, PostgreSQL's when only a few
    waves are counted, and both databases' for the answers of superseded responses (`within`),
    which are found through the response index rather than by reading each question's range.

    On SQLite `respondent_id` is not in the analysis index, so a segment split reads every
    answer row whatever the plan; reading them once, in table order, is the cheapest plan. The
    filter on `is_current` is spelled `IS true` so that SQLite does not pick the partial index
    and then visit the table row by row (twice as slow as scanning it). With `partial_index`
    (PostgreSQL, whose index INCLUDEs `respondent_id`) it is spelled as the index's predicate,
    so the few waves' rows are read from the index: for a wave or two, the respondents' hash,
    built once here but once per question by the branches, is most of the cost.
    Respondents' attributes come from a CTE of the organisation's respondents (`_segment_of`).
    Numbers are told apart from counted values with CASE: their value is summed, not grouped.
    """
    split = None if segment is None else _segment_of(segment, org_id=org_id)
    segments = None
    by: Expression | None = None
    if split is not None and split.source is not None:
        segments = (
            split.source.cte("segment_of")
            # SQLite then builds an index on it, and reads each respondent's attribute once.
            .prefix_with("MATERIALIZED", dialect="sqlite")
        )
        by = segments.c.value
    elif split is not None:
        by = Answer.channel
    numbers: list[tuple[ColumnElement[bool], Shift]] = []
    broken: list[str] = []
    for question in questions:
        if question.breaks:
            broken.append(question.key)
        for index, counting in enumerate(question.runs):
            if counting is not None and counting.kind == "number":
                numbers.append((_in_run(question, index), shifts.get(question.key, Shift())))
    version = case((Answer.question_key.in_(broken), Answer.version)) if broken else None
    value: Expression = Answer.value_num
    total = total_sq = None
    if numbers:
        is_number = or_(*(condition for condition, _ in numbers))
        value = case((is_number, null()), else_=Answer.value_num)
        shifted = [(c, sql) for c, shift in numbers if (sql := shift.sql()) is not None]
        centred = _centred(case(*shifted, else_=literal(0.0, Float)) if shifted else None)
        total = func.sum(case((is_number, centred)))
        total_sq = func.sum(case((is_number, centred * centred)))
    columns = _columns(
        version=version,
        segment=by,
        value=value,
        option=Answer.option_key,
        total=total,
        total_sq=total_sq,
    )
    stmt = select(*columns).select_from(Answer)
    if segments is not None:
        assert split is not None and split.on is not None
        stmt = stmt.outerjoin(segments, segments.c.id == split.on)
    stmt = stmt.where(
        Answer.survey_id == survey_id,
        Answer.is_current if partial_index else Answer.is_current.is_(True),
        Answer.question_key.in_([q.key for q in questions]),
        *_through(channels),
        *in_waves(Answer.wave_number, waves),
    )
    if within is not None:
        stmt = stmt.where(within)
    group: list[ColumnExpressionArgument[Any]] = [
        Answer.question_key,
        Answer.wave_number,
        value,
        Answer.option_key,
    ]
    if by is not None:
        group.append(by)
    if version is not None:
        group.insert(2, version)
    return stmt.group_by(*group)


@dataclass(frozen=True, slots=True)
class Split:
    """What a segment split groups each answer by: its own `channel` (no `source`), or the
    value of `source`'s (id, value) rows joined on the answer's column `on`. Each branch of
    the statement joins a subquery of its own: PostgreSQL inlines it and hashes the ids in
    parallel workers, where one CTE shared by the branches would be materialised, estimated
    blindly, and joined the wrong way round (8x slower)."""

    source: Select[*tuple[Any, ...]] | None = None
    on: InstrumentedAttribute[Any] | None = None


def _segment_of(segment: str, *, org_id: uuid.UUID) -> Split:
    """The answer's own channel, or the organisation's respondents and their attribute
    `segment`."""
    if segment == CHANNEL_SEGMENT:
        return Split()
    source = select(Respondent.id.label("id"), attribute_segment(segment).label("value")).where(
        Respondent.org_id == org_id
    )
    return Split(source, Answer.respondent_id)


@dataclass(frozen=True, slots=True)
class TrendStats:
    """Per question key, its cells' statistics: `totals` per (wave, run), and with a
    segment split `segments` per (wave, run, attribute value) too."""

    totals: dict[str, dict[Cell, CellStats]]
    segments: dict[str, dict[Cell, CellStats]] | None


async def trend_stats(
    session: AsyncSession,
    questions: Sequence[QuestionQuery],
    *,
    survey_id: uuid.UUID,
    org_id: uuid.UUID,
    waves: Waves | None = None,
    segment: str | None = None,
    channels: Sequence[str] | None = None,
    latest_only: bool = False,
    rollups: Rollups | None = None,
    wave_numbers: Sequence[int] = (),
    used_at: datetime | None = None,
) -> TrendStats:
    """Run the trends aggregate and fold its rows into statistics per question and cell. With
    a segment split the totals are folded from the same rows, so they agree exactly. With
    `latest_only`, a respondent's superseded responses of a wave are left out (`one_voice`).

    With `rollups`, each of `wave_numbers` is read from the rollups where they hold
    (`analysis.rollups`) and only the others are counted; only those waves are returned. A
    reader's request there passes `used_at` (its `now`), and its split is recorded as used."""
    if not questions:
        return TrendStats({}, None if segment is None else {})
    count = partial(
        _counted,
        session,
        questions,
        survey_id=survey_id,
        org_id=org_id,
        segment=segment,
        channels=channels,
        latest_only=latest_only,
    )
    if rollups is None or not wave_numbers:
        rows = await count(waves=waves)
    else:
        specs, kept = await _read_kept(
            session,
            questions,
            survey_id=survey_id,
            org_id=org_id,
            segment=segment,
            channels=channels,
            latest_only=latest_only,
            waves=wave_numbers,
        )
        rows = kept.rows
        if kept.missing:
            counted = await count(waves=_covering(kept.missing))
            counted = [r for r in counted if r.wave in kept.missing]
            rows += [r for r in counted if (r.key, r.wave) not in kept.valid]
            await rollup_store.keep(
                rollups, survey_id=survey_id, specs=specs, kept=kept, counted=counted
            )
        if used_at is not None:
            await splits.note_use(
                session,
                rollups,
                survey_id=survey_id,
                segment=segment,
                channels=channels,
                at=used_at,
            )
    if segment is None:
        return TrendStats(fold(questions, rows), None)
    return TrendStats(fold(questions, rows, by_segment=False), fold(questions, rows))


async def warm(
    session: AsyncSession,
    questions: Sequence[QuestionQuery],
    *,
    survey_id: uuid.UUID,
    org_id: uuid.UUID,
    segment: str | None,
    channels: Sequence[str] | None,
    latest_only: bool,
    rollups: Rollups,
    wave_numbers: Sequence[int],
    closed: Collection[int],
    claim: Callable[[], Awaitable[bool]] | None = None,
) -> int:
    """Count and keep the waves of `wave_numbers` whose pieces are missing or retired, as the
    next reader's request would (`trend_stats`, which it then is), so that the reader does not
    wait for them; the number of waves counted. Which pieces hold is read first from their sums
    alone, without their rows: a split whose pieces all hold costs three small reads. With
    `claim`, they are counted only if it says so (False: another worker is counting them).

    Only a retired wave among `closed` is worth it: the open wave is retired by every
    submission, so counting it ahead would count it all day long for readers who may not come,
    while a reader counts it alone in under a second (one wave at 10M answer rows)."""
    if not questions or not wave_numbers:
        return 0
    _, kept = await _read_kept(
        session,
        questions,
        survey_id=survey_id,
        org_id=org_id,
        segment=segment,
        channels=channels,
        latest_only=latest_only,
        waves=wave_numbers,
        with_rows=False,
    )
    if not kept.missing & set(closed) or (claim is not None and not await claim()):
        return 0
    await trend_stats(
        session,
        questions,
        survey_id=survey_id,
        org_id=org_id,
        segment=segment,
        channels=channels,
        latest_only=latest_only,
        rollups=rollups,
        wave_numbers=wave_numbers,
    )
    return len(kept.missing)


async def _read_kept(
    session: AsyncSession,
    questions: Sequence[QuestionQuery],
    *,
    survey_id: uuid.UUID,
    org_id: uuid.UUID,
    segment: str | None,
    channels: Sequence[str] | None,
    latest_only: bool,
    waves: Sequence[int],
    with_rows: bool = True,
) -> tuple[dict[str, str], rollup_store.Kept]:
    """Each question's rollup spec (question key → spec), and what the rollups hold of them for
    `waves` (`rollup_store.read`)."""
    specs = {
        q.key: rollup_store.spec_of(
            q.key,
            [bool(q.breaks), branch_kinds(q)],
            segment=segment,
            channels=channels,
            latest_only=latest_only,
        )
        for q in questions
    }
    kept = await rollup_store.read(
        session,
        survey_id=survey_id,
        org_id=org_id,
        specs=specs,
        waves=waves,
        attribute=None if segment in (None, CHANNEL_SEGMENT) else segment,
        with_rows=with_rows,
    )
    return specs, kept


def _covering(waves: set[int]) -> Waves:
    """The waves to count for `waves`: a few by number, more as the range that holds them, so
    that each branch reads its question's index range in order as an unfiltered count does,
    rather than descending the index once per listed wave (the rows of waves in the range that
    were not asked for are dropped by the caller)."""
    if len(waves) <= FEW_WAVES:
        return frozenset(waves)
    return (min(waves), max(waves))


async def _counted(
    session: AsyncSession,
    questions: Sequence[QuestionQuery],
    *,
    survey_id: uuid.UUID,
    org_id: uuid.UUID,
    waves: Waves | None,
    segment: str | None,
    channels: Sequence[str] | None,
    latest_only: bool,
) -> list[AggregateRow]:
    """The rows of the trends statement (`_aggregate`), numbers summed around each question's
    reference answer (`_references`); the waves whose sums that left ill-conditioned
    (`_ill_conditioned`) are counted once more, around their own mean, and their rows replace
    the first ones. A second pass is never checked again: around its mean a wave is as well
    conditioned as sums can be."""
    count = partial(
        _aggregate,
        session,
        survey_id=survey_id,
        org_id=org_id,
        segment=segment,
        channels=channels,
        latest_only=latest_only,
    )
    shifts = await _references(
        session, questions, survey_id=survey_id, waves=waves, channels=channels
    )
    rows = await count(questions, waves=waves, shifts=shifts)
    far = _ill_conditioned(rows)
    if not far:
        return rows
    by_key: dict[str, dict[int, float]] = defaultdict(dict)
    for (key, wave), mean in far.items():
        by_key[key][wave] = mean
    again = await count(
        [q for q in questions if q.key in by_key],
        waves=frozenset(wave for _, wave in far),
        shifts={key: Shift(shifts[key].value, by_wave) for key, by_wave in by_key.items()},
    )
    kept = [r for r in rows if (r.key, r.wave) not in far]
    return kept + [r for r in again if (r.key, r.wave) in far]


def _number_keys(questions: Sequence[QuestionQuery]) -> list[str]:
    return [q.key for q in questions if any(c is not None and c.kind == "number" for c in q.runs)]


async def _references(
    session: AsyncSession,
    questions: Sequence[QuestionQuery],
    *,
    survey_id: uuid.UUID,
    waves: Waves | None,
    channels: Sequence[str] | None,
) -> dict[str, Shift]:
    """Per question with a number series, what its answers in `waves` are first summed around:
    its first current answer in the analysis index's order (the smallest of the first wave
    counted, usually the open wave alone when the rollups hold the others), 0 without one.
    One statement of one index probe per question (a `LIMIT 1` in index order), so a count
    costs a few milliseconds more, not a scan; no plan of the trends statement changes."""
    keys = _number_keys(questions)
    if not keys:
        return {}
    probes = [
        select(Answer.value_num)
        .where(
            *_current(survey_id, channels),
            Answer.question_key == key,
            Answer.value_num.is_not(None),
            *in_waves(Answer.wave_number, waves),
        )
        .order_by(Answer.wave_number, Answer.value_num)
        .limit(1)
        .scalar_subquery()
        for key in keys
    ]
    found = (await session.execute(select(*probes))).one()
    # A stored number below TINY counts as 0 in the sums (`_sound`); as the shift too.
    return {
        key: Shift(0.0 if v is None or abs(v) < TINY else float(v))
        for key, v in zip(keys, found, strict=True)
    }


def _spread(n: int, total: float, total_sq: float) -> float:
    """Σ(x − x̄)² of n numbers, from their sums around any K."""
    return total_sq - total * (total / n)


def _lost(n: int, total: float, total_sq: float) -> bool:
    """Whether sums of n numbers around K lost too many digits of their variance:
    Σ(x − K)² more than `RECENTRE_ABOVE` times Σ(x − x̄)², as far as these sums can tell (a
    variance they rounded to nothing counts as lost unless Σ(x − K)² is 0 itself)."""
    return total_sq > RECENTRE_ABOVE * max(_spread(n, total, total_sq), 0.0)


def _group_lost(row: AggregateRow) -> bool:
    """Whether one number row of two answers or more kept some spread but lost its digits."""
    if row.n < 2:
        return False
    total, total_sq = row.total or 0.0, row.total_sq or 0.0
    return _spread(row.n, total, total_sq) > 0 and _lost(row.n, total, total_sq)


def _ill_conditioned(rows: Iterable[AggregateRow]) -> dict[tuple[str, int], float]:
    """The (question key, wave) whose number sums lost too much to their shift (`_lost`), each
    with the wave's mean to count it again around: the wave's answers together, or a row of
    two answers or more (a version, a segment value) whose sums kept some spread but lost
    digits of it (a group nearer the wave's mean than its reference is). A row whose sums show
    no spread at all is left to the wave's check: small groups often answer alike (whole
    numbers: exact sums, a spread of exactly 0), and recounting their waves for nothing would
    double the cost of a split."""
    by_wave: dict[tuple[str, int], list[AggregateRow]] = defaultdict(list)
    for row in rows:
        if row.total is not None and row.total_sq is not None and row.n > 0:
            by_wave[(row.key, row.wave)].append(row)
    far: dict[tuple[str, int], float] = {}
    for place, group in by_wave.items():
        n = sum(r.n for r in group)
        total = math.fsum(r.total or 0.0 for r in group)
        total_sq = math.fsum(r.total_sq or 0.0 for r in group)
        if any(_group_lost(r) for r in group) or (n >= 2 and _lost(n, total, total_sq)):
            far[place] = (group[0].shift or 0.0) + total / n
    return far


async def _aggregate(
    session: AsyncSession,
    questions: Sequence[QuestionQuery],
    *,
    survey_id: uuid.UUID,
    org_id: uuid.UUID,
    waves: Waves | None,
    segment: str | None,
    channels: Sequence[str] | None,
    latest_only: bool,
    shifts: Mapping[str, Shift],
) -> list[AggregateRow]:
    """The rows of the trends statement, net of superseded responses with `latest_only`, each
    number row with the shift its sums are centred on."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    few = isinstance(waves, frozenset) and len(waves) <= FEW_WAVES
    statement = partial(
        trends_statement,
        questions,
        survey_id=survey_id,
        org_id=org_id,
        waves=waves,
        segment=segment,
        channels=channels,
        partial_index=postgresql,
        shifts=shifts,
    )
    by_attribute = segment is not None and segment != CHANNEL_SEGMENT
    stmt = statement(one_scan=by_attribute and (not postgresql or few))
    if postgresql:
        # Each branch returns a few hundred rows, but PostgreSQL cannot know that a wave holds
        # few distinct values: it estimates hundreds of thousands, prices moving them out of
        # parallel workers, and runs the branches one after another. Moving them is free for
        # this statement; measured at 10M answers, 3.2 s → 2.1 s (BENCHMARKS.md, "Trends").
        await session.execute(text("SET LOCAL parallel_tuple_cost = 0"))
        # Compiling the statement's expressions (one set per branch, in each parallel worker)
        # took longer than running it: 15.7 s of a 22 s split at 10M answers.
        await session.execute(text("SET LOCAL jit = off"))
        if segment is not None:
            # The respondents' hash table of a split (id and attributes, ~80 bytes each) in
            # one batch rather than spilled in several, up to ~800,000 respondents.
            await session.execute(text("SET LOCAL work_mem = '64MB'"))
    try:
        rows = [AggregateRow(*row) for row in (await session.execute(stmt)).all()]
        if latest_only:
            within = await _superseded(session, survey_id, waves, postgresql=postgresql)
            if within is not None:
                later = statement(within=within, one_scan=True)
                found = (await session.execute(later)).all()
                rows = net_rows(rows, [AggregateRow(*row) for row in found])
    finally:
        if postgresql:
            await session.execute(text("RESET parallel_tuple_cost"))
            await session.execute(text("RESET work_mem"))
            await session.execute(text("RESET jit"))
    return [
        row if row.total is None else row._replace(shift=shifts.get(row.key, Shift()).at(row.wave))
        for row in rows
    ]


async def _superseded(
    session: AsyncSession, survey_id: uuid.UUID, waves: Waves | None, *, postgresql: bool
) -> ColumnElement[bool] | None:
    """The answers of the survey's superseded responses in `waves`, as a condition on answer
    rows; None when there are none (no second statement then).

    Their answers are few, and are read through the response index in one statement for every
    question. Read branch by branch, each question's answers were found again (12 × 0.6 s of a
    10.7 s statement at 10M answers on PostgreSQL, BENCHMARKS.md). PostgreSQL gets the ids as
    an array: it cannot tell how few responses the window keeps (it guessed a third of the
    survey's), and with the subquery inline hashed them against every answer row (6 s)."""
    found = superseded_responses(survey_id, waves)
    if not postgresql:
        return Answer.response_id.in_(found)
    ids = list((await session.execute(found)).scalars())
    if not ids:
        return None
    return Answer.response_id == any_(bindparam("superseded", ids, type_=ARRAY(Uuid)))


def fold(
    questions: Sequence[QuestionQuery], rows: Iterable[AggregateRow], *, by_segment: bool = True
) -> dict[str, dict[Cell, CellStats]]:
    """Group aggregate rows by question and cell (ignoring segment values unless
    `by_segment`), and build each cell's statistics."""
    by_key = {q.key: q for q in questions}
    grouped: dict[str, dict[Cell, list[AggregateRow]]] = {
        q.key: defaultdict(list) for q in questions
    }
    for row in rows:
        question = by_key[row.key]
        series = 0 if row.version is None else question.run_of(row.version)
        cell = Cell(row.wave, series, row.segment if by_segment else None)
        grouped[row.key][cell].append(row)
    out: dict[str, dict[Cell, CellStats]] = {}
    for key, cells in grouped.items():
        question = by_key[key]
        built: dict[Cell, CellStats] = {}
        for cell, cell_rows in cells.items():
            counting = question.runs[cell.run]
            if counting is None:
                continue  # no version of this series asks the key, so no answer can be in it
            # A question whose series are of different kinds has a moments branch and a counts
            # branch; each cell takes the rows of its own series' kind.
            relevant = [
                r for r in cell_rows if (r.total is not None) == (counting.kind == "number")
            ]
            if relevant:
                versions = [r.version for r in relevant if r.version is not None]
                built[cell] = CellStats(
                    _stats(counting, relevant), max(versions) if versions else None
                )
        out[key] = built
    return out


def _stats(counting: Counting, rows: Sequence[AggregateRow]) -> Stats:
    kind = counting.kind
    if kind == "text":
        return sum(r.n for r in rows)
    if kind == "number":
        # One cell lies in one wave, and every row of a wave comes from one count.
        shifts = {r.shift for r in rows}
        if len(shifts) != 1 or None in shifts:
            raise ValueError(f"a cell's number rows are summed around one shift, not {shifts}")
        return Moments(
            n=sum(r.n for r in rows),
            total=sum(r.total or 0.0 for r in rows),
            total_sq=sum(r.total_sq or 0.0 for r in rows),
            shift=rows[0].shift or 0.0,
        )
    if kind == "scale":
        assert counting.scale is not None
        low, high = counting.scale
        return ScaleCounts.from_rows(
            ((r.value, r.n) for r in rows if r.value is not None),
            scale_min=low,
            scale_max=high,
        )
    chosen = [(r.option, r.n) for r in rows if r.option is not None]
    if kind == "single":
        return OptionCounts.from_rows(chosen, options=counting.options)
    # multi: one row per chosen option, `first` on one row per answer (or on the row of an
    # answer that chose nothing), so SUM(first) over the cell counts the respondents.
    return OptionCounts.from_rows(chosen, options=counting.options, n=sum(r.n_first for r in rows))


# --- panels ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PanelStats:
    """The pairs of a panel whose two answers fall in the same run, and how many
    pairs were left out because a series break lies between their two answers."""

    stats: PairTable | Moments | OptionPairs
    excluded_across_break: int


def _in_wave(wave: int, value: ColumnExpressionArgument[Any]) -> ColumnElement[Any]:
    return case((Answer.wave_number == wave, value))


def _once_in_each(from_wave: int, to_wave: int) -> list[ColumnExpressionArgument[bool]]:
    """Respondents with exactly one current answer in each wave: with two responses in one
    wave, "their answer in that wave" would be ambiguous, so they form no pair."""
    one = literal(1)
    zero = literal(0)
    return [
        func.sum(case((Answer.wave_number == from_wave, one), else_=zero)) == 1,
        func.sum(case((Answer.wave_number == to_wave, one), else_=zero)) == 1,
    ]


def _pair_filter(
    survey_id: uuid.UUID,
    key: str,
    from_wave: int,
    to_wave: int,
    channels: Sequence[str] | None,
    *,
    latest_only: bool,
) -> list[ColumnExpressionArgument[bool]]:
    where = [
        *_current(survey_id, channels),
        Answer.question_key == key,
        Answer.wave_number.in_([from_wave, to_wave]),
        Answer.respondent_id.is_not(None),
    ]
    if latest_only:
        where.append(Answer.response_id.not_in(superseded_responses(survey_id)))
    return where


def panel_statement(
    question: QuestionQuery,
    counting: Counting,
    *,
    survey_id: uuid.UUID,
    from_wave: int,
    to_wave: int,
    channels: Sequence[str] | None = None,
    latest_only: bool = False,
    shift: float = 0.0,
) -> Select[Any] | CompoundSelect[Any]:
    """The panel aggregate of one question between two waves (answers through `channels`; with
    `latest_only`, of each respondent's latest response per wave).

    Scales and single choice: rows (from version, to version, from value, to value, count);
    numbers: (from version, to version, count, Σ(d − shift), Σ(d − shift)²) with d = to − from;
    multi-choice:
    (from version, to version, option, chose in from, chose in to, count), plus one row per
    version pair with option NULL whose count is the number of pairs.
    """
    where = _pair_filter(
        survey_id, question.key, from_wave, to_wave, channels, latest_only=latest_only
    )
    versions = (
        func.max(_in_wave(from_wave, Answer.version)).label("from_version"),
        func.max(_in_wave(to_wave, Answer.version)).label("to_version"),
    )
    if counting.kind == "multi":
        return _multi_panel(where, versions, from_wave, to_wave)
    column: ColumnExpressionArgument[Any] = (
        Answer.option_key if counting.kind == "single" else Answer.value_num
    )
    pairs = (
        select(
            Answer.respondent_id,
            *versions,
            func.max(_in_wave(from_wave, column)).label("from_value"),
            func.max(_in_wave(to_wave, column)).label("to_value"),
        )
        .where(*where)
        .group_by(Answer.respondent_id)
        .having(*_once_in_each(from_wave, to_wave))
        .subquery("pairs")
    )
    if counting.kind == "number":
        d = _sound(pairs.c.to_value) - _sound(pairs.c.from_value)
        if shift != 0:
            d = d - literal(shift, Float)
        return select(
            pairs.c.from_version,
            pairs.c.to_version,
            func.count(),
            func.sum(d),
            func.sum(d * d),
        ).group_by(pairs.c.from_version, pairs.c.to_version)
    return select(
        pairs.c.from_version,
        pairs.c.to_version,
        pairs.c.from_value,
        pairs.c.to_value,
        func.count(),
    ).group_by(pairs.c.from_version, pairs.c.to_version, pairs.c.from_value, pairs.c.to_value)


def _multi_panel(
    where: list[ColumnExpressionArgument[bool]],
    versions: tuple[ColumnElement[Any], ColumnElement[Any]],
    from_wave: int,
    to_wave: int,
) -> CompoundSelect[Any]:
    # The respondents who answered in both waves (their `first` rows), with their versions.
    pairs = (
        select(Answer.respondent_id.label("respondent_id"), *versions)
        .where(*where, Answer.first)
        .group_by(Answer.respondent_id)
        .having(*_once_in_each(from_wave, to_wave))
        .cte("pairs")
    )
    one, zero = literal(1), literal(0)
    chosen = (
        select(
            Answer.respondent_id.label("respondent_id"),
            Answer.option_key.label("option"),
            func.max(case((Answer.wave_number == from_wave, one), else_=zero)).label("in_from"),
            func.max(case((Answer.wave_number == to_wave, one), else_=zero)).label("in_to"),
        )
        .where(*where, Answer.option_key.is_not(None))
        .where(Answer.respondent_id.in_(select(pairs.c.respondent_id)))
        .group_by(Answer.respondent_id, Answer.option_key)
        .subquery("chosen")
    )
    options = (
        select(
            pairs.c.from_version,
            pairs.c.to_version,
            chosen.c.option,
            chosen.c.in_from,
            chosen.c.in_to,
            func.count(),
        )
        .select_from(pairs.join(chosen, chosen.c.respondent_id == pairs.c.respondent_id))
        .group_by(
            pairs.c.from_version,
            pairs.c.to_version,
            chosen.c.option,
            chosen.c.in_from,
            chosen.c.in_to,
        )
    )
    totals = select(
        pairs.c.from_version,
        pairs.c.to_version,
        cast(null(), String),
        cast(null(), Integer),
        cast(null(), Integer),
        func.count(),
    ).group_by(pairs.c.from_version, pairs.c.to_version)
    return union_all(options, totals)


async def panel_stats(
    session: AsyncSession,
    question: QuestionQuery,
    *,
    survey_id: uuid.UUID,
    from_wave: int,
    to_wave: int,
    channels: Sequence[str] | None = None,
    latest_only: bool = False,
    kept: Mapping[tuple[int, int], frozenset[str]] | None = None,
) -> PanelStats:
    """Run the panel aggregate of one question and fold it into one series' statistics
    (`kept`: as `fold_panel`). A number question's differences are summed around zero (people
    mostly answer much as before), and once more around their mean when those sums lost too
    many digits of the variance (the module's "Number answers far from zero")."""

    async def run(shift: float) -> PanelStats:
        stmt = panel_statement(
            question,
            latest_counting(question),
            survey_id=survey_id,
            from_wave=from_wave,
            to_wave=to_wave,
            channels=channels,
            latest_only=latest_only,
            shift=shift,
        )
        rows = (await session.execute(stmt)).all()
        return fold_panel(question, [tuple(row) for row in rows], kept, shift=shift)

    found = await run(0.0)
    d = found.stats
    if isinstance(d, Moments) and d.n >= 2 and _lost(d.n, d.total, d.total_sq):
        assert d.mean is not None
        return await run(d.mean)
    return found


def latest_counting(question: QuestionQuery) -> Counting:
    """The counting of the question's latest series, which shapes the panel statement."""
    counting = next((c for c in reversed(question.runs) if c is not None), None)
    if counting is None:
        raise ValueError(f"question {question.key!r} is never asked")
    return counting


def fold_panel(
    question: QuestionQuery,
    rows: Sequence[tuple[Any, ...]],
    kept: Mapping[tuple[int, int], frozenset[str]] | None = None,
    *,
    shift: float = 0.0,
) -> PanelStats:
    """The pairs of one run: those whose two answers share a series, of the series
    with most such pairs (usually both waves lie in one series and every pair does). Pairs that
    straddle a break, or sit in a series of another question type, are counted as excluded.
    `shift`: what a number question's differences were summed around (`panel_statement`).

    `kept` names, per (from run, to run) of a choice question, the options that keep their
    series across the breaks between them (`option_series`): such pairs count with the later
    run, and only those options are tested."""
    shape = latest_counting(question)
    if shape.kind == "text":
        raise ValueError("text answers have no panel statistics")
    multi = shape.kind == "multi"
    rows_by_series: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    pairs_by_series: dict[int, int] = defaultdict(int)
    excluded = 0
    only: dict[int, frozenset[str]] = {}
    for row in rows:
        from_series, to_series = question.run_of(row[0]), question.run_of(row[1])
        counting = question.runs[to_series]
        # A multi-choice row with option NULL counts the pairs; the others count choices.
        pairs = int(row[-1]) if not multi or row[2] is None else 0
        crossing = (kept or {}).get((from_series, to_series))
        if (
            (from_series != to_series and not crossing)
            or counting is None
            or counting.kind != shape.kind
        ):
            excluded += pairs
            continue
        if crossing:
            only[to_series] = only.get(to_series, crossing) & crossing
        pairs_by_series[to_series] += pairs
        if not (multi and row[2] is None):
            rows_by_series[to_series].append(row)
    series = max(pairs_by_series, key=lambda s: (pairs_by_series[s], s), default=None)
    excluded += sum(n for s, n in pairs_by_series.items() if s != series)
    counting = shape if series is None else question.runs[series]
    assert counting is not None
    kept_rows = rows_by_series.get(series, []) if series is not None else []
    n_pairs = pairs_by_series.get(series, 0) if series is not None else 0
    stats = _panel_stats(counting, kept_rows, n_pairs, shift)
    if isinstance(stats, OptionPairs) and series in only:
        stats = stats.restricted(only[series])
    return PanelStats(stats, excluded)


def _panel_stats(
    counting: Counting, rows: Sequence[tuple[Any, ...]], n_pairs: int, shift: float
) -> PairTable | Moments | OptionPairs:
    if counting.kind == "number":
        return Moments(
            n=sum(int(r[2]) for r in rows),
            total=sum(float(r[3]) for r in rows),
            total_sq=sum(float(r[4]) for r in rows),
            shift=shift,
        )
    if counting.kind == "multi":
        listed = list(counting.options)
        options = listed + sorted({str(r[2]) for r in rows} - set(listed))
        return OptionPairs.from_rows(
            ((str(r[2]), bool(r[3]), bool(r[4]), int(r[5])) for r in rows),
            options=options,
            n_pairs=n_pairs,
        )
    if counting.kind == "single":
        return OptionPairs.from_single_choice(
            ((str(r[2]), str(r[3]), int(r[4])) for r in rows), options=counting.options
        )
    return PairTable.from_rows((float(r[2]), float(r[3]), int(r[4])) for r in rows)
