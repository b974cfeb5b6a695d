"""A question's figures from its cells' statistics, as docs/statistics.md defines them (no I/O).

Per wave: the estimate, and the change from the previous shown wave of the same run with
Benjamini–Hochberg q over the question's family; per run (the waves between two series breaks):
Mann–Kendall with Sen's slope; with a segment split, the same per attribute value under
complementary suppression.

Decisions made here, beyond the contract:

- **A wave straddling a break.** A version published mid-wave leaves answers under both versions
  in that wave. Each answer's version decides its run, so such a wave has one entry per run in
  `waves` (same `number`, its own `series` and `version`), and each takes part in its own run's
  tests and trend. A chart draws the wave once, with the part that holds most of its answers.
- **Which trend is the question's `trend`.** The latest run's (`trend_series` gives its index in
  `series`, which lists every run in range with its own trend).
- **q families.** One question's change tests within one figure set: the total is a family,
  each segment value another.
- **Waves.** Every wave of the range that has opened, including waves without answers (n 0,
  suppressed); a wave that has not opened is left out.
- **`other` (`small_groups=fold`).** Its cells pool the values folded in each wave
  (`analysis.folding`), so it is a different group whenever its members differ: a change test
  between two such waves, or a trend over them, is not run (the change says why; the trend is
  null with its reason).
- **`version` of a wave entry.** For a question whose series breaks, the newest version its
  answers in that wave were given under; otherwise the version current when the wave closed
  (or now, for the open wave): versions are read from answers only where they change figures.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from functools import partial

from feedback.analysis.catalogue import METRICS, QuestionMeta, Wave
from feedback.analysis.cells import Cell, CellStats, SegmentValue, Stats, pooled
from feedback.analysis.changes import (
    chi_square,
    mann_whitney,
    nps_z,
    two_proportion_z,
    welch_t,
    with_q_values,
)
from feedback.analysis.estimates import (
    choice_estimate,
    nps_estimate,
    number_estimate,
    scale_estimate,
    text_estimate,
)
from feedback.analysis.folding import SmallGroups, fold_cells
from feedback.analysis.option_series import option_runs
from feedback.analysis.results import (
    ChangeTest,
    Metric,
    NoTrend,
    Suppression,
    TrendTest,
    WaveEstimate,
)
from feedback.analysis.series import change_pairs
from feedback.analysis.sufficient import Moments, OptionCounts, ScaleCounts
from feedback.analysis.suppression import suppressed_cells
from feedback.analysis.trend import mann_kendall
from feedback.analysis.version_marks import VersionMark
from feedback.surveys.definition import (
    CountedOnly,
    MultiChoiceQuestion,
    NpsQuestion,
    NumberQuestion,
    Question,
    SingleChoiceQuestion,
    label_text,
)


@dataclass(frozen=True, slots=True)
class WaveFigures:
    """One wave of one question (one run of it, for a wave straddling a break). `series` is the
    run's index (None for a wave without answers). `members` are, in the `other` group only,
    the segment values folded into it in this wave (smallest first)."""

    wave: Wave
    series: int | None
    version: int | None
    estimate: WaveEstimate
    change: ChangeTest | None = None
    option_changes: Mapping[str, ChangeTest] | None = None
    members: tuple[SegmentValue, ...] | None = None

    @property
    def shown(self) -> bool:
        return not self.estimate.suppressed


Trend = TrendTest | NoTrend


@dataclass(frozen=True, slots=True)
class RunFigures:
    """One run of a question in the range (the waves between two series breaks): its waves and
    its trend (per option for share metrics; None for text)."""

    index: int
    version: int | None
    waves: tuple[int, ...]
    metric: Metric | None
    trend: Trend | None = None
    option_trends: Mapping[str, Trend] | None = None


@dataclass(frozen=True, slots=True)
class Figures:
    """A question's figures over the range: the total's, or one segment value's."""

    waves: tuple[WaveFigures, ...]
    runs: tuple[RunFigures, ...]

    @property
    def latest(self) -> RunFigures | None:
        return self.runs[-1] if self.runs else None

    def n_total(self) -> int:
        return sum(w.estimate.n for w in self.waves)


@dataclass(frozen=True, slots=True)
class DecisionMark:
    """A decision shown with a question: `wave` is the wave open when it was taken, or the first
    to open after it (None when no wave opens after it)."""

    id: uuid.UUID
    title: str
    decided_at: datetime
    wave: int | None


@dataclass(frozen=True, slots=True)
class QuestionTrends:
    meta: QuestionMeta
    label: str
    option_labels: Mapping[str, str]
    total: Figures
    segments: Mapping[SegmentValue, Figures] | None
    decisions: tuple[DecisionMark, ...]
    version_changes: tuple[VersionMark, ...] = ()
    # `small_groups=fold`: the small values of each wave together (None: nothing was folded).
    other: Figures | None = None

    @property
    def metric(self) -> Metric | None:
        return self.meta.metric


@dataclass(frozen=True, slots=True)
class SurveyTrends:
    """Every requested question's figures over the waves of the range that have opened."""

    slug: str
    min_n: int
    segment: str | None
    start: date | None
    end: date | None
    waves: tuple[Wave, ...]
    questions: tuple[QuestionTrends, ...]
    # What the plain sentences (`summaries`) are written in: the reader's locale among the
    # survey's languages (`default_locale`, the survey's, for labels without a text in it), and
    # the schedule's time zone for waves named by their opening date.
    locale: str = "en"
    zone: tzinfo = UTC
    # What a segment split did with small cells (None without a segment).
    small_groups: SmallGroups | None = None
    default_locale: str = "en"
    # The channels whose responses were counted (None: every channel).
    channels: tuple[str, ...] | None = None


def question_trends(
    meta: QuestionMeta,
    *,
    locale: str,
    waves: Sequence[Wave],
    in_effect: Mapping[int, int | None],
    totals: Mapping[Cell, CellStats],
    by_segment: Mapping[Cell, CellStats] | None,
    min_n: int,
    decisions: Sequence[DecisionMark],
    version_changes: Sequence[VersionMark] = (),
    small_groups: SmallGroups = "suppress",
) -> QuestionTrends:
    """A question's figures from the aggregate's cells: the total's and, with `by_segment`, each
    segment value's (largest first, `null` last), labels in the survey's `locale`; with
    `small_groups="fold"` also the `other` group's."""
    options: dict[str, str] = {}
    if isinstance(meta.question, SingleChoiceQuestion | MultiChoiceQuestion):
        for question in meta.series:
            if isinstance(question, SingleChoiceQuestion | MultiChoiceQuestion):
                for option in question.options:
                    options.setdefault(option.key, label_text(option.label, None, locale))
        for option in meta.question.options:
            options[option.key] = label_text(option.label, None, locale)
    figure = partial(figures, meta, waves=waves, in_effect=in_effect, min_n=min_n)
    segments: dict[SegmentValue, Figures] | None = None
    other: Figures | None = None
    if by_segment is not None:
        if small_groups == "fold":
            folded = _folded(meta, totals, by_segment, min_n)
            hidden = folded.hidden
            if folded.members:
                other = figure(folded.cells, hidden=folded.other, members=folded.members)
        else:
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
                {Cell(c.wave, c.run): s for c, s in by_segment.items() if c.segment == value},
                hidden={(c.wave, c.run): why for c, why in hidden.items() if c.segment == value},
            )
            for value in values
        }
    return QuestionTrends(
        meta=meta,
        label=label_text(meta.question.label, None, locale),
        option_labels=options,
        total=figure(totals, hidden={}),
        segments=segments,
        decisions=tuple(decisions),
        version_changes=tuple(version_changes),
        other=other,
    )


def _n(stats: Stats) -> int:
    return stats if isinstance(stats, int) else stats.n


def _complementary(
    totals: Mapping[Cell, CellStats], by_segment: Mapping[Cell, CellStats], min_n: int
) -> dict[Cell, Suppression]:
    """Segment cells to hide: below min_n, or revealing one that is by subtraction from the
    total (docs/statistics.md "Segments")."""
    per_cell: dict[tuple[int, int], dict[SegmentValue, int]] = defaultdict(dict)
    for cell, stats in by_segment.items():
        per_cell[(cell.wave, cell.run)][cell.segment] = _n(stats.stats)
    hidden: dict[Cell, Suppression] = {}
    for (wave, run), cells in per_cell.items():
        total = totals.get(Cell(wave, run))
        total_n = 0 if total is None else _n(total.stats)
        for value, why in suppressed_cells(total_n, cells, min_n).items():
            hidden[Cell(wave, run, value)] = why
    return hidden


@dataclass(frozen=True, slots=True)
class _Folded:
    """A segment split after folding: why each value's cell is hidden, and the `other` group's
    cells, why they are hidden and their members, per (wave, run)."""

    hidden: dict[Cell, Suppression]
    cells: dict[Cell, CellStats]
    other: dict[tuple[int, int], Suppression]
    members: dict[tuple[int, int], tuple[SegmentValue, ...]]


def _folded(
    meta: QuestionMeta,
    totals: Mapping[Cell, CellStats],
    by_segment: Mapping[Cell, CellStats],
    min_n: int,
) -> _Folded:
    """`small_groups=fold`, decided per wave and run (docs/statistics.md "Segments")."""
    per_cell: dict[tuple[int, int], dict[SegmentValue, CellStats]] = defaultdict(dict)
    for cell, stats in by_segment.items():
        per_cell[(cell.wave, cell.run)][cell.segment] = stats
    out = _Folded({}, {}, {}, {})
    for (wave, run), cells in per_cell.items():
        total = totals.get(Cell(wave, run))
        total_n = 0 if total is None else _n(total.stats)
        fold = fold_cells(total_n, {v: _n(s.stats) for v, s in cells.items()}, min_n)
        for value, why in fold.hidden.items():
            out.hidden[Cell(wave, run, value)] = why
        if fold.members:
            counting = meta.query.runs[run]
            assert counting is not None
            out.cells[Cell(wave, run)] = pooled([cells[v] for v in fold.members], counting)
            out.members[(wave, run)] = fold.members
            if fold.other is not None:
                out.other[(wave, run)] = fold.other
    return out


# Why `other` has no change test or trend across waves whose members differ.
OTHER_CHANGED = "the other group holds different values in these waves"


def figures(
    meta: QuestionMeta,
    cells: Mapping[Cell, CellStats],
    *,
    waves: Sequence[Wave],
    in_effect: Mapping[int, int | None],
    min_n: int,
    hidden: Mapping[tuple[int, int], Suppression],
    members: Mapping[tuple[int, int], tuple[SegmentValue, ...]] | None = None,
) -> Figures:
    """Estimates, change tests (q over the family), and each run's trend; with `members` (the
    `other` group) none across waves whose members differ."""
    estimates: dict[tuple[int, int], WaveEstimate] = {}
    for cell, cell_stats in cells.items():
        question = meta.series[cell.run]
        assert question is not None
        estimate = _estimate(question, cell_stats.stats, min_n)
        why = hidden.get((cell.wave, cell.run))
        if why is not None:
            estimate = estimate.as_suppressed(why)
        estimates[(cell.wave, cell.run)] = estimate
    listed = {w.number for w in waves}
    by_run: dict[int, list[int]] = defaultdict(list)
    for number, run in sorted(estimates):
        if number in listed:
            by_run[run].append(number)
    changes = _changes(meta, cells, estimates, by_run, members)
    entries: list[WaveFigures] = []
    for wave in waves:
        here = sorted(r for w, r in estimates if w == wave.number)
        if not here:
            empty = _empty(meta, min_n)
            held = None if members is None else ()
            entries.append(WaveFigures(wave, None, in_effect.get(wave.number), empty, members=held))
        for run in here:
            key = (wave.number, run)
            change = changes.get(key)
            version = cells[Cell(wave.number, run)].version
            entries.append(
                WaveFigures(
                    wave,
                    run,
                    version if meta.query.breaks else in_effect.get(wave.number),
                    estimates[key],
                    change if isinstance(change, ChangeTest) else None,
                    change if isinstance(change, dict) else None,
                    None if members is None else members[key],
                )
            )
    in_range = {key: e for key, e in estimates.items() if key[0] in listed}
    runs = tuple(
        _run_trend(meta, index, tuple(numbers), in_range, members)
        for index, numbers in sorted(by_run.items())
    )
    return Figures(tuple(entries), runs)


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
    by_run: Mapping[int, Sequence[int]],
    members: Mapping[tuple[int, int], tuple[SegmentValue, ...]] | None = None,
) -> dict[tuple[int, int], ChangeOf]:
    """Each shown wave against the previous shown wave of its run, then BH q over the whole
    family (every test in wave order; every option's for multi-choice). With `members`, two
    waves whose members differ get a test without p, saying why."""
    raw: list[tuple[tuple[int, int], ChangeOf]] = []
    for run, waves in by_run.items():
        question = meta.series[run]
        assert question is not None
        test = _change_test(question)
        if test is None:
            continue
        suppressed = {w for w in waves if estimates[(w, run)].suppressed}
        for before, after in change_pairs(waves, suppressed):
            change = test(cells[Cell(before, run)].stats, cells[Cell(after, run)].stats, before)
            if members is not None and set(members[(before, run)]) != set(members[(after, run)]):
                change = _not_comparable(change)
            raw.append(((after, run), change))
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


def _not_comparable(change: ChangeOf) -> ChangeOf:
    def one(test: ChangeTest) -> ChangeTest:
        return ChangeTest(test.test, test.from_wave, None, None, reason=OTHER_CHANGED)

    if isinstance(change, dict):
        return {option: one(test) for option, test in change.items()}
    return one(change)


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

    if isinstance(question, CountedOnly):
        return None
    if isinstance(question, NumberQuestion):
        return number
    if isinstance(question, SingleChoiceQuestion | MultiChoiceQuestion):
        return choice
    return scale


def _run_trend(
    meta: QuestionMeta,
    index: int,
    waves: tuple[int, ...],
    estimates: Mapping[tuple[int, int], WaveEstimate],
    members: Mapping[tuple[int, int], tuple[SegmentValue, ...]] | None = None,
) -> RunFigures:
    question = meta.series[index]
    assert question is not None
    metric = METRICS[question.type]
    shown = [(w, estimates[(w, index)]) for w in waves if not estimates[(w, index)].suppressed]
    version = meta.first_versions[index]
    if metric is None:
        return RunFigures(index, version, waves, metric)
    spanned = range(index + 1) if metric == "share" else [index]
    if members is not None and _members_differ(members, estimates, spanned):
        no_trend = NoTrend(OTHER_CHANGED, len(shown))
        if metric != "share":
            return RunFigures(index, version, waves, metric, trend=no_trend)
        held = {o: no_trend for _, e in shown for o in e.options or {}}
        return RunFigures(index, version, waves, metric, option_trends=dict(held))
    if metric == "share":
        options: dict[str, None] = {}
        for _, estimate in shown:
            options.update(dict.fromkeys(estimate.options or {}))
        option_trends: dict[str, Trend] = {}
        for option in options:
            points = _option_points(option, option_runs(meta.series, index, option), estimates)
            option_trends[option] = mann_kendall([w for w, _ in points], [v for _, v in points])
        if not shown:
            option_trends = {}
        return RunFigures(index, version, waves, metric, option_trends=option_trends)
    points = [(w, e.estimate) for w, e in shown if e.estimate is not None]
    trend = mann_kendall([w for w, _ in points], [v for _, v in points])
    return RunFigures(index, version, waves, metric, trend=trend)


def _members_differ(
    members: Mapping[tuple[int, int], tuple[SegmentValue, ...]],
    estimates: Mapping[tuple[int, int], WaveEstimate],
    runs: Collection[int],
) -> bool:
    """Whether the `other` group's shown waves in range of these runs (an option's trend may
    span runs) hold different values: then it is not one group over time."""
    held = {
        frozenset(members[key])
        for key, e in estimates.items()
        if key[1] in runs and not e.suppressed
    }
    return len(held) > 1


def _option_points(
    option: str, runs: Sequence[int], estimates: Mapping[tuple[int, int], WaveEstimate]
) -> list[tuple[int, float]]:
    """An option's shown shares over the runs its series spans, in wave order; a wave that
    straddles a break gives the later run's share."""
    by_wave: dict[int, float] = {}
    for (wave, run), estimate in sorted(estimates.items(), key=lambda item: item[0][1]):
        share = (estimate.options or {}).get(option)
        if (
            run in runs
            and not estimate.suppressed
            and share is not None
            and share.estimate is not None
        ):
            by_wave[wave] = share.estimate
    return sorted(by_wave.items())
