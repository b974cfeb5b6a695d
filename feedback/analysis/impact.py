"""Decision impact: an interrupted time series (docs/statistics.md "Decision impact").

Over one series run's wave estimates, t = wave number − first wave number, `post` = 1 for the
waves opening at or after the decision, `t_since` = (t − T0)·post with T0 the first post wave's
t, and ordinary least squares, unweighted:

    y = β0 + β1·t + β2·post + β3·t_since      (= statsmodels `ols("y ~ t + post + t_since")`)

`level_change` is β2 (the jump at the first post wave, against the pre line carried on) and
`slope_change` β3 (the change in the per-wave slope), each with its standard error, t, p from the
t distribution with n − 4 degrees of freedom, and 95% interval.

The verdict is one of `VERDICTS`, stable strings a script may compare:

- `insufficient data`: no verdict, and `reason` says why: fewer than `MIN_WAVES_PER_SIDE` waves
  on a side, or the series breaks between the last wave before the decision and the first after
  it (the two sides measure different things), or the fitted lines pass through every wave
  exactly, which leaves no residual variation to test against (zero standard errors; t and p
  cannot be computed and are None);
- otherwise which of level and slope changed significantly (p < 0.05) and in which direction,
  level first: `level increased`, `level decreased`, `slope increased`, `slope decreased`,
  `level increased, slope decreased`, …, or `no significant change`.

The two changes are two tests at α = 0.05 each, as docs/statistics.md defines the verdict: on a
series where nothing happened each comes out significant 5% of the time, so the verdict names some
change a little less than 10% of the time (the two estimates are correlated).

Every result also carries `summary`, one plain English sentence.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import linalg, special

from feedback.analysis.number_text import figure_text, p_text
from feedback.analysis.results import ALPHA, Metric, t_interval
from feedback.analysis.sufficient import FloatArray

MIN_WAVES_PER_SIDE = 3
# Residual standard error at or below this share of the largest |estimate| is rounding noise:
# the lines fit exactly. Real survey estimates never come within a billionth of a line.
EXACT_FIT_TOLERANCE = 1e-9

Verdict = Literal[
    "insufficient data",
    "no significant change",
    "level increased",
    "level decreased",
    "slope increased",
    "slope decreased",
    "level increased, slope increased",
    "level increased, slope decreased",
    "level decreased, slope increased",
    "level decreased, slope decreased",
]
Movement = Literal["increased", "decreased"]

_VERDICTS: dict[tuple[Movement | None, Movement | None], Verdict] = {
    (None, None): "no significant change",
    ("increased", None): "level increased",
    ("decreased", None): "level decreased",
    (None, "increased"): "slope increased",
    (None, "decreased"): "slope decreased",
    ("increased", "increased"): "level increased, slope increased",
    ("increased", "decreased"): "level increased, slope decreased",
    ("decreased", "increased"): "level decreased, slope increased",
    ("decreased", "decreased"): "level decreased, slope decreased",
}
VERDICTS: tuple[Verdict, ...] = ("insufficient data", *_VERDICTS.values())


@dataclass(frozen=True, slots=True)
class WavePoint:
    """Where one wave estimate sits: its wave number, its run (index of the waves
    between two series breaks) and whether the wave opened at or after the decision."""

    wave: int
    series: int
    post: bool


@dataclass(frozen=True, slots=True)
class Coefficient:
    """One coefficient of the fit. With zero residual variance `se` is 0 and `t`, `p` and the
    interval are None: no test exists."""

    estimate: float
    se: float
    t: float | None
    p: float | None
    ci_low: float | None
    ci_high: float | None

    @property
    def movement(self) -> Movement | None:
        """The direction, when the change is significant (p < 0.05)."""
        if self.p is None or self.p >= ALPHA or self.estimate == 0:
            return None
        return "increased" if self.estimate > 0 else "decreased"


@dataclass(frozen=True, slots=True)
class Run:
    """The waves an impact is measured on: one series run's points, and why not, if not."""

    points: tuple[WavePoint, ...]
    pre_waves: int
    post_waves: int
    reason: str | None

    @property
    def waves(self) -> tuple[int, ...]:
        return tuple(p.wave for p in self.points)

    @property
    def series(self) -> int | None:
        return self.points[0].series if self.points else None

    @property
    def first_post_wave(self) -> int | None:
        return next((p.wave for p in self.points if p.post), None)


@dataclass(frozen=True, slots=True)
class Impact:
    """The interrupted time series of one question (one option, one segment) around a decision.

    `waves` are the wave numbers fitted (one series run); `intercept` (β0) and `pre_slope` (β1,
    per wave) give the pre line, and with the two changes the post line (`pre_line`,
    `post_line`). Without a fit (`verdict` "insufficient data" for too few waves or a break)
    every figure is None. `verdict` is None only for the question-level entry of a share
    metric, whose impacts are per option.
    """

    pre_waves: int
    post_waves: int
    waves: tuple[int, ...]
    series: int | None
    first_post_wave: int | None
    verdict: Verdict | None
    summary: str
    reason: str | None = None
    level_change: Coefficient | None = None
    slope_change: Coefficient | None = None
    intercept: float | None = None
    pre_slope: float | None = None
    df: int | None = None

    @property
    def concluded(self) -> bool:
        """A verdict was reached (lines may be drawn)."""
        return self.verdict is not None and self.verdict != "insufficient data"

    def fitted(self, wave: int) -> float | None:
        """The fitted value at a wave of the run (pre line before the decision, post line
        from the first post wave on)."""
        if (
            self.intercept is None
            or self.pre_slope is None
            or self.level_change is None
            or self.slope_change is None
            or not self.waves
        ):
            return None
        t = wave - self.waves[0]
        y = self.intercept + self.pre_slope * t
        if self.first_post_wave is not None and wave >= self.first_post_wave:
            since = wave - self.first_post_wave
            y += self.level_change.estimate + self.slope_change.estimate * since
        return y

    def pre_line(self) -> tuple[tuple[int, float], tuple[int, float]] | None:
        """The fitted pre line from the first wave to the last wave before the decision."""
        return self._line([w for w in self.waves if not self._is_post(w)])

    def post_line(self) -> tuple[tuple[int, float], tuple[int, float]] | None:
        """The fitted post line from the first post wave to the last."""
        return self._line([w for w in self.waves if self._is_post(w)])

    def _is_post(self, wave: int) -> bool:
        return self.first_post_wave is not None and wave >= self.first_post_wave

    def _line(self, waves: Sequence[int]) -> tuple[tuple[int, float], tuple[int, float]] | None:
        if not self.concluded or not waves:
            return None
        start, end = self.fitted(waves[0]), self.fitted(waves[-1])
        assert start is not None and end is not None
        return (waves[0], start), (waves[-1], end)


def series_run(
    points: Sequence[WavePoint], *, series_versions: Mapping[int, int | None] | None = None
) -> Run:
    """The series run the impact is measured on, from every non-suppressed wave estimate in
    (wave, series) order: the run holding the last wave before the decision (or, without one,
    the first wave after it). Waves of other runs are left out. `series_versions` names each
    run's first version, for the reason a break gives."""
    _check_order(points)
    pre = [p for p in points if not p.post]
    post = [p for p in points if p.post]
    if pre and post and pre[-1].series != post[0].series:
        version = (series_versions or {}).get(post[0].series)
        at = f" at version {version}" if version is not None else ""
        reason = (
            f"the series breaks{at} between wave {pre[-1].wave}, the last before the decision, "
            f"and wave {post[0].wave}, the first after it, so the two sides are not comparable"
        )
        return Run((), len(pre), len(post), reason)
    if not points:
        return Run((), 0, 0, _too_few(0, 0))
    series = (pre[-1] if pre else post[0]).series
    run = tuple(p for p in points if p.series == series)
    n_pre = sum(not p.post for p in run)
    n_post = len(run) - n_pre
    enough = n_pre >= MIN_WAVES_PER_SIDE and n_post >= MIN_WAVES_PER_SIDE
    return Run(run, n_pre, n_post, None if enough else _too_few(n_pre, n_post))


def _check_order(points: Sequence[WavePoint]) -> None:
    keys = [(p.wave, p.series) for p in points]
    if keys != sorted(set(keys)):
        raise ValueError("points must be in (wave, series) order, one per wave and series")
    flags = [p.post for p in points]
    if flags != sorted(flags):
        raise ValueError("every wave before the decision must come before every wave after it")


def _too_few(pre: int, post: int) -> str:
    return (
        f"an impact needs at least {MIN_WAVES_PER_SIDE} waves before the decision and "
        f"{MIN_WAVES_PER_SIDE} after it in one series; there {_are(pre)} before and {post} after"
    )


def _are(n: int) -> str:
    return f"is {n}" if n == 1 else f"are {n}"


def unfitted(run: Run, *, summary: str | None = None) -> Impact:
    """An impact without figures: the run's refusal, or (for a share metric's question-level
    entry) the layout its options share, with no verdict of its own."""
    if run.reason is not None:
        return Impact(
            pre_waves=run.pre_waves,
            post_waves=run.post_waves,
            waves=run.waves,
            series=run.series,
            first_post_wave=run.first_post_wave,
            verdict="insufficient data",
            summary=summary or f"No verdict: {run.reason}.",
            reason=run.reason,
        )
    return Impact(
        pre_waves=run.pre_waves,
        post_waves=run.post_waves,
        waves=run.waves,
        series=run.series,
        first_post_wave=run.first_post_wave,
        verdict=None,
        summary=summary or "",
        reason="a share metric has an impact per option (options)",
    )


def interrupted_time_series(
    points: Sequence[WavePoint],
    estimates: Sequence[float],
    *,
    metric: Metric,
    series_versions: Mapping[int, int | None] | None = None,
) -> Impact:
    """The impact on the estimates at `points` (every non-suppressed wave estimate of the
    question, in (wave, series) order; `series_run` picks the run). `metric` only words the
    summary: means in points of the scale, NPS in points, shares in percentage points."""
    y_all = np.asarray(estimates, dtype=np.float64)
    if y_all.shape != (len(points),):
        raise ValueError("one estimate per point")
    if not np.isfinite(y_all).all():
        raise ValueError("estimates must be finite; leave suppressed waves out")
    run = series_run(points, series_versions=series_versions)
    if run.reason is not None:
        return unfitted(run)
    y = y_all[[i for i, p in enumerate(points) if p in run.points]]
    beta, se, df, exact = _fit(_design(run), y)
    level = _coefficient(float(beta[2]), float(se[2]), df, exact)
    slope = _coefficient(float(beta[3]), float(se[3]), df, exact)
    reason = None
    verdict: Verdict
    if exact:
        verdict = "insufficient data"
        reason = (
            "every wave lies exactly on the fitted lines, which leaves no variation to test "
            "the changes against"
        )
        summary = f"No verdict: {reason}."
    else:
        verdict = _VERDICTS[(level.movement, slope.movement)]
        summary = _summary(run, level, slope, metric)
    return Impact(
        pre_waves=run.pre_waves,
        post_waves=run.post_waves,
        waves=run.waves,
        series=run.series,
        first_post_wave=run.first_post_wave,
        verdict=verdict,
        summary=summary,
        reason=reason,
        level_change=level,
        slope_change=slope,
        intercept=float(beta[0]),
        pre_slope=float(beta[1]),
        df=df,
    )


def _design(run: Run) -> FloatArray:
    """Columns 1, t, post, t_since (statsmodels' order for `y ~ t + post + t_since`)."""
    first = run.points[0].wave
    first_post = run.first_post_wave
    assert first_post is not None
    t = np.array([p.wave - first for p in run.points], dtype=np.float64)
    post = np.array([p.post for p in run.points], dtype=np.float64)
    t_since = (t - (first_post - first)) * post
    return np.column_stack([np.ones_like(t), t, post, t_since])


def _fit(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray, int, bool]:
    """OLS by QR (X = QR: β = R⁻¹Qᵀy, (XᵀX)⁻¹ = R⁻¹R⁻ᵀ): coefficients, standard errors, residual
    degrees of freedom, and whether the fit is exact. With at least 3 waves on each side X has
    full rank, so R is invertible."""
    q, r = np.linalg.qr(x)
    beta = linalg.solve_triangular(r, q.T @ y)
    residuals = y - x @ beta
    df = y.size - x.shape[1]
    sigma2 = float(residuals @ residuals) / df
    exact = math.sqrt(sigma2) <= EXACT_FIT_TOLERANCE * float(np.max(np.abs(y)))
    if exact:
        return beta, np.zeros(x.shape[1]), df, True
    r_inv = linalg.solve_triangular(r, np.eye(x.shape[1]))
    se = np.sqrt(sigma2 * np.einsum("ij,ij->i", r_inv, r_inv))
    return beta, se, df, False


def _coefficient(estimate: float, se: float, df: int, exact: bool) -> Coefficient:
    if exact:
        return Coefficient(estimate, 0.0, None, None, None, None)
    t = estimate / se
    p = 2 * float(special.stdtr(df, -abs(t)))  # = 2·stats.t.sf(|t|, df)
    ci_low, ci_high = t_interval(estimate, se, df)
    return Coefficient(estimate, se, t, p, ci_low, ci_high)


def _summary(run: Run, level: Coefficient, slope: Coefficient, metric: Metric) -> str:
    before = f"{run.pre_waves} waves before the decision and {run.post_waves} after it"
    return (
        f"Over {before}, the level {_change_words(level, metric, per_wave=False)}, and the "
        f"slope {_change_words(slope, metric, per_wave=True)}."
    )


def _change_words(change: Coefficient, metric: Metric, *, per_wave: bool) -> str:
    unit = _unit(metric) + (" per wave" if per_wave else "")
    interval = ""
    if change.ci_low is not None and change.ci_high is not None:
        interval = (
            f"95% CI {figure_text(change.ci_low, metric, signed=True)} to "
            f"{figure_text(change.ci_high, metric, signed=True)}, "
        )
    p = "" if change.p is None else p_text(change.p)
    if change.movement is not None:
        verb = "rose" if change.movement == "increased" else "fell"
        return f"{verb} by {figure_text(abs(change.estimate), metric)}{unit} ({interval}{p})"
    signed = figure_text(change.estimate, metric, signed=True)
    return f"did not change significantly ({signed}{unit}, {p})"


def _unit(metric: Metric) -> str:
    return {"share": " percentage points", "nps": " points", "mean": ""}[metric]
