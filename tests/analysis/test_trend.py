"""Mann–Kendall and Sen's slope: hand-computed values, and equality with a direct transcription
of pymannkendall.original_test (mmhs013/pyMannKendall, `__mk_score`, `__variance_s`,
`__z_score`, `__p_value`) run on the raw series."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.analysis.results import NoTrend, TrendTest
from feedback.analysis.trend import mann_kendall
from tests.analysis.tables import close
from tests.builders.wire import wire


def pymannkendall_original(y: list[float]) -> tuple[int, float, float, float, float, str]:
    """(s, var_s, z, p, tau, trend) as pymannkendall.original_test computes them, loop by loop."""
    n = len(y)
    s = sum((y[j] > y[k]) - (y[j] < y[k]) for k in range(n - 1) for j in range(k + 1, n))
    groups = [y.count(v) for v in set(y)]
    var_s = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in groups)) / 18
    z = 0.0 if s == 0 else (s - 1) / math.sqrt(var_s) if s > 0 else (s + 1) / math.sqrt(var_s)
    p = 2 * (1 - 0.5 * math.erfc(-abs(z) / math.sqrt(2)))
    h = abs(z) > 1.959963984540054
    trend = "increasing" if z > 0 and h else "decreasing" if z < 0 and h else "no trend"
    return s, var_s, z, p, s / (0.5 * n * (n - 1)), trend


def sen_slope(x: list[int], y: list[float]) -> float:
    return statistics.median(
        (y[j] - y[i]) / (x[j] - x[i]) for i in range(len(y)) for j in range(i + 1, len(y))
    )


def test_strictly_increasing_series_by_hand() -> None:
    # S = 10, Var S = 5·4·15/18, z = 9/√Var S, τ = 1, slope 1
    result = mann_kendall([1, 2, 3, 4, 5], [1.0, 2.0, 3.0, 4.0, 5.0])
    assert isinstance(result, TrendTest)
    assert (result.s, result.tau, result.slope, result.waves) == (10, 1.0, 1.0, 5)
    assert math.isclose(result.var_s, 50 / 3, rel_tol=1e-15)
    assert math.isclose(result.z, 9 / math.sqrt(50 / 3), rel_tol=1e-15)
    assert math.isclose(result.p, 0.0274863, rel_tol=1e-5)
    assert result.direction == "increasing" and result.test == "mann_kendall"


def test_ties_reduce_the_variance_by_hand() -> None:
    # y = 1, 1, 2, 3: S = 5; one tie group of 2: Var S = (4·3·13 − 2·1·9)/18 = 138/18
    result = mann_kendall([1, 2, 3, 4], [1.0, 1.0, 2.0, 3.0])
    assert isinstance(result, TrendTest)
    assert result.s == 5 and math.isclose(result.var_s, 138 / 18, rel_tol=1e-15)
    assert math.isclose(result.z, 4 / math.sqrt(138 / 18), rel_tol=1e-15)
    assert result.direction == "no trend"


def test_sen_slope_uses_wave_numbers_so_gaps_stay_gaps() -> None:
    # waves 1, 2, 4, 5 (wave 3 suppressed) on the line y = x: slope 1 per wave; by position the
    # pairwise slopes would be 1, 1.5, 4/3, 2, 1.5, 1 with median 1.5
    result = mann_kendall([1, 2, 4, 5], [1.0, 2.0, 4.0, 5.0])
    assert isinstance(result, TrendTest) and result.slope == 1.0


def test_flat_series_has_no_trend_and_p_one() -> None:
    result = mann_kendall([1, 2, 3, 4, 5, 6], [3.2] * 6)
    assert isinstance(result, TrendTest)
    assert (result.s, result.var_s, result.z, result.p, result.slope) == (0, 0.0, 0.0, 1.0, 0.0)
    assert result.direction == "no trend"


def test_decreasing_direction() -> None:
    result = mann_kendall(list(range(1, 9)), [8.0, 7.5, 7.0, 6.0, 6.1, 5.0, 4.0, 3.0])
    assert isinstance(result, TrendTest) and result.direction == "decreasing" and result.slope < 0


@pytest.mark.parametrize("n", [0, 1, 3])
def test_fewer_than_four_waves_is_no_trend_with_a_reason(n: int) -> None:
    result = mann_kendall(list(range(1, n + 1)), [1.0] * n)
    assert isinstance(result, NoTrend) and result.waves == n
    assert "at least 4" in result.reason and wire(result) is None


def test_malformed_input_raises() -> None:
    with pytest.raises(ValueError, match="increasing"):
        mann_kendall([1, 3, 2, 4], [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="same length"):
        mann_kendall([1, 2, 3], [1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        mann_kendall([1, 2, 3, 4], [1.0, float("nan"), 3.0, 4.0])


series = st.integers(4, 30).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(1, 60), min_size=n, max_size=n, unique=True).map(sorted),
        # few distinct values so ties are common, as with rounded survey means
        st.lists(st.integers(0, 8).map(lambda v: 3 + v / 4), min_size=n, max_size=n),
    )
)


@settings(max_examples=200, deadline=None)
@given(series)
def test_equals_pymannkendall_original_test(xy: tuple[list[int], list[float]]) -> None:
    x, y = xy
    s, var_s, z, p, tau, trend = pymannkendall_original(y)
    result = mann_kendall(x, y)
    assert isinstance(result, TrendTest)
    assert result.s == s and close(result.var_s, var_s) and close(result.tau, tau)
    assert close(result.z, z) and close(result.p, p, abs_tol=1e-12)
    assert result.direction == trend
    assert close(result.slope, sen_slope(x, y), abs_tol=1e-12)
