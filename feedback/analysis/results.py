"""Typed results of the analysis, named as the contract names them (docs/http-api.md "Analysis").

Every result is a frozen dataclass. An edge case is a value, never an exception: a figure that
cannot be computed is `None` together with a `reason`, never NaN, because every result ends up
in JSON. Mapping fields hold plain dicts typed read-only; treat them as immutable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from scipy import special, stats

Metric = Literal["mean", "nps", "share"]
ChangeTestName = Literal["mann_whitney", "nps_z", "chi_square", "two_proportion_z", "welch_t"]
PanelTestName = Literal["wilcoxon", "paired_t", "mcnemar"]
Direction = Literal["increasing", "decreasing", "no trend"]
Suppression = Literal["small", "complementary", "folded"]
"""Why a cell is hidden: `small`, fewer than `min_n` answers; `complementary`, hidden so that the
total minus the shown cells cannot give a small cell away (`analysis.suppression`); `folded`, its
answers are in the `other` group of `small_groups=fold` (`analysis.folding`)."""

ALPHA = 0.05
CONFIDENCE = 0.95
Z_CRITICAL = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))


def is_suppressed(n: int, min_n: int) -> bool:
    """The one suppression rule (docs/statistics.md): a cell, wave or pair set below min_n."""
    return n < min_n


def finite_or_none(value: float | None) -> float | None:
    """Map NaN and ±inf to None: results are serialised to JSON, which has neither."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def t_interval(center: float, se: float, df: float) -> tuple[float | None, float | None]:
    """center ∓ t(0.975, df)·se; no interval without degrees of freedom (e.g. n = 1)."""
    if not df > 0:
        return None, None
    half = float(special.stdtrit(df, 0.5 + CONFIDENCE / 2)) * se  # = stats.t.ppf, faster
    return center - half, center + half


def z_interval(center: float, se: float) -> tuple[float, float]:
    """center ∓ Φ⁻¹(0.975)·se (Wald)."""
    return center - Z_CRITICAL * se, center + Z_CRITICAL * se


@dataclass(frozen=True, slots=True)
class Share:
    """A proportion `count / n` with its Wilson interval (estimate None when n is 0), and for an
    option's share of a wave its smallest detectable change (`analysis.mdc`)."""

    count: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    mdc: float | None = None

    @classmethod
    def wilson(cls, count: int, n: int) -> Share:
        """Wilson score interval without continuity correction, as SciPy's
        `binomtest(count, n).proportion_ci(method="wilson")` gives it, in its closed form
        (Newcombe 1998): binomtest would also compute an exact p-value no one reads, at ~1 ms
        a call, and a trends request asks for hundreds of shares."""
        if n == 0:
            return cls(count, None, None, None)
        p = count / n
        z2 = Z_CRITICAL * Z_CRITICAL
        denominator = 2 * (n + z2)
        center = (2 * n * p + z2) / denominator
        delta = Z_CRITICAL / denominator * math.sqrt(4 * n * p * (1 - p) + z2)
        low = 0.0 if count == 0 else center - delta
        high = 1.0 if count == n else center + delta
        return cls(count, p, low, high)


@dataclass(frozen=True, slots=True)
class WaveEstimate:
    """One question's figures in one wave (or one segment cell of a wave).

    `metric` is None for text questions, which report only `n`. A suppressed estimate carries
    `n` and nothing else, and `hidden_as` says why (None: `small`, below `min_n`). `mdc` is the
    smallest detectable change of a mean or NPS estimate (`analysis.mdc`; a share's is on each
    option).
    """

    metric: Metric | None
    n: int
    suppressed: bool
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    sd: float | None = None
    distribution: Mapping[str, int] | None = None
    top_box: Share | None = None
    promoters: float | None = None
    passives: float | None = None
    detractors: float | None = None
    options: Mapping[str, Share] | None = None
    mdc: float | None = None
    hidden_as: Suppression | None = None

    @property
    def suppression(self) -> Suppression | Literal[False]:
        """Why the estimate is hidden, or False when it is shown."""
        if not self.suppressed:
            return False
        return self.hidden_as or "small"

    def as_suppressed(self, reason: Suppression = "small") -> WaveEstimate:
        """The same cell hidden, e.g. by complementary suppression: only `n` survives."""
        return WaveEstimate(metric=self.metric, n=self.n, suppressed=True, hidden_as=reason)


@dataclass(frozen=True, slots=True)
class ChangeTest:
    """A wave compared with the previous comparable wave (`from_wave`) of its run (the
    waves between two series breaks).

    `statistic` and `p` are None, with a `reason`, when the test cannot be computed. `q` and
    `significant` are None until the family is adjusted (`changes.with_q_values`); after that
    `significant` is a bool. `diff` is to − from (mean, NPS points or share); the difference
    interval exists for `welch_t` and `nps_z` only.
    """

    test: ChangeTestName
    from_wave: int
    statistic: float | None
    p: float | None
    diff: float | None = None
    diff_ci_low: float | None = None
    diff_ci_high: float | None = None
    df: float | None = None
    q: float | None = None
    significant: bool | None = None
    reason: str | None = None

    def with_q(self, q: float | None, *, alpha: float = ALPHA) -> ChangeTest:
        return replace(self, q=q, significant=q is not None and q <= alpha)


@dataclass(frozen=True, slots=True)
class TrendTest:
    """Mann–Kendall over one run's non-suppressed wave estimates, with Sen's slope per wave."""

    s: int
    var_s: float
    tau: float
    z: float
    p: float
    slope: float
    direction: Direction
    waves: int
    test: Literal["mann_kendall"] = field(default="mann_kendall", init=False)


@dataclass(frozen=True, slots=True)
class NoTrend:
    """No trend test was run: the contract's `trend: null` with a `trend_reason`."""

    reason: str
    waves: int


@dataclass(frozen=True, slots=True)
class McNemarTest:
    """One option of a choice panel: McNemar's exact test on the discordant pairs.

    `b` chose the option in the from wave only, `c` in the to wave only; `diff` = (c − b)/n_pairs
    is the change in the option's share among the same respondents. `p` is None when b + c = 0.
    """

    both: int
    b: int
    c: int
    neither: int
    statistic: int | None
    p: float | None
    diff: float | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class PanelResult:
    """Change within the same respondents between two waves (d = to − from).

    Wilcoxon: `statistic` = min(W+, W−), `z` the standardised statistic (≤ 0, as SciPy reports
    it for a two-sided test; read the direction from `mean_diff` or `w_plus`/`w_minus`).
    Paired t: `statistic` = t, `df`, and `ci_low`/`ci_high` of the mean difference.
    McNemar: per option under `options`; the top-level statistic and p stay None.
    """

    test: PanelTestName
    n_pairs: int
    suppressed: bool
    statistic: float | None = None
    z: float | None = None
    p: float | None = None
    n_nonzero: int | None = None
    mean_diff: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    df: float | None = None
    w_plus: float | None = None
    w_minus: float | None = None
    options: Mapping[str, McNemarTest] | None = None
    reason: str | None = None
