"""Decision impact (interrupted time series): planted level shifts and slope changes are
recovered, series where nothing happened get a verdict at the nominal rate, every figure equals
statsmodels' `ols("y ~ t + post + t_since")` to 1e-9, and the refusals say why."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from feedback.analysis.impact import (
    MIN_WAVES_PER_SIDE,
    VERDICTS,
    Coefficient,
    Impact,
    WavePoint,
    interrupted_time_series,
    series_run,
)
from tests.analysis.tables import close

WAVES = tuple(range(1, 13))
FIRST_POST = 7  # waves 1–6 before the decision, 7–12 after


def points(
    waves: Sequence[int], first_post: int, series: Sequence[int] | None = None
) -> list[WavePoint]:
    runs = series or [0] * len(waves)
    return [WavePoint(w, s, w >= first_post) for w, s in zip(waves, runs, strict=True)]


def planted(
    rng: np.random.Generator,
    *,
    level: float = 0.0,
    slope: float = 0.0,
    base: float = 3.2,
    trend: float = 0.02,
    noise: float = 0.05,
) -> np.ndarray:
    """y = base + trend·t + level·post + slope·t_since + N(0, noise²) over WAVES."""
    t = np.array(WAVES, dtype=float) - WAVES[0]
    post = (np.array(WAVES) >= FIRST_POST).astype(float)
    since = (t - (FIRST_POST - WAVES[0])) * post
    return base + trend * t + level * post + slope * since + rng.normal(0, noise, t.size)


def its(y: Sequence[float], waves: Sequence[int] = WAVES, first_post: int = FIRST_POST) -> Impact:
    return interrupted_time_series(points(waves, first_post), list(y), metric="mean")


def covers(c: Coefficient | None, value: float) -> bool:
    assert c is not None and c.ci_low is not None and c.ci_high is not None
    return c.ci_low <= value <= c.ci_high


def statsmodels_fit(waves: Sequence[int], first_post: int, y: Sequence[float]) -> object:
    t = np.asarray(waves, dtype=float) - waves[0]
    post = (np.asarray(waves) >= first_post).astype(float)
    frame = pd.DataFrame(
        {"y": np.asarray(y, float), "t": t, "post": post, "t_since": (t - t[post == 1][0]) * post}
    )
    return smf.ols("y ~ t + post + t_since", data=frame).fit()


# --- planted effects ---------------------------------------------------------------------------


def test_a_planted_level_shift_is_recovered() -> None:
    impact = its(planted(np.random.default_rng(11), level=0.5))
    assert impact.verdict == "level increased"
    assert impact.level_change is not None and impact.slope_change is not None
    assert covers(impact.level_change, 0.5) and covers(impact.slope_change, 0.0)
    assert abs(impact.level_change.estimate - 0.5) < 3 * impact.level_change.se
    assert (impact.pre_waves, impact.post_waves, impact.df) == (6, 6, 8)
    assert impact.summary.startswith("Over 6 waves before the decision and 6 after it, the level")
    assert (
        "rose by 0.5" in impact.summary and "slope did not change significantly" in impact.summary
    )


def test_a_planted_fall_in_level_reads_decreased() -> None:
    impact = its(planted(np.random.default_rng(12), level=-0.6))
    assert impact.verdict == "level decreased" and covers(impact.level_change, -0.6)


def test_a_planted_slope_change_is_recovered() -> None:
    impact = its(planted(np.random.default_rng(13), slope=0.12))
    assert impact.verdict == "slope increased"
    assert covers(impact.slope_change, 0.12) and covers(impact.level_change, 0.0)
    assert "per wave" in impact.summary


def test_both_changes_at_once() -> None:
    impact = its(planted(np.random.default_rng(14), level=0.8, slope=-0.15))
    assert impact.verdict == "level increased, slope decreased"


def test_intervals_cover_the_planted_values_95_percent_of_the_time() -> None:
    """Over 2,000 seeded series with both changes planted, the 95% intervals hold the planted
    values in 95% of them (the bounds are a 99.9% binomial interval for 2,000 trials)."""
    level, slope = 0.3, -0.05
    trials = 2000
    rng = np.random.default_rng(20_250_101)
    hits = np.zeros(2, dtype=int)
    for _ in range(trials):
        impact = its(planted(rng, level=level, slope=slope))
        hits += (covers(impact.level_change, level), covers(impact.slope_change, slope))
    low, high = stats.binom.ppf([0.0005, 0.9995], trials, 0.95) / trials
    assert all(low <= h / trials <= high for h in hits), hits / trials


def test_where_nothing_happened_each_change_is_significant_five_percent_of_the_time() -> None:
    """Flat and trending series without any change, 4,000 of each noise draw: each change is
    significant at the nominal 5% (99.9% binomial bounds), its p-values are uniform, and the
    verdict names a change only when one of the two tests does (< 10%)."""
    trials = 4000
    rng = np.random.default_rng(42)
    p_level, p_slope, named = [], [], 0
    for i in range(trials):
        impact = its(planted(rng, trend=0.0 if i % 2 else 0.05, noise=0.3))
        assert impact.level_change is not None and impact.slope_change is not None
        assert impact.level_change.p is not None and impact.slope_change.p is not None
        p_level.append(impact.level_change.p)
        p_slope.append(impact.slope_change.p)
        named += impact.verdict != "no significant change"
    low, high = stats.binom.ppf([0.0005, 0.9995], trials, 0.05) / trials
    for ps in (np.array(p_level), np.array(p_slope)):
        assert low <= (ps < 0.05).mean() <= high
        assert stats.kstest(ps, "uniform").pvalue > 0.001
    either = ((np.array(p_level) < 0.05) | (np.array(p_slope) < 0.05)).mean()
    assert named / trials == either and either < 0.10


# --- statsmodels, every figure -----------------------------------------------------------------


def assert_matches_statsmodels(
    impact: Impact, waves: Sequence[int], first_post: int, y: Sequence[float]
) -> None:
    fit = statsmodels_fit(waves, first_post, y)
    params, bse = fit.params, fit.bse  # type: ignore[attr-defined]
    tvalues, pvalues, ci = fit.tvalues, fit.pvalues, fit.conf_int()  # type: ignore[attr-defined]
    assert impact.df == int(fit.df_resid)  # type: ignore[attr-defined]
    assert close(impact.intercept, params["Intercept"], abs_tol=1e-9)
    assert close(impact.pre_slope, params["t"], abs_tol=1e-9)
    for name, c in (("post", impact.level_change), ("t_since", impact.slope_change)):
        assert c is not None
        assert close(c.estimate, params[name], abs_tol=1e-9)
        assert close(c.se, bse[name], abs_tol=1e-9)
        assert close(c.t, tvalues[name], abs_tol=1e-9)
        assert close(c.p, pvalues[name], abs_tol=1e-9)
        assert close(c.ci_low, ci.loc[name, 0], abs_tol=1e-9)
        assert close(c.ci_high, ci.loc[name, 1], abs_tol=1e-9)
    fitted = fit.fittedvalues  # type: ignore[attr-defined]
    for wave, expected in zip(waves, fitted, strict=True):
        assert close(impact.fitted(wave), expected, abs_tol=1e-9)


@st.composite
def series(draw: st.DrawFn) -> tuple[list[int], int, list[float]]:
    """Wave numbers with gaps (suppressed waves), ≥3 on each side of the decision, and estimates
    on a grid of 1/100 (a mean, an NPS or a share's scale)."""
    pre = draw(st.integers(MIN_WAVES_PER_SIDE, 12))
    post = draw(st.integers(MIN_WAVES_PER_SIDE, 12))
    steps = draw(st.lists(st.integers(1, 3), min_size=pre + post - 1, max_size=pre + post - 1))
    start = draw(st.integers(1, 30))
    waves = [start, *(start + s for s in np.cumsum(steps).tolist())]
    scale = draw(st.sampled_from([1, 10, 100]))
    y = draw(
        st.lists(st.integers(-100 * scale, 100 * scale), min_size=pre + post, max_size=pre + post)
    )
    return waves, waves[pre], [v / 100 for v in y]


@settings(max_examples=300, deadline=None)
@given(series())
def test_every_figure_equals_statsmodels_ols(case: tuple[list[int], int, list[float]]) -> None:
    waves, first_post, y = case
    impact = its(y, waves, first_post)
    assume(impact.verdict != "insufficient data")  # an exact fit: statsmodels divides by zero
    assert impact.pre_waves == sum(w < first_post for w in waves)
    assert_matches_statsmodels(impact, waves, first_post, y)


def test_statsmodels_agrees_on_the_planted_series_too() -> None:
    y = planted(np.random.default_rng(5), level=0.4, slope=0.05).tolist()
    assert_matches_statsmodels(its(y), WAVES, FIRST_POST, y)


def test_fitted_lines_run_over_their_own_waves() -> None:
    y = planted(np.random.default_rng(6), level=0.4).tolist()
    impact = its(y)
    fit = statsmodels_fit(WAVES, FIRST_POST, y).fittedvalues  # type: ignore[attr-defined]
    pre, post = impact.pre_line(), impact.post_line()
    assert pre is not None and post is not None
    assert (pre[0][0], pre[1][0], post[0][0], post[1][0]) == (1, 6, 7, 12)
    assert close(pre[0][1], fit.iloc[0]) and close(pre[1][1], fit.iloc[5])
    assert close(post[0][1], fit.iloc[6]) and close(post[1][1], fit.iloc[11])


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("waves", "first_post", "pre", "post"),
    [
        ((1, 2, 4, 5, 6), 4, 2, 3),
        ((1, 2, 3, 4, 5), 4, 3, 2),
        ((1, 2, 3, 4, 5, 6), 99, 6, 0),
        ((3, 4, 5, 6), 1, 0, 4),
        ((), 1, 0, 0),
    ],
)
def test_fewer_than_three_waves_on_a_side_give_no_verdict(
    waves: tuple[int, ...], first_post: int, pre: int, post: int
) -> None:
    y = [float(i % 3) for i in range(len(waves))]
    impact = interrupted_time_series(points(waves, first_post), y, metric="nps")
    assert impact.verdict == "insufficient data" and not impact.concluded
    assert (impact.pre_waves, impact.post_waves) == (pre, post)
    assert impact.level_change is None and impact.slope_change is None and impact.df is None
    assert impact.reason is not None and "at least 3 waves before the decision" in impact.reason
    assert f"{pre} before and {post} after" in impact.reason
    assert impact.summary == f"No verdict: {impact.reason}."
    assert impact.pre_line() is None and impact.post_line() is None


def test_a_break_between_the_last_wave_before_and_the_first_after_gives_no_verdict() -> None:
    waves = list(range(1, 9))
    run = [0, 0, 0, 0, 1, 1, 1, 1]  # version 3 breaks the series before wave 5
    impact = interrupted_time_series(
        points(waves, 5, run),
        [float(w % 2) for w in waves],
        metric="mean",
        series_versions={0: 1, 1: 3},
    )
    assert impact.verdict == "insufficient data"
    assert impact.reason is not None
    assert impact.reason.startswith(
        "the series breaks at version 3 between wave 4, the last before the decision, and wave 5"
    )
    assert (impact.pre_waves, impact.post_waves, impact.waves) == (4, 4, ())


def test_only_the_decisions_series_run_is_fitted() -> None:
    """A break two waves before the decision leaves those two pre waves alone in their run:
    the earlier run does not count, so there are too few; a break after the decision drops the
    later run's waves from the fit."""
    waves = list(range(1, 11))
    before = points(waves, 6, [0, 0, 0, 1, 1, 1, 1, 1, 1, 1])
    impact = interrupted_time_series(before, [float(w % 3) for w in waves], metric="mean")
    assert (impact.pre_waves, impact.post_waves, impact.verdict) == (2, 5, "insufficient data")
    after = points(waves, 5, [0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
    y = planted(np.random.default_rng(1))[: len(waves)].tolist()
    impact = interrupted_time_series(after, y, metric="mean")
    assert impact.waves == (1, 2, 3, 4, 5, 6, 7) and (impact.pre_waves, impact.post_waves) == (4, 3)
    assert_matches_statsmodels(impact, waves[:7], 5, y[:7])


def test_a_wave_straddling_a_break_belongs_to_each_run_with_its_own_part() -> None:
    # wave 4 has answers under both versions: (4, 0) and (4, 1); the decision's run is 1
    pts = [
        WavePoint(w, s, w >= 6)
        for w, s in [(1, 0), (2, 0), (3, 0), (4, 0), (4, 1), (5, 1), (6, 1), (7, 1), (8, 1)]
    ]
    run = series_run(pts)
    assert run.waves == (4, 5, 6, 7, 8) and (run.pre_waves, run.post_waves) == (2, 3)


def test_an_exact_fit_has_zero_standard_errors_and_no_verdict() -> None:
    y = [2.0 + 0.1 * w + (0.5 if w >= 4 else 0.0) for w in range(1, 8)]
    impact = its(y, range(1, 8), 4)
    assert impact.verdict == "insufficient data" and impact.reason is not None
    assert "exactly on the fitted lines" in impact.reason
    level = impact.level_change
    assert level is not None and math.isclose(level.estimate, 0.5) and level.se == 0.0
    assert (level.t, level.p, level.ci_low, level.ci_high) == (None, None, None, None)
    flat = its([3.0] * 7, range(1, 8), 4)
    assert flat.verdict == "insufficient data" and flat.pre_line() is None


def test_bad_input_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="order"):
        series_run([WavePoint(2, 0, False), WavePoint(1, 0, False)])
    with pytest.raises(ValueError, match="before the decision"):
        series_run([WavePoint(1, 0, True), WavePoint(2, 0, False)])
    with pytest.raises(ValueError, match="finite"):
        its([1.0, math.nan, 2.0, 3.0, 4.0, 5.0], range(1, 7), 4)
    with pytest.raises(ValueError, match="one estimate per point"):
        its([1.0], range(1, 7), 4)


def test_verdicts_are_the_documented_strings() -> None:
    assert len(VERDICTS) == len(set(VERDICTS)) == 10
    assert VERDICTS[:2] == ("insufficient data", "no significant change")
    rng = np.random.default_rng(3)
    seen = {
        its(planted(rng, level=0.3 * (i % 3 - 1), slope=0.05 * (i % 2))).verdict for i in range(60)
    }
    assert seen <= set(VERDICTS)


@pytest.mark.parametrize(
    ("metric", "words"),
    [
        ("mean", "rose by 0.50"),
        ("nps", "rose by 0.5 points"),
        ("share", "rose by 50.0 percentage points (95% CI +"),
    ],
)
def test_the_summary_speaks_in_the_metrics_unit(metric: str, words: str) -> None:
    y = [1.0, 1.02, 1.0, 1.5, 1.52, 1.5]
    impact = interrupted_time_series(points(range(1, 7), 4), y, metric=metric)  # type: ignore[arg-type]
    assert impact.verdict == "level increased" and words in impact.summary


@pytest.mark.parametrize("scale", [1e15, 1e-6])
def test_numbers_at_the_domains_edges_fit_as_well(scale: float) -> None:
    """Number questions take values up to 1e15 and down to 1e-6: the fit scales with them."""
    y = (planted(np.random.default_rng(8), level=0.5) * scale).tolist()
    impact = its(y)
    assert impact.verdict == "level increased"
    assert_matches_statsmodels(impact, WAVES, FIRST_POST, y)
