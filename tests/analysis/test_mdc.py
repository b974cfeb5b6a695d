"""The smallest detectable change (docs/statistics.md): its closed form, statsmodels' power
solver, and simulated wave pairs run through our own change tests."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from statsmodels.stats.power import NormalIndPower

from feedback.analysis.changes import nps_z, two_proportion_z, welch_t
from feedback.analysis.estimates import choice_estimate, nps_estimate, number_estimate
from feedback.analysis.mdc import Z_DETECT, mean_mdc, nps_mdc, share_mdc
from feedback.analysis.sufficient import Moments, OptionCounts, ScaleCounts

SIMULATIONS = 5_000


def test_the_constant_is_z_0975_plus_z_080() -> None:
    assert pytest.approx(1.959964 + 0.841621, abs=1e-6) == Z_DETECT


@pytest.mark.parametrize(("sd", "n"), [(1.0, 50), (0.8, 200), (12.5, 9)])
def test_mean_mdc_is_the_closed_form_and_statsmodels_effect_size(sd: float, n: int) -> None:
    got = mean_mdc(sd, n)
    assert got == pytest.approx(2.8015852 * sd * math.sqrt(2 / n), rel=1e-6)
    # statsmodels counts the far tail too (≈1e-6 of power), so agreement is to 1e-4.
    effect = NormalIndPower().solve_power(nobs1=n, alpha=0.05, power=0.8, ratio=1.0)
    assert got == pytest.approx(effect * sd, rel=1e-4)


def test_edge_cases_are_none_or_zero() -> None:
    assert mean_mdc(None, 10) is None and mean_mdc(1.0, 1) is None
    assert share_mdc(None, 10) is None and share_mdc(0.0, 10) == 0.0
    assert nps_mdc(0.5, 0.5, 0) is None


def test_nps_and_share_closed_forms() -> None:
    p, d, n = 0.4, 0.25, 120
    v = p + d - (p - d) ** 2
    assert nps_mdc(p, d, n) == pytest.approx(100 * Z_DETECT * math.sqrt(2 * v / n), rel=1e-12)
    assert share_mdc(0.3, 400) == pytest.approx(Z_DETECT * math.sqrt(2 * 0.21 / 400), rel=1e-12)


def test_estimates_carry_their_mdc() -> None:
    numbers = Moments(n=4, total=10.0, total_sq=30.0)  # 1, 2, 3, 4
    estimate = number_estimate(numbers, min_n=2)
    assert estimate.mdc == pytest.approx(Z_DETECT * np.std([1, 2, 3, 4], ddof=1) * math.sqrt(0.5))
    counts = ScaleCounts(np.arange(11), np.array([2, 1, 1, 1, 1, 1, 1, 2, 2, 3, 5]))
    nps = nps_estimate(counts, min_n=5)
    assert nps.promoters is not None and nps.detractors is not None
    assert nps.mdc == pytest.approx(nps_mdc(nps.promoters, nps.detractors, 20))
    shares = choice_estimate(OptionCounts(("a", "b"), np.array([3, 7]), 10), min_n=5)
    assert shares.options is not None and shares.mdc is None
    assert shares.options["a"].mdc == pytest.approx(share_mdc(0.3, 10))
    assert number_estimate(numbers, min_n=5).mdc is None  # suppressed: nothing but n


def _rate(detected: list[bool]) -> float:
    return sum(detected) / len(detected)


def _fixed_point(f: Callable[[float], float], start: float) -> float:
    x = start
    for _ in range(100):
        x = f(x)
    return x


def test_a_change_of_mdc_in_a_mean_is_detected_80_percent_of_the_time() -> None:
    rng = np.random.default_rng(20261205)
    n, sd = 150, 1.3
    change = mean_mdc(sd, n)
    assert change is not None
    detected = []
    for _ in range(SIMULATIONS):
        before, after = rng.normal(3.0, sd, n), rng.normal(3.0 + change, sd, n)
        test = welch_t(
            Moments(n, float(before.sum()), float((before**2).sum())),
            Moments(n, float(after.sum()), float((after**2).sum())),
            from_wave=1,
        )
        detected.append(test.p is not None and test.p < 0.05)
    assert _rate(detected) == pytest.approx(0.80, abs=0.02)


def test_a_change_of_mdc_in_a_share_is_detected_80_percent_of_the_time() -> None:
    """The normal approximation takes the next wave's variance to be this wave's: simulated
    where that holds, a share p moving to 1 − p (p(1 − p) unchanged) by exactly its mdc."""
    rng = np.random.default_rng(7)
    n = 400
    p = _fixed_point(lambda p: (1 - (share_mdc(p, n) or 0.0)) / 2, 0.45)
    change = share_mdc(p, n)
    assert change is not None and p + change == pytest.approx(1 - p)
    detected = []
    for before, after in zip(
        rng.binomial(n, p, SIMULATIONS), rng.binomial(n, p + change, SIMULATIONS), strict=True
    ):
        tests = two_proportion_z(
            OptionCounts(("x",), np.array([before]), n),
            OptionCounts(("x",), np.array([after]), n),
            from_wave=1,
        )
        p_value = tests["x"].p
        detected.append(p_value is not None and p_value < 0.05)
    assert _rate(detected) == pytest.approx(0.80, abs=0.02)


def test_a_change_of_mdc_in_an_nps_is_detected_80_percent_of_the_time() -> None:
    """As for shares: an NPS of −x/2 moving to +x/2 (v unchanged) by exactly its mdc x, the
    promoters and detractors together 60%."""
    rng = np.random.default_rng(11)
    n, passives = 300, 0.40

    def groups(x: float) -> tuple[float, float]:
        return 0.3 - x / 400, 0.3 + x / 400

    change = _fixed_point(lambda x: nps_mdc(*groups(x), n) or 0.0, 20.0)
    promoters, detractors = groups(change)
    assert nps_mdc(promoters, detractors, n) == pytest.approx(change)
    later = (detractors, passives, promoters)

    def wave(shares: tuple[float, float, float]) -> ScaleCounts:
        pro, pas, det = rng.multinomial(n, shares)
        counts = np.zeros(11, dtype=np.int64)
        counts[[10, 7, 0]] = (pro, pas, det)
        return ScaleCounts(np.arange(11), counts)

    detected = []
    for _ in range(SIMULATIONS):
        test = nps_z(wave((promoters, passives, detractors)), wave(later), from_wave=1)
        detected.append(test.p is not None and test.p < 0.05)
    assert _rate(detected) == pytest.approx(0.80, abs=0.02)
