"""Change from the previous comparable wave (docs/statistics.md "Change from the previous wave").

Every test takes the `from` (earlier) wave's statistics first and the `to` wave's second, and
reports to − from; where SciPy's reference call puts `to` first, the statistic is the `to`
wave's. A test that cannot be computed returns p None with a `reason`. `with_q_values` then
adjusts one question's family of tests (Benjamini–Hochberg) and sets `significant`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import special

from feedback.analysis.results import (
    ALPHA,
    ChangeTest,
    finite_or_none,
    t_interval,
    z_interval,
)
from feedback.analysis.sufficient import IntArray, Moments, OptionCounts, ScaleCounts


def mann_whitney(from_counts: ScaleCounts, to_counts: ScaleCounts, *, from_wave: int) -> ChangeTest:
    """= mannwhitneyu(to, from, use_continuity=True, alternative="two-sided",
    method="asymptotic"); `statistic` is U of the `to` wave, `diff` the difference of means."""
    n_to, n_from = to_counts.n, from_counts.n
    mean_to, mean_from = to_counts.mean, from_counts.mean
    if mean_to is None or mean_from is None:
        return ChangeTest("mann_whitney", from_wave, None, None, reason="a wave has no answers")
    diff = mean_to - mean_from
    # Midranks over the pooled sample: a value's tie group of size t occupies the t ranks after
    # every smaller value, so each of its answers gets the group's average rank.
    values = np.union1d(to_counts.values, from_counts.values)
    c_to = _counts_on(values, to_counts)
    c_from = _counts_on(values, from_counts)
    ties = (c_to + c_from).astype(np.float64)
    midranks = np.cumsum(ties) - (ties - 1) / 2
    u_to = float(c_to @ midranks) - n_to * (n_to + 1) / 2
    n = n_to + n_from
    tie_term = float((ties**3 - ties).sum())
    variance = n_to * n_from / 12 * ((n + 1) - tie_term / (n * (n - 1)))
    # Tested on the counts, not on the variance, which rounds to a tiny non-zero for large n.
    if np.count_nonzero(ties) < 2:
        return ChangeTest(
            "mann_whitney",
            from_wave,
            u_to,
            None,
            diff=diff,
            reason="every answer in both waves is the same scale point",
        )
    # As SciPy: the larger of U and U' with the continuity correction, two-sided, capped at 1.
    u = max(u_to, n_to * n_from - u_to)
    z = (u - n_to * n_from / 2 - 0.5) / math.sqrt(variance)
    p = min(1.0, 2 * float(special.ndtr(-z)))
    return ChangeTest("mann_whitney", from_wave, u_to, p, diff=diff)


def _counts_on(values: IntArray, counts: ScaleCounts) -> IntArray:
    aligned = np.zeros(values.size, dtype=np.int64)
    aligned[np.searchsorted(values, counts.values)] = counts.counts
    return aligned


def nps_z(from_counts: ScaleCounts, to_counts: ScaleCounts, *, from_wave: int) -> ChangeTest:
    """z = (NPS_to − NPS_from)/(100·√(v_to/n_to + v_from/n_from)), with the unpooled Wald
    interval of the difference."""
    to_value, from_value = to_counts.nps(), from_counts.nps()
    if to_value is None or from_value is None:
        return ChangeTest("nps_z", from_wave, None, None, reason="a wave has no answers")
    (nps_to, v_to), (nps_from, v_from) = to_value, from_value
    diff = nps_to - nps_from
    se = 100 * math.sqrt(v_to / to_counts.n + v_from / from_counts.n)
    if se == 0:
        return ChangeTest(
            "nps_z",
            from_wave,
            None,
            None,
            diff=diff,
            reason="every answer in each wave is in the same NPS group, so the Wald standard "
            "error is zero",
        )
    z = diff / se
    ci_low, ci_high = z_interval(diff, se)
    return ChangeTest(
        "nps_z",
        from_wave,
        z,
        2 * float(special.ndtr(-abs(z))),
        diff=diff,
        diff_ci_low=ci_low,
        diff_ci_high=ci_high,
    )


def _aligned(
    from_counts: OptionCounts, to_counts: OptionCounts
) -> tuple[list[str], list[int], list[int]]:
    """Both waves' counts over the union of their options (options may change between versions
    without breaking the series), in the `to` wave's order."""
    options = list(to_counts.options) + [
        o for o in from_counts.options if o not in to_counts.options
    ]
    return options, [from_counts.count(o) for o in options], [to_counts.count(o) for o in options]


def chi_square(from_counts: OptionCounts, to_counts: OptionCounts, *, from_wave: int) -> ChangeTest:
    """single_choice: = chi2_contingency([[from], [to]], correction=True) over the options that
    someone chose in either wave (Yates' correction applies only when two remain)."""
    if from_counts.n == 0 or to_counts.n == 0:
        return ChangeTest("chi_square", from_wave, None, None, reason="a wave has no answers")
    _, c_from, c_to = _aligned(from_counts, to_counts)
    table = np.array([c_from, c_to], dtype=np.int64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return ChangeTest(
            "chi_square",
            from_wave,
            None,
            None,
            reason="fewer than two options were chosen in these waves",
        )
    statistic, dof = _pearson_chi_square(table)
    return ChangeTest(
        "chi_square",
        from_wave,
        statistic,
        float(special.chdtrc(dof, statistic)),
        df=float(dof),
    )


def _pearson_chi_square(table: IntArray) -> tuple[float, int]:
    """(χ², degrees of freedom) of a contingency table with Yates' correction when df is 1,
    computed as `chi2_contingency(table, correction=True)` does, without its per-call overhead
    (a trends request runs this for every wave of every single-choice question)."""
    observed = table.astype(np.float64)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    dof = (table.shape[0] - 1) * (table.shape[1] - 1)
    if dof == 1:
        diff = expected - observed
        observed = observed + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
    return float(((observed - expected) ** 2 / expected).sum()), dof


def two_proportion_z(
    from_counts: OptionCounts, to_counts: OptionCounts, *, from_wave: int
) -> dict[str, ChangeTest]:
    """multi_choice: per option, the pooled two-proportion z test without continuity correction
    (= statsmodels proportions_ztest([c_to, c_from], [n_to, n_from])); `diff` = share change."""
    n_to, n_from = to_counts.n, from_counts.n
    options, c_from, c_to = _aligned(from_counts, to_counts)
    if n_to == 0 or n_from == 0:
        return {
            o: ChangeTest("two_proportion_z", from_wave, None, None, reason="a wave has no answers")
            for o in options
        }
    return {
        o: _two_proportion_z(k_from, n_from, k_to, n_to, from_wave)
        for o, k_from, k_to in zip(options, c_from, c_to, strict=True)
    }


def _two_proportion_z(k_from: int, n_from: int, k_to: int, n_to: int, from_wave: int) -> ChangeTest:
    diff = k_to / n_to - k_from / n_from
    pooled = (k_to + k_from) / (n_to + n_from)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_to + 1 / n_from))
    if se == 0:
        reason = "nobody chose it in either wave" if pooled == 0 else "everyone chose it in both"
        return ChangeTest("two_proportion_z", from_wave, None, None, diff=diff, reason=reason)
    z = diff / se
    return ChangeTest("two_proportion_z", from_wave, z, 2 * float(special.ndtr(-abs(z))), diff=diff)


def welch_t(from_moments: Moments, to_moments: Moments, *, from_wave: int) -> ChangeTest:
    """number: = ttest_ind(to, from, equal_var=False), from the moments via
    ttest_ind_from_stats, with the Welch interval of the difference of means."""
    mean_to, mean_from = to_moments.mean, from_moments.mean
    if mean_to is None or mean_from is None:
        return ChangeTest("welch_t", from_wave, None, None, reason="a wave has no answers")
    diff = mean_to - mean_from
    var_to, var_from = to_moments.variance, from_moments.variance
    if var_to is None or var_from is None:
        return ChangeTest(
            "welch_t", from_wave, None, None, diff=diff, reason="needs two answers in each wave"
        )
    a, b = var_to / to_moments.n, var_from / from_moments.n
    if a + b == 0:
        return ChangeTest(
            "welch_t",
            from_wave,
            None,
            None,
            diff=diff,
            reason="the answers do not vary within either wave",
        )
    # Welch–Satterthwaite degrees of freedom; a zero-variance side contributes no term.
    df = (a + b) ** 2 / (a * a / (to_moments.n - 1) + b * b / (from_moments.n - 1))
    # As ttest_ind_from_stats(..., equal_var=False): t = diff / √(a + b), two-sided t(df) p.
    se = math.sqrt(a + b)
    t = diff / se
    ci_low, ci_high = t_interval(diff, se, df)
    return ChangeTest(
        "welch_t",
        from_wave,
        finite_or_none(t),
        finite_or_none(2 * float(special.stdtr(df, -abs(t)))),
        diff=diff,
        diff_ci_low=ci_low,
        diff_ci_high=ci_high,
        df=df,
    )


def with_q_values(tests: Sequence[ChangeTest], *, alpha: float = ALPHA) -> list[ChangeTest]:
    """Benjamini–Hochberg q over one question's family of change tests, in the given order.

    The family is every test with a p value (consecutive-wave tests of the requested range; for
    multi-choice every option's); a test without p gets q None and is not significant.
    """
    qs = iter(benjamini_hochberg([t.p for t in tests if t.p is not None]))
    return [t.with_q(next(qs) if t.p is not None else None, alpha=alpha) for t in tests]


def benjamini_hochberg(ps: Sequence[float]) -> list[float]:
    """= stats.false_discovery_control(ps, method="bh"), float for float (tested against it):
    each p times m over its rank, the running minimum from the largest p down, capped at 1.

    Written out because SciPy's checks and array dispatch cost ~150 µs a call on these few p
    values, and a split's answer adjusts one family per question and group (6 % of its time)."""
    m = len(ps)
    order = sorted(range(m), key=ps.__getitem__)
    qs = [0.0] * m
    running = math.inf
    for rank in range(m, 0, -1):
        at = order[rank - 1]
        running = min(running, ps[at] * (m / rank))
        qs[at] = min(running, 1.0)
    return qs
