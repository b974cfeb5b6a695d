"""Wire types of the analysis answers (trends, panel, decision impact), and the one place the
computed figures become them.

msgspec Structs, so that Litestar encodes them natively and /schema types every field. A field
the contract leaves out in some cases (a suppressed wave carries only its `n`; `trend_reason`
only beside a null trend) is `UNSET` there and absent from the JSON; a field the contract
always carries is null when it has no value.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, tzinfo
from typing import Annotated, Any, Literal, NamedTuple

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from feedback.analysis.cells import SegmentValue
from feedback.analysis.decision_impact import DecisionImpact, FiguresImpact
from feedback.analysis.figures import (
    Figures,
    QuestionTrends,
    RunFigures,
    SurveyTrends,
    Trend,
    WaveFigures,
)
from feedback.analysis.impact import Coefficient, Impact, Verdict
from feedback.analysis.panel import PanelFigures
from feedback.analysis.results import (
    ChangeTest,
    ChangeTestName,
    Direction,
    McNemarTest,
    Metric,
    NoTrend,
    PanelResult,
    PanelTestName,
    Share,
    Suppression,
    WaveEstimate,
)
from feedback.analysis.summaries import Summaries, summaries_of
from feedback.surveys.changes import ChangeKind

# --- per-wave figures --------------------------------------------------------------------------


class ShareRead(Struct, kw_only=True):
    """A proportion with its Wilson interval; an option's share also its smallest detectable
    change (`mdc`, docs/statistics.md)."""

    count: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    mdc: float | UnsetType | None = UNSET


class EstimateRead(Struct, kw_only=True):
    """A wave's (or a segment cell's) estimate: only `n` when suppressed or for text; for `mean`
    and `nps` metrics `estimate`, `ci_low` and `ci_high` always (null when undefined); the
    others where they apply (docs/statistics.md "Per-wave estimates")."""

    n: int
    suppressed: Annotated[
        Suppression | bool,
        Meta(
            description='false when shown; why it is hidden otherwise: "small" (n < min_n), '
            '"complementary" (so that a small cell cannot be recovered from the total) or '
            '"folded" (small_groups=fold: its answers are in `other`).'
        ),
    ]
    estimate: float | UnsetType | None = UNSET
    ci_low: float | UnsetType | None = UNSET
    ci_high: float | UnsetType | None = UNSET
    sd: float | UnsetType | None = UNSET
    distribution: dict[str, int] | UnsetType = UNSET
    top_box: ShareRead | UnsetType = UNSET
    promoters: float | UnsetType | None = UNSET
    passives: float | UnsetType | None = UNSET
    detractors: float | UnsetType | None = UNSET
    options: dict[str, ShareRead] | UnsetType = UNSET
    mdc: Annotated[
        float | UnsetType | None,
        Meta(
            description="Mean and NPS metrics: the smallest change a next wave of the same n "
            "would detect (80% power, α 0.05); shares carry theirs per option."
        ),
    ] = UNSET


class WaveChangeRead(Struct, kw_only=True):
    """The change from the previous comparable wave of the same run (docs/statistics.md "Change from
    the previous wave"); `q` is Benjamini–Hochberg over the question's family."""

    test: ChangeTestName
    from_wave: int
    statistic: float | None
    p: float | None
    diff: float | None
    diff_ci_low: float | None
    diff_ci_high: float | None
    df: float | None
    q: float | None
    significant: bool | None
    reason: str | None
    summary: Annotated[
        str | None, Meta(description="The change in plain words (means and NPS).")
    ] = None


class WaveFiguresRead(EstimateRead, kw_only=True):
    """One wave of a question (one run of it, when a break splits the wave). A suppressed wave
    carries only number, label, n and `suppressed` (and `series` when the range holds a
    break)."""

    number: int
    label: str
    opens_at: datetime | UnsetType = UNSET
    closes_at: datetime | UnsetType | None = UNSET
    version: int | UnsetType | None = UNSET
    series: Annotated[
        int | UnsetType | None,
        Meta(description="The run (index into `series`); only when the range holds a break."),
    ] = UNSET
    change: WaveChangeRead | UnsetType | None = UNSET
    option_changes: Annotated[
        dict[str, WaveChangeRead] | UnsetType,
        Meta(description="Multi-choice questions: the change of each option's share."),
    ] = UNSET


class TrendRead(Struct, kw_only=True):
    """Mann–Kendall over one run's shown wave estimates, with Sen's slope per wave."""

    s: int
    var_s: float
    tau: float
    z: float
    p: float
    slope: float
    direction: Direction
    waves: int
    test: Literal["mann_kendall"]
    summary: Annotated[str | None, Meta(description="The trend in plain words.")] = None


class RunRead(Struct, kw_only=True):
    """One run of the question in the range: the waves between two series breaks."""

    series: int
    version: int | None
    metric: Metric | None
    first_wave: int | None
    last_wave: int | None
    trend: TrendRead | None
    trend_reason: str | UnsetType = UNSET
    option_trends: dict[str, TrendRead | None] | UnsetType = UNSET


class FiguresRead(Struct, kw_only=True):
    """A question's figures over the range (the total's, or one segment value's)."""

    waves: list[WaveFiguresRead]
    trend: Annotated[TrendRead | None, Meta(description="The latest run's trend.")]
    trend_reason: Annotated[
        str | UnsetType, Meta(description="Why `trend` is null, when it is.")
    ] = UNSET
    option_trends: Annotated[
        dict[str, TrendRead | None] | UnsetType,
        Meta(description="Share metrics: the latest run's trend per option."),
    ] = UNSET
    trend_series: int | None
    series: list[RunRead]


class SegmentFiguresRead(FiguresRead, kw_only=True):
    value: Annotated[
        str | None, Meta(description="The attribute value (null: respondents without it).")
    ]


class OtherWaveRead(WaveFiguresRead, kw_only=True):
    """One wave of the `other` group: its figures pool the values folded in this wave."""

    members: Annotated[
        list[str | None],
        Meta(
            description="The values folded into `other` in this wave, smallest first (null: "
            "respondents without the attribute); empty when nothing was folded."
        ),
    ]


class OtherFiguresRead(FiguresRead, kw_only=True):
    """`small_groups=fold`: the small values of each wave together. A different group whenever
    its members differ, so no change test or trend runs across waves whose members differ."""

    # Narrower than the base's list (each wave names its members); msgspec encodes it as declared.
    waves: list[OtherWaveRead]  # type: ignore[assignment]


class BreakRead(Struct, kw_only=True):
    """A series break inside the range: the breaking version and the first wave after it."""

    version: int | None
    wave: int
    series: int


class VersionChangeRead(Struct, kw_only=True):
    """A change a published version made to the question, breaking its series or not, marked
    at the first wave that version could be answered in."""

    version: int
    wave: int
    published_at: datetime
    kind: Annotated[
        ChangeKind,
        Meta(description="added (again), removed, reworded, options_changed, scale_changed, …"),
    ]
    breaks_series: bool
    detail: str


class DecisionMarkRead(Struct, kw_only=True):
    id: uuid.UUID
    title: str
    decided_at: datetime
    wave: int | None


class QuestionTrendsRead(FiguresRead, kw_only=True):
    key: str
    type: str
    metric: Metric | None
    label: str
    breaks: list[BreakRead]
    version_changes: Annotated[
        list[VersionChangeRead],
        Meta(description="Every version change of the question in range, breaking or not."),
    ]
    decisions: list[DecisionMarkRead]
    options: Annotated[
        dict[str, str] | UnsetType, Meta(description="Choice questions: option labels.")
    ] = UNSET
    segments: Annotated[
        dict[str, SegmentFiguresRead] | UnsetType,
        Meta(description="With `segment`: the figures per attribute value (`null`: without)."),
    ] = UNSET
    other: Annotated[
        OtherFiguresRead | UnsetType | None,
        Meta(
            description="With `segment` and `small_groups=fold`: the small values of each wave "
            "folded together (null when no wave folded any)."
        ),
    ] = UNSET


class TrendsRead(Struct, kw_only=True):
    """GET /surveys/{slug}/trends."""

    survey: str
    min_n: int
    start: date | None = msgspec.field(name="from")
    end: date | None = msgspec.field(name="to")
    segment: str | None
    small_groups: Annotated[
        Literal["suppress", "fold"] | None,
        Meta(description="What the segment split did with small cells (null without `segment`)."),
    ]
    channels: Annotated[
        list[str] | None,
        Meta(description="The channels whose responses were counted (`channel=`); null: all."),
    ] = None
    locale: Annotated[
        str, Meta(description="The language of the summaries: the request's, if the survey has it.")
    ] = "en"
    questions: list[QuestionTrendsRead]


def share_read(share: Share) -> ShareRead:
    return ShareRead(
        count=share.count,
        estimate=share.estimate,
        ci_low=share.ci_low,
        ci_high=share.ci_high,
        mdc=UNSET if share.mdc is None else share.mdc,
    )


def estimate_read(e: WaveEstimate) -> EstimateRead:
    return EstimateRead(**_estimate_fields(e))


def _estimate_fields(e: WaveEstimate) -> dict[str, Any]:
    if e.suppressed or e.metric is None:
        return {"n": e.n, "suppressed": e.suppression}
    interval = e.metric in ("mean", "nps")
    nps = e.metric == "nps"
    return {
        "n": e.n,
        "suppressed": e.suppression,
        "estimate": e.estimate if interval else UNSET,
        "ci_low": e.ci_low if interval else UNSET,
        "ci_high": e.ci_high if interval else UNSET,
        "sd": e.sd if e.metric == "mean" else UNSET,
        "distribution": UNSET if e.distribution is None else dict(e.distribution),
        "top_box": UNSET if e.top_box is None else share_read(e.top_box),
        "promoters": e.promoters if nps else UNSET,
        "passives": e.passives if nps else UNSET,
        "detractors": e.detractors if nps else UNSET,
        "options": UNSET
        if e.options is None
        else {key: share_read(share) for key, share in e.options.items()},
        "mdc": e.mdc if interval else UNSET,
    }


def change_read(t: ChangeTest, summary: str | None = None) -> WaveChangeRead:
    return WaveChangeRead(
        summary=summary,
        test=t.test,
        from_wave=t.from_wave,
        statistic=t.statistic,
        p=t.p,
        diff=t.diff,
        diff_ci_low=t.diff_ci_low,
        diff_ci_high=t.diff_ci_high,
        df=t.df,
        q=t.q,
        significant=t.significant,
        reason=t.reason,
    )


def trend_read(t: Trend, summary: str | None = None) -> TrendRead | None:
    """The contract's trend: null when no test ran (the reason goes beside it)."""
    if isinstance(t, NoTrend):
        return None
    return TrendRead(
        summary=summary,
        s=t.s,
        var_s=t.var_s,
        tau=t.tau,
        z=t.z,
        p=t.p,
        slope=t.slope,
        direction=t.direction,
        waves=t.waves,
        test=t.test,
    )


def wave_read(
    entry: WaveFigures, *, with_series: bool, say: Summaries | None = None
) -> WaveFiguresRead:
    series = entry.series if with_series else UNSET
    wave = entry.wave
    if entry.estimate.suppressed:
        return WaveFiguresRead(
            number=wave.number,
            label=wave.label,
            n=entry.estimate.n,
            suppressed=entry.estimate.suppression,
            series=series,
        )
    metric = entry.estimate.metric
    change: WaveChangeRead | UnsetType | None = UNSET
    option_changes: dict[str, WaveChangeRead] | UnsetType = UNSET
    if entry.option_changes is not None:
        option_changes = {
            k: change_read(t, None if say is None else say.change(entry, k))
            for k, t in entry.option_changes.items()
        }
    elif metric is not None:
        change = (
            None
            if entry.change is None
            else change_read(entry.change, None if say is None else say.change(entry))
        )
    return WaveFiguresRead(
        number=wave.number,
        label=wave.label,
        opens_at=wave.opens_at,
        closes_at=wave.closes_at,
        version=entry.version,
        series=series,
        change=change,
        option_changes=option_changes,
        **_estimate_fields(entry.estimate),
    )


class _TrendFields(NamedTuple):
    """The trend fields shared by a run and a figure set."""

    trend: TrendRead | None
    trend_reason: str | UnsetType = UNSET
    option_trends: dict[str, TrendRead | None] | UnsetType = UNSET


def _trend_fields(run: RunFigures, say: Summaries | None = None) -> _TrendFields:
    """`trend` (null with `trend_reason` when no test ran) and, for shares, `option_trends`."""
    if run.metric is None:
        return _TrendFields(
            trend=None, trend_reason="text and date answers have no metric to trend"
        )
    if run.option_trends is not None:
        reasons = [t.reason for t in run.option_trends.values() if isinstance(t, NoTrend)]
        return _TrendFields(
            trend=None,
            trend_reason=reasons[0]
            if reasons
            else "a share metric has a trend per option (option_trends)",
            option_trends={
                k: trend_read(t, None if say is None else say.trend(run, k))
                for k, t in run.option_trends.items()
            },
        )
    if isinstance(run.trend, NoTrend):
        return _TrendFields(trend=None, trend_reason=run.trend.reason)
    return _TrendFields(
        trend=None
        if run.trend is None
        else trend_read(run.trend, None if say is None else say.trend(run))
    )


def run_read(run: RunFigures, say: Summaries | None = None) -> RunRead:
    trend = _trend_fields(run, say)
    return RunRead(
        series=run.index,
        version=run.version,
        metric=run.metric,
        first_wave=run.waves[0] if run.waves else None,
        last_wave=run.waves[-1] if run.waves else None,
        trend=trend.trend,
        trend_reason=trend.trend_reason,
        option_trends=trend.option_trends,
    )


def _figures_fields(
    figures: Figures, metric: Metric | None, say: Summaries | None = None
) -> dict[str, Any]:
    with_series = len(figures.runs) > 1
    latest = figures.latest
    if latest is not None:
        trend = _trend_fields(latest, say)
    elif metric is None:
        trend = _trend_fields(RunFigures(0, None, (), None))
    else:
        trend = _TrendFields(
            trend=None,
            trend_reason="no answers in this range",
            option_trends={} if metric == "share" else UNSET,
        )
    return {
        "waves": [wave_read(w, with_series=with_series, say=say) for w in figures.waves],
        "trend": trend.trend,
        "trend_reason": trend.trend_reason,
        "option_trends": trend.option_trends,
        "trend_series": None if latest is None else len(figures.runs) - 1,
        "series": [run_read(r, say) for r in figures.runs],
    }


def segment_name(value: SegmentValue) -> str:
    """A segment value as a JSON key: respondents without the attribute are `null`."""
    return "null" if value is None else value


def other_read(figures: Figures, metric: Metric | None, say: Summaries | None) -> OtherFiguresRead:
    fields = _figures_fields(figures, metric, say)
    fields["waves"] = [
        OtherWaveRead(**msgspec.structs.asdict(read), members=list(entry.members or ()))
        for read, entry in zip(fields["waves"], figures.waves, strict=True)
    ]
    return OtherFiguresRead(**fields)


def question_trends_read(
    question: QuestionTrends,
    *,
    locale: str = "en",
    zone: tzinfo = UTC,
    small_groups: Literal["suppress", "fold"] | None = None,
    default_locale: str | None = None,
) -> QuestionTrendsRead:
    metric = question.metric

    def say(figures: Figures) -> Summaries | None:
        if metric is None:
            return None
        return summaries_of(question, figures, locale, zone, default_locale=default_locale)

    return QuestionTrendsRead(
        key=question.meta.key,
        type=question.meta.type,
        metric=metric,
        label=question.label,
        breaks=[
            BreakRead(version=r.version, wave=r.waves[0], series=r.index)
            for r in question.total.runs[1:]
        ],
        version_changes=[
            VersionChangeRead(
                version=c.version,
                wave=c.wave,
                published_at=c.published_at,
                kind=c.kind,
                breaks_series=c.breaks_series,
                detail=c.detail,
            )
            for c in question.version_changes
        ],
        decisions=[
            DecisionMarkRead(id=d.id, title=d.title, decided_at=d.decided_at, wave=d.wave)
            for d in question.decisions
        ],
        options=dict(question.option_labels) if question.option_labels else UNSET,
        segments=UNSET
        if question.segments is None
        else {
            segment_name(value): SegmentFiguresRead(
                value=value, **_figures_fields(f, metric, say(f))
            )
            for value, f in question.segments.items()
        },
        other=UNSET
        if question.segments is None or small_groups != "fold"
        else None
        if question.other is None
        else other_read(question.other, metric, say(question.other)),
        **_figures_fields(question.total, metric, say(question.total)),
    )


def trends_read(trends: SurveyTrends) -> TrendsRead:
    return TrendsRead(
        survey=trends.slug,
        min_n=trends.min_n,
        start=trends.start,
        end=trends.end,
        segment=trends.segment,
        small_groups=trends.small_groups,
        channels=None if trends.channels is None else list(trends.channels),
        locale=trends.locale,
        questions=[
            question_trends_read(
                q,
                locale=trends.locale,
                zone=trends.zone,
                small_groups=trends.small_groups,
                default_locale=trends.default_locale,
            )
            for q in trends.questions
        ],
    )


# --- panel -------------------------------------------------------------------------------------


class McNemarRead(Struct, kw_only=True):
    """One option of a choice panel: `b` chose it in the from wave only, `c` in the to wave
    only; `p` is null when b + c = 0."""

    both: int
    b: int
    c: int
    neither: int
    statistic: int | None
    p: float | None
    diff: float | None
    reason: str | None


class PanelResultRead(Struct, kw_only=True):
    """Change within the same respondents (docs/statistics.md "Panel"); a suppressed pair set
    carries only `test`, `n_pairs` and `suppressed`."""

    test: PanelTestName
    n_pairs: int
    suppressed: bool
    statistic: float | UnsetType | None = UNSET
    z: float | UnsetType | None = UNSET
    p: float | UnsetType | None = UNSET
    n_nonzero: int | UnsetType | None = UNSET
    mean_diff: float | UnsetType | None = UNSET
    ci_low: float | UnsetType | None = UNSET
    ci_high: float | UnsetType | None = UNSET
    df: float | UnsetType | None = UNSET
    w_plus: float | UnsetType | None = UNSET
    w_minus: float | UnsetType | None = UNSET
    options: dict[str, McNemarRead] | UnsetType | None = UNSET
    reason: str | UnsetType | None = UNSET


class PanelRead(PanelResultRead, kw_only=True):
    """GET /surveys/{slug}/panel/{question}."""

    question: str
    type: str
    from_wave: int
    to_wave: int
    min_n: int
    excluded_across_break: Annotated[
        int, Meta(description="Pairs left out because a series break lies between the waves.")
    ]


def _mcnemar_read(t: McNemarTest) -> McNemarRead:
    return McNemarRead(
        both=t.both,
        b=t.b,
        c=t.c,
        neither=t.neither,
        statistic=t.statistic,
        p=t.p,
        diff=t.diff,
        reason=t.reason,
    )


def _panel_fields(r: PanelResult) -> dict[str, Any]:
    if r.suppressed:
        return {"test": r.test, "n_pairs": r.n_pairs, "suppressed": True}
    return {
        "test": r.test,
        "n_pairs": r.n_pairs,
        "suppressed": r.suppressed,
        "statistic": r.statistic,
        "z": r.z,
        "p": r.p,
        "n_nonzero": r.n_nonzero,
        "mean_diff": r.mean_diff,
        "ci_low": r.ci_low,
        "ci_high": r.ci_high,
        "df": r.df,
        "w_plus": r.w_plus,
        "w_minus": r.w_minus,
        "options": None
        if r.options is None
        else {k: _mcnemar_read(t) for k, t in r.options.items()},
        "reason": r.reason,
    }


def panel_result_read(r: PanelResult) -> PanelResultRead:
    return PanelResultRead(**_panel_fields(r))


def panel_read(panel: PanelFigures) -> PanelRead:
    return PanelRead(
        question=panel.key,
        type=panel.type,
        from_wave=panel.from_wave,
        to_wave=panel.to_wave,
        min_n=panel.min_n,
        excluded_across_break=panel.excluded_across_break,
        **_panel_fields(panel.result),
    )


# --- decision impact ---------------------------------------------------------------------------


class ImpactChangeRead(Struct, kw_only=True):
    """A change estimated by the interrupted time series: β2 (level) or β3 (slope, per wave).
    `t`, `p` and the interval are null when the fit is exact (no residual variance)."""

    estimate: float
    se: float
    t: float | None
    p: Annotated[float | None, Meta(description="Two-sided, t distribution with n − 4 df.")]
    ci_low: float | None
    ci_high: float | None


class ImpactRead(Struct, kw_only=True):
    """docs/statistics.md "Decision impact" over one series run of closed, non-suppressed waves."""

    pre_waves: Annotated[int, Meta(description="Waves before the decision in the fitted run.")]
    post_waves: Annotated[
        int, Meta(description="Waves opening at or after the decision in the run.")
    ]
    waves: Annotated[list[int], Meta(description="The wave numbers fitted (one series run).")]
    series: Annotated[int | None, Meta(description="The series run fitted (index as in `trends`).")]
    first_post_wave: int | None
    level_change: ImpactChangeRead | None
    slope_change: ImpactChangeRead | None
    intercept: Annotated[
        float | None, Meta(description="β0: the pre line at the first fitted wave.")
    ]
    pre_slope: Annotated[float | None, Meta(description="β1: the pre line's change per wave.")]
    df: Annotated[int | None, Meta(description="Residual degrees of freedom, n − 4.")]
    verdict: Annotated[
        Verdict | None,
        Meta(
            description="`insufficient data` (see `reason`), `no significant change`, or which "
            "of level and slope changed significantly (p < 0.05) and how, level first. Null only "
            "at the question level of a share metric, whose verdicts are per option."
        ),
    ]
    reason: str | None
    summary: str


class ImpactFiguresRead(ImpactRead, kw_only=True):
    options: Annotated[
        dict[str, ImpactRead] | None,
        Meta(description="Share metrics (choice questions): the impact on each option's share."),
    ]


class SegmentImpactRead(ImpactFiguresRead, kw_only=True):
    value: Annotated[
        str | None, Meta(description="The attribute value (null: respondents without it).")
    ]


class DecisionImpactRead(ImpactFiguresRead, kw_only=True):
    """GET /surveys/{slug}/decisions/{id}/impact."""

    decision: uuid.UUID
    decision_title: str
    decided_at: datetime
    question: str
    metric: Metric
    min_n: int
    segment: str | None
    segments: Annotated[
        dict[str, SegmentImpactRead] | None,
        Meta(
            description="With `segment`: the impact per attribute value, each cell suppressed as "
            "in `trends`."
        ),
    ]


def _coefficient_read(c: Coefficient | None) -> ImpactChangeRead | None:
    if c is None:
        return None
    return ImpactChangeRead(
        estimate=c.estimate, se=c.se, t=c.t, p=c.p, ci_low=c.ci_low, ci_high=c.ci_high
    )


def _impact_fields(i: Impact) -> dict[str, Any]:
    return {
        "pre_waves": i.pre_waves,
        "post_waves": i.post_waves,
        "waves": list(i.waves),
        "series": i.series,
        "first_post_wave": i.first_post_wave,
        "level_change": _coefficient_read(i.level_change),
        "slope_change": _coefficient_read(i.slope_change),
        "intercept": i.intercept,
        "pre_slope": i.pre_slope,
        "df": i.df,
        "verdict": i.verdict,
        "reason": i.reason,
        "summary": i.summary,
    }


def impact_read(i: Impact) -> ImpactRead:
    return ImpactRead(**_impact_fields(i))


def _figures_impact_fields(f: FiguresImpact) -> dict[str, Any]:
    options = None if f.options is None else {k: impact_read(i) for k, i in f.options.items()}
    return {**_impact_fields(f.impact), "options": options}


def decision_impact_read(d: DecisionImpact) -> DecisionImpactRead:
    return DecisionImpactRead(
        decision=d.decision.id,
        decision_title=d.decision.title,
        decided_at=d.decision.decided_at,
        question=d.key,
        metric=d.metric,
        min_n=d.min_n,
        segment=d.segment,
        segments=None
        if d.segments is None
        else {
            segment_name(value): SegmentImpactRead(value=value, **_figures_impact_fields(f))
            for value, f in d.segments.items()
        },
        **_figures_impact_fields(d.total),
    )
