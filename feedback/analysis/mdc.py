"""The smallest detectable change of a wave's estimate (docs/statistics.md "Smallest detectable
change").

For a wave of n answers: the smallest true difference that a comparison with a next wave of
the same n would detect with 80% power at two-sided α = 0.05, by the normal approximation.
It tells a campaigner whether a wave is precise enough to read a change of a given size as real
before collecting more answers. Pure: no I/O.
"""

from __future__ import annotations

import math

from scipy import stats

POWER = 0.80
# z₀.₉₇₅ + z₀.₈₀ = 1.959964 + 0.841621
Z_DETECT = float(stats.norm.ppf(0.975) + stats.norm.ppf(POWER))


def mean_mdc(sd: float | None, n: int) -> float | None:
    """Mean metrics: z·s·√(2/n), s the wave's sample standard deviation (None below 2 answers)."""
    if sd is None or n < 2:
        return None
    return Z_DETECT * sd * math.sqrt(2 / n)


def nps_mdc(promoters: float, detractors: float, n: int) -> float | None:
    """NPS in points: 100·z·√(2v/n), v = p + d − (p − d)² from the promoter and detractor shares."""
    if n < 1:
        return None
    v = promoters + detractors - (promoters - detractors) ** 2
    return 100 * Z_DETECT * math.sqrt(2 * max(v, 0.0) / n)


def share_mdc(share: float | None, n: int) -> float | None:
    """A share (per option): z·√(2p(1−p)/n)."""
    if share is None or n < 1:
        return None
    return Z_DETECT * math.sqrt(2 * share * (1 - share) / n)
