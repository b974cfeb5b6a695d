"""A decision's impact on a question's computed figures, no I/O (docs/statistics.md,
"Decision impact").

The interrupted time series runs over the shown waves of one figure set (the total, or one
segment value's) that closed by `now`: an open wave's estimate is still moving.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from feedback.analysis.cells import SegmentValue
from feedback.analysis.figures import (
    DecisionMark,
    Figures,
    QuestionTrends,
    SurveyTrends,
    WaveFigures,
)
from feedback.analysis.impact import (
    Impact,
    WavePoint,
    interrupted_time_series,
    series_run,
    unfitted,
)
from feedback.analysis.results import Metric


@dataclass(frozen=True, slots=True)
class FiguresImpact:
    """A decision's impact on one figure set (the total, or one segment value's): the impact on
    the question's estimate, or for a share metric the waves it is measured on (`impact`, with
    no verdict of its own) and one impact per option."""

    impact: Impact
    options: Mapping[str, Impact] | None = None


@dataclass(frozen=True, slots=True)
class DecisionImpact:
    """docs/statistics.md "Decision impact" of one decision on one question: the total's and, with
    `segment`, each segment value's."""

    decision: DecisionMark
    key: str
    metric: Metric
    min_n: int
    segment: str | None
    total: FiguresImpact
    segments: Mapping[SegmentValue, FiguresImpact] | None


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
