"""Change within the same respondents between two waves (docs/statistics.md "Panel").

Inputs are the pairs of respondents with a current answer in both waves, d = to − from: the
differences' counts for scales, their moments for numbers, per-option 2×2 tables for choices.
A pair set below `min_n` is suppressed and reports only `n_pairs`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from feedback.analysis.results import McNemarTest, PanelResult, is_suppressed, t_interval
from feedback.analysis.sufficient import DiffCounts, Moments, OptionPairs, PairTable


def wilcoxon_signed_rank(diffs: DiffCounts, *, min_n: int) -> PanelResult:
    """likert, rating, nps: = wilcoxon(d, zero_method="wilcox", correction=False,
    method="asymptotic"), zero differences dropped, tie-corrected variance."""
    n_pairs = diffs.n
    if is_suppressed(n_pairs, min_n):
        return PanelResult("wilcoxon", n_pairs, suppressed=True)
    mean_diff = math.fsum(diffs.values * diffs.counts) / n_pairs if n_pairs else None
    moved = diffs.values != 0
    values, counts = diffs.values[moved], diffs.counts[moved]
    n = int(counts.sum())
    if n == 0:
        return PanelResult(
            "wilcoxon",
            n_pairs,
            suppressed=False,
            statistic=0.0,
            n_nonzero=0,
            mean_diff=mean_diff,
            w_plus=0.0,
            w_minus=0.0,
            reason="no respondent changed their answer",
        )
    # Rank |d|: +2 and −2 tie, so group by magnitude; each tie group of size t gets the average
    # of the t ranks after all smaller magnitudes.
    magnitudes, group = np.unique(np.abs(values), return_inverse=True)
    ties = np.bincount(group, weights=counts, minlength=magnitudes.size)
    midranks = (np.cumsum(ties) - (ties - 1) / 2)[group]
    w_plus = float((counts * midranks)[values > 0].sum())
    w_minus = float((counts * midranks)[values < 0].sum())
    se = math.sqrt((n * (n + 1) * (2 * n + 1) - float((ties**3 - ties).sum()) / 2) / 24)
    z = -abs(w_plus - n * (n + 1) / 4) / se
    return PanelResult(
        "wilcoxon",
        n_pairs,
        suppressed=False,
        statistic=min(w_plus, w_minus),
        z=z,
        p=2 * float(stats.norm.cdf(z)),
        n_nonzero=n,
        mean_diff=mean_diff,
        w_plus=w_plus,
        w_minus=w_minus,
    )


def paired_t(diffs: Moments, *, min_n: int) -> PanelResult:
    """number: = ttest_rel(to, from), from the moments of d, with the t interval of the mean
    difference."""
    n = diffs.n
    if is_suppressed(n, min_n):
        return PanelResult("paired_t", n, suppressed=True)
    mean, variance = diffs.mean, diffs.variance
    if mean is None or variance is None:
        return PanelResult(
            "paired_t", n, suppressed=False, mean_diff=mean, reason="needs at least two pairs"
        )
    se = math.sqrt(variance / n)
    ci_low, ci_high = t_interval(mean, se, n - 1)
    if se == 0:
        return PanelResult(
            "paired_t",
            n,
            suppressed=False,
            mean_diff=mean,
            ci_low=ci_low,
            ci_high=ci_high,
            df=n - 1,
            reason="every respondent changed by the same amount",
        )
    t = mean / se
    return PanelResult(
        "paired_t",
        n,
        suppressed=False,
        statistic=t,
        p=2 * float(stats.t.sf(abs(t), n - 1)),
        mean_diff=mean,
        ci_low=ci_low,
        ci_high=ci_high,
        df=n - 1,
    )


def mcnemar(pairs: OptionPairs, *, min_n: int) -> PanelResult:
    """single_choice, multi_choice: per option, McNemar's exact test (binomial test of b against
    b + c at ½; statistic min(b, c) as statsmodels reports it)."""
    n_pairs = pairs.n_pairs
    if is_suppressed(n_pairs, min_n):
        return PanelResult("mcnemar", n_pairs, suppressed=True)
    neither = pairs.neither
    options = {
        option: _mcnemar_option(
            int(pairs.both[i]), int(pairs.from_only[i]), int(pairs.to_only[i]), int(neither[i])
        )
        for i, option in enumerate(pairs.options)
    }
    return PanelResult("mcnemar", n_pairs, suppressed=False, options=options)


def _mcnemar_option(both: int, b: int, c: int, neither: int) -> McNemarTest:
    n_pairs = both + b + c + neither
    diff = (c - b) / n_pairs if n_pairs else None
    if b + c == 0:
        return McNemarTest(
            both, b, c, neither, None, None, diff, reason="no respondent changed on this option"
        )
    p = float(stats.binomtest(b, b + c, 0.5).pvalue)
    return McNemarTest(both, b, c, neither, min(b, c), p, diff)


@dataclass(frozen=True, slots=True)
class PanelFigures:
    """A panel answer: the question, its waves, the `min_n` applied, the pairs left out because
    a series break lies between the waves, and the test."""

    key: str
    type: str
    from_wave: int
    to_wave: int
    min_n: int
    excluded_across_break: int
    result: PanelResult = field(repr=False)


def panel_test(stats: PairTable | Moments | OptionPairs, min_n: int) -> PanelResult:
    """The panel test of the pairs' statistics: Wilcoxon for scales, paired t for numbers,
    McNemar per option for choices."""
    if isinstance(stats, PairTable):
        return wilcoxon_signed_rank(stats.differences(), min_n=min_n)
    if isinstance(stats, Moments):
        return paired_t(stats, min_n=min_n)
    return mcnemar(stats, min_n=min_n)
