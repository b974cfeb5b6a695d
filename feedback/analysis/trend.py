"""Trend over one run (the waves between two series breaks): Mann–Kendall with Sen's slope
(docs/statistics.md "Trend").

The test is `pymannkendall.original_test` exactly, composed from the same small steps
(score → variance → z → p); Sen's slope differs only in using the wave numbers as x, so a
suppressed wave leaves a gap instead of shifting the later waves one step left.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy import special

from feedback.analysis.results import ALPHA, Direction, NoTrend, TrendTest
from feedback.analysis.sufficient import FloatArray

MIN_WAVES = 4


def mann_kendall(waves: Sequence[int], estimates: Sequence[float]) -> TrendTest | NoTrend:
    """Trend of one run's non-suppressed wave estimates, `waves` their wave numbers in
    increasing order. Fewer than `MIN_WAVES` points give `NoTrend` with the reason."""
    x = np.asarray(waves, dtype=np.float64)
    y = np.asarray(estimates, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("waves and estimates must be sequences of the same length")
    if (np.diff(x) <= 0).any():
        raise ValueError("wave numbers must be strictly increasing")
    if not np.isfinite(y).all():
        raise ValueError("estimates must be finite; leave suppressed waves out")
    n = y.size
    if n < MIN_WAVES:
        return NoTrend(
            reason=f"a trend needs at least {MIN_WAVES} non-suppressed waves in one run "
            f"without a series break; there {'is' if n == 1 else 'are'} {n}",
            waves=n,
        )
    s = _score(y)
    var_s = _variance(y)
    z = _z(s, var_s)
    p = _p(z)
    return TrendTest(
        s=s,
        var_s=var_s,
        tau=s / (n * (n - 1) / 2),
        z=z,
        p=p,
        slope=_sen_slope(x, y),
        direction=_direction(z, p),
        waves=n,
    )


@lru_cache(maxsize=128)
def _pairs(n: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Index arrays (i, j) of every pair i < j, read-only: shared by every run of n waves."""
    i, j = np.triu_indices(n, k=1)
    i.setflags(write=False)
    j.setflags(write=False)
    return i, j


def _score(y: FloatArray) -> int:
    """S = Σ_{i<j} sign(y_j − y_i)."""
    i, j = _pairs(y.size)
    return int(np.sign(y[j] - y[i]).sum())


def _variance(y: FloatArray) -> float:
    """Var S = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)]/18 over groups of tied values."""
    n = y.size
    _, ties = np.unique(y, return_counts=True)
    tie_term = int((ties * (ties - 1) * (2 * ties + 5)).sum())
    return (n * (n - 1) * (2 * n + 5) - tie_term) / 18


def _z(s: int, var_s: float) -> float:
    """(S − sign S)/√Var S, continuity-corrected; 0 when S = 0 (which Var S = 0 implies)."""
    if s == 0:
        return 0.0
    return (s - math.copysign(1, s)) / math.sqrt(var_s)


def _p(z: float) -> float:
    return 2 * float(special.ndtr(-abs(z)))  # = 2·stats.norm.sf(|z|)


def _sen_slope(x: FloatArray, y: FloatArray) -> float:
    """Median of (y_j − y_i)/(x_j − x_i) over i < j: change per wave."""
    i, j = _pairs(y.size)
    return float(np.median((y[j] - y[i]) / (x[j] - x[i])))


def _direction(z: float, p: float) -> Direction:
    if p >= ALPHA:
        return "no trend"
    return "increasing" if z > 0 else "decreasing"
