"""Per-wave estimates (docs/statistics.md "Per-wave estimates"), one function per kind of question.

Each takes one cell's sufficient statistics and the effective `min_n`, and returns a
`WaveEstimate`; a cell below `min_n` comes back suppressed, carrying only its `n`.
"""

from __future__ import annotations

import math
from dataclasses import replace

from feedback.analysis.mdc import mean_mdc, nps_mdc, share_mdc
from feedback.analysis.results import (
    Share,
    WaveEstimate,
    is_suppressed,
    t_interval,
    z_interval,
)
from feedback.analysis.sufficient import Moments, OptionCounts, ScaleCounts


def _mean_interval(
    mean: float | None, variance: float | None, n: int
) -> tuple[float | None, float | None]:
    if mean is None or variance is None:
        return None, None
    return t_interval(mean, math.sqrt(variance / n), n - 1)


def scale_estimate(counts: ScaleCounts, *, min_n: int) -> WaveEstimate:
    """likert and rating: the mean with its t interval, the distribution and the top box."""
    n = counts.n
    if is_suppressed(n, min_n):
        return WaveEstimate(metric="mean", n=n, suppressed=True)
    mean, variance = counts.mean, counts.variance
    ci_low, ci_high = _mean_interval(mean, variance, n)
    return WaveEstimate(
        metric="mean",
        n=n,
        suppressed=False,
        estimate=mean,
        ci_low=ci_low,
        ci_high=ci_high,
        sd=None if variance is None else math.sqrt(variance),
        distribution=counts.distribution(),
        top_box=Share.wilson(counts.top_box_count(), n),
        mdc=mean_mdc(None if variance is None else math.sqrt(variance), n),
    )


def nps_estimate(counts: ScaleCounts, *, min_n: int) -> WaveEstimate:
    """nps: 100·(p_pro − p_det) with the Wald interval, the distribution and the three shares."""
    n = counts.n
    value = counts.nps()
    if is_suppressed(n, min_n) or value is None:
        return WaveEstimate(metric="nps", n=n, suppressed=is_suppressed(n, min_n))
    nps, v = value
    ci_low, ci_high = z_interval(nps, 100 * math.sqrt(v / n))
    promoters, passives, detractors = counts.nps_groups()
    return WaveEstimate(
        metric="nps",
        n=n,
        suppressed=False,
        estimate=nps,
        ci_low=ci_low,
        ci_high=ci_high,
        distribution=counts.distribution(),
        promoters=promoters / n,
        passives=passives / n,
        detractors=detractors / n,
        mdc=nps_mdc(promoters / n, detractors / n, n),
    )


def choice_estimate(counts: OptionCounts, *, min_n: int) -> WaveEstimate:
    """single_choice and multi_choice: each option's share of `n` with its Wilson interval."""
    if is_suppressed(counts.n, min_n):
        return WaveEstimate(metric="share", n=counts.n, suppressed=True)
    return WaveEstimate(
        metric="share",
        n=counts.n,
        suppressed=False,
        distribution=counts.distribution(),
        options={o: _option_share(c, counts.n) for o, c in counts.distribution().items()},
    )


def _option_share(count: int, n: int) -> Share:
    share = Share.wilson(count, n)
    return replace(share, mdc=share_mdc(share.estimate, n))


def number_estimate(moments: Moments, *, min_n: int) -> WaveEstimate:
    """number: the mean with its t interval and the sd (ddof 1)."""
    n = moments.n
    if is_suppressed(n, min_n):
        return WaveEstimate(metric="mean", n=n, suppressed=True)
    mean, variance = moments.mean, moments.variance
    ci_low, ci_high = _mean_interval(mean, variance, n)
    return WaveEstimate(
        metric="mean",
        n=n,
        suppressed=False,
        estimate=mean,
        ci_low=ci_low,
        ci_high=ci_high,
        sd=moments.sd,
        mdc=mean_mdc(moments.sd, n),
    )


def text_estimate(n: int, *, min_n: int) -> WaveEstimate:
    """text: only the number of answers."""
    return WaveEstimate(metric=None, n=n, suppressed=is_suppressed(n, min_n))
