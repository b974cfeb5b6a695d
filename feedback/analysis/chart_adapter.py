"""Computed trends as the charts draw them: one `ChartData` per figure set, with the breaks,
decisions, the latest run's trend and, for a decision's impact, its fitted lines.

Everything here runs on the caller's thread and is cheap; only the returned renderer draws
(matplotlib, ~100 ms of CPU), so the service can hand it to a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from feedback.analysis.charts import (
    ChartBreak,
    ChartChange,
    ChartData,
    ChartDecision,
    ChartFit,
    ChartFormat,
    ChartPoint,
    decision_position,
    render_chart,
    render_segments,
)
from feedback.analysis.decision_impact import DecisionImpact, FiguresImpact
from feedback.analysis.figures import (
    DecisionMark,
    Figures,
    QuestionTrends,
    SurveyTrends,
    WaveFigures,
)
from feedback.analysis.number_text import figure_text, p_text
from feedback.analysis.results import Metric
from feedback.analysis.summaries import summaries_of
from feedback.errors import FieldError, Invalid
from feedback.surveys.definition import (
    LikertQuestion,
    MultiChoiceQuestion,
    NpsQuestion,
    NumberQuestion,
    Question,
    RatingQuestion,
)
from feedback.translations import translate

MAX_SEGMENT_PANELS = 12
NO_VALUE = "no value"


def chart_renderer(
    result: SurveyTrends, question: QuestionTrends, impact: DecisionImpact | None = None
) -> Callable[[ChartFormat], bytes]:
    """A function rendering the question's chart in a format (the series are built here, on
    the caller's thread; only drawing happens in the renderer), with a decision's fitted lines
    when `impact` is given (per panel in a segment chart)."""
    if question.metric is None:
        # Text or date: name the one it is (as the panel does).
        kind = question.meta.type
        raise Invalid(
            [FieldError("/question", f"is a {kind} question: it has no chart, only n per wave")],
            f"{kind.capitalize()} questions have no chart.",
        )
    if question.segments is None:
        data = chart_data(
            result,
            question,
            question.total,
            question.label,
            impact=None if impact is None else (impact.decision, impact.total),
        )
        return lambda fmt: render_chart(data, fmt)
    # With small_groups=fold, a value whose every answer went into `other` has no panel of its
    # own: it would only repeat "every wave n<5" beside the panel that holds its answers.
    ordered = [(v, f) for v, f in question.segments.items() if not _all_folded(f)]
    shown = ordered[:MAX_SEGMENT_PANELS]
    panels = [
        chart_data(
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
    if question.other is not None:
        label = translate(result.locale, "Other (small groups)")
        panels.append(replace(chart_data(result, question, question.other, label), pooled=True))
    subtitle = f"By {result.segment}"
    if impact is not None:
        subtitle += f" · fitted before/after {_shorten_title(impact.decision.title)}"
    if len(ordered) > len(shown):
        subtitle += f": the {len(shown)} largest of {len(ordered)} groups"
    return lambda fmt: render_segments(question.label, panels, fmt, subtitle=subtitle)


def _all_folded(figures: Figures) -> bool:
    estimates = [w.estimate for w in figures.waves]
    return any(e.suppression == "folded" for e in estimates) and all(
        e.suppression == "folded" or e.n == 0 for e in estimates
    )


def chart_data(
    result: SurveyTrends,
    question: QuestionTrends,
    figures: Figures,
    title: str,
    *,
    impact: tuple[DecisionMark, FiguresImpact] | None = None,
) -> ChartData:
    """A chart's data from figures: each wave once (the part with most answers when a break
    splits it), breaks before each later run, the decisions, the latest trend, and
    with `impact` a decision's fitted lines, its verdict or why there is none in the subtitle."""
    metric = question.metric
    assert metric is not None
    drawn: dict[int, WaveFigures] = {}
    for entry in figures.waves:
        held = drawn.get(entry.wave.number)
        if held is None or entry.estimate.n >= held.estimate.n:
            drawn[entry.wave.number] = entry
    points = tuple(
        replace(
            ChartPoint.from_estimate(number, entry.wave.label, entry.estimate),
            members=None if entry.members is None else frozenset(entry.members),
        )
        for number, entry in drawn.items()
    )
    breaks = []
    for run in figures.runs[1:]:
        first = next((w for w in run.waves if drawn[w].series == run.index), None)
        if first is not None and run.version is not None:
            breaks.append(ChartBreak(first, run.version))
    openings = [(w.number, w.opens_at) for w in result.waves]
    decisions = tuple(
        ChartDecision(position, d.title)
        for d in question.decisions
        if (position := decision_position(d.decided_at, openings)) is not None
    )
    latest = figures.latest
    meta = question.meta
    out = ChartData(
        title=title,
        metric=metric,
        points=points,
        min_n=result.min_n,
        breaks=tuple(breaks),
        changes=_changes(question),
        summary=None
        if latest is None or metric == "share"
        else summaries_of(
            question,
            figures,
            result.locale,
            result.zone,
            named=False,
            default_locale=result.default_locale,
        ).trend(latest),
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


def _changes(question: QuestionTrends) -> tuple[ChartChange, ...]:
    """The question's non-breaking version changes, one mark per version (its kinds
    together); a breaking version is drawn as a break."""
    kinds: dict[tuple[int, int], list[str]] = {}
    breaking = {c.version for c in question.version_changes if c.breaks_series}
    for change in question.version_changes:
        if change.version not in breaking:
            kinds.setdefault((change.wave, change.version), []).append(change.kind)
    return tuple(ChartChange(wave, version, tuple(k)) for (wave, version), k in kinds.items())


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
    return "p n/a" if p is None else p_text(p)


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
