"""Change tests: hand-computed values, then equality with SciPy on the expanded answers."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.stats.contingency import crosstab

from feedback.analysis.changes import (
    benjamini_hochberg,
    chi_square,
    mann_whitney,
    nps_z,
    two_proportion_z,
    welch_t,
    with_q_values,
)
from feedback.analysis.results import ChangeTest
from feedback.analysis.sufficient import Moments, OptionCounts, ScaleCounts
from tests.analysis.tables import (
    close,
    expand,
    moments_of,
    number_values,
    option_counts,
    scale,
    scale_counts,
)
from tests.builders.wire import wire

Z_975 = 1.959963984540054


def two_sided_normal_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def likert(*counts: int) -> ScaleCounts:
    return ScaleCounts(np.arange(1, len(counts) + 1), np.array(counts))


def nps_counts(promoters: int, passives: int, detractors: int) -> ScaleCounts:
    return ScaleCounts.from_rows(
        [(10, promoters), (8, passives), (0, detractors)], scale_min=0, scale_max=10
    )


def test_mann_whitney_by_hand() -> None:
    # from = [1, 2], to = [3, 4]: U_to = 4, μ = 2, σ² = 2·2/12·5 = 5/3, z = (4 − 2 − ½)/σ
    result = mann_whitney(likert(1, 1, 0, 0, 0), likert(0, 0, 1, 1, 0), from_wave=6)
    assert result.test == "mann_whitney" and result.from_wave == 6
    assert result.statistic == 4.0
    assert math.isclose(result.p or 0, two_sided_normal_p(1.5 / math.sqrt(5 / 3)), rel_tol=1e-12)
    assert result.diff == 2.0 and result.diff_ci_low is None


def test_mann_whitney_with_every_answer_equal_has_no_p() -> None:
    result = mann_whitney(likert(0, 0, 5, 0, 0), likert(0, 0, 9, 0, 0), from_wave=1)
    assert result.p is None and result.statistic == 22.5 and result.diff == 0.0
    assert result.reason and "same" in result.reason


def test_mann_whitney_across_different_scale_points() -> None:
    # a scale of 1..4 against 1..5: values are aligned by point, not by position
    a = ScaleCounts(np.arange(1, 5), np.array([2, 2, 2, 2]))
    b = ScaleCounts(np.arange(1, 6), np.array([0, 0, 0, 3, 5]))
    expected = stats.mannwhitneyu(
        expand(b.values, b.counts), expand(a.values, a.counts), method="asymptotic"
    )
    result = mann_whitney(a, b, from_wave=1)
    assert close(result.statistic, expected.statistic) and close(result.p, expected.pvalue)


def test_nps_z_by_hand() -> None:
    # from: 2 promoters, 3 passives, 5 detractors (NPS −30, v = 0.7 − 0.09 = 0.61)
    # to:   5 promoters, 3 passives, 2 detractors (NPS 30, v = 0.61)
    result = nps_z(nps_counts(2, 3, 5), nps_counts(5, 3, 2), from_wave=3)
    se = 100 * math.sqrt(0.61 / 10 + 0.61 / 10)
    assert result.diff == 60.0
    assert math.isclose(result.statistic or 0, 60 / se, rel_tol=1e-12)
    assert math.isclose(result.p or 0, two_sided_normal_p(60 / se), rel_tol=1e-9)
    assert math.isclose(result.diff_ci_low or 0, 60 - Z_975 * se, rel_tol=1e-12)
    assert math.isclose(result.diff_ci_high or 0, 60 + Z_975 * se, rel_tol=1e-12)


def test_nps_z_without_variation_has_no_p() -> None:
    result = nps_z(nps_counts(8, 0, 0), nps_counts(0, 0, 6), from_wave=1)
    assert result.p is None and result.statistic is None and result.diff == -200.0
    assert result.reason


def test_chi_square_by_hand() -> None:
    # [[10, 20], [20, 10]]: expected 15 everywhere; Yates: 4·(5 − ½)²/15 = 5.4 on 1 df
    before = OptionCounts(("a", "b", "c"), np.array([10, 20, 0]), 30)
    after = OptionCounts(("a", "b", "c"), np.array([20, 10, 0]), 30)
    result = chi_square(before, after, from_wave=2)
    assert math.isclose(result.statistic or 0, 5.4, rel_tol=1e-12)
    assert math.isclose(result.p or 0, math.erfc(math.sqrt(5.4 / 2)), rel_tol=1e-9)
    assert result.df == 1.0 and result.diff is None


def test_chi_square_with_one_option_left_has_no_p() -> None:
    before = OptionCounts(("a", "b"), np.array([7, 0]), 7)
    after = OptionCounts(("a", "b"), np.array([9, 0]), 9)
    result = chi_square(before, after, from_wave=1)
    assert result.p is None and result.statistic is None and result.reason


def test_chi_square_aligns_options_that_changed_between_versions() -> None:
    before = OptionCounts(("a", "old"), np.array([10, 5]), 15)
    after = OptionCounts(("new", "a"), np.array([4, 12]), 16)
    expected = stats.chi2_contingency([[10, 5, 0], [12, 0, 4]], correction=True)
    result = chi_square(before, after, from_wave=1)
    assert close(result.statistic, expected.statistic) and close(result.p, expected.pvalue)


def test_two_proportion_z_by_hand() -> None:
    # 20/100 → 30/100: pooled 0.25, se = √(0.25·0.75·0.02), z = 0.1/se
    before = OptionCounts(("x", "y", "z"), np.array([20, 100, 0]), 100)
    after = OptionCounts(("x", "y", "z"), np.array([30, 100, 0]), 100)
    result = two_proportion_z(before, after, from_wave=4)
    z = 0.1 / math.sqrt(0.25 * 0.75 * 0.02)
    assert math.isclose(result["x"].statistic or 0, z, rel_tol=1e-12)
    assert math.isclose(result["x"].p or 0, two_sided_normal_p(z), rel_tol=1e-9)
    assert math.isclose(result["x"].diff or 0, 0.1, rel_tol=1e-12)
    assert result["y"].p is None and result["y"].reason == "everyone chose it in both"
    assert result["z"].p is None and result["z"].reason == "nobody chose it in either wave"


def test_welch_t_by_hand() -> None:
    # to = [1, 2, 3, 4]: mean 2.5, s² 5/3; from = [2, 4, 6]: mean 4, s² 4
    a, b = 5 / 3 / 4, 4 / 3
    se, df = math.sqrt(a + b), (a + b) ** 2 / (a * a / 3 + b * b / 2)
    result = welch_t(Moments(3, 12.0, 56.0), Moments(4, 10.0, 30.0), from_wave=1)
    assert result.diff == -1.5
    assert math.isclose(result.statistic or 0, -1.5 / se, rel_tol=1e-12)
    assert math.isclose(result.df or 0, df, rel_tol=1e-12)
    assert round(df, 5) == 3.23472
    assert math.isclose(result.p or 0, 2 * stats.t.sf(1.5 / se, df), rel_tol=1e-9)


def test_welch_t_edge_cases_have_no_p() -> None:
    constant = welch_t(moments_of(np.full(5, 0.1)), moments_of(np.full(4, 2.0)), from_wave=1)
    assert constant.p is None and constant.diff is not None and constant.reason
    single = welch_t(Moments(1, 3.0, 9.0), Moments(5, 10.0, 30.0), from_wave=1)
    assert single.p is None and single.reason == "needs two answers in each wave"
    empty = welch_t(Moments(0, 0.0, 0.0), Moments(5, 10.0, 30.0), from_wave=1)
    assert empty.p is None and empty.diff is None


def test_one_sided_zero_variance_is_still_a_welch_test() -> None:
    to, before = np.array([1.0, 2.0, 4.0]), np.full(4, 3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = stats.ttest_ind(to, before, equal_var=False)
    result = welch_t(moments_of(before), moments_of(to), from_wave=1)
    assert close(result.statistic, expected.statistic) and close(result.p, expected.pvalue)
    assert close(result.df, expected.df)


def test_benjamini_hochberg_by_hand_and_tests_without_p() -> None:
    # sorted p 0.01, 0.03, 0.04, 0.5 → p·m/i = 0.04, 0.06, 0.0533, 0.5 → running min from the top
    tests = [ChangeTest("welch_t", 1, 1.0, p) for p in (0.01, 0.04, 0.03, 0.5)]
    tests.insert(2, ChangeTest("welch_t", 1, None, None, reason="no variance"))
    adjusted = with_q_values(tests)
    assert [t.q for t in adjusted] == pytest.approx([0.04, 0.04 * 4 / 3, None, 0.04 * 4 / 3, 0.5])
    assert [t.significant for t in adjusted] == [True, False, False, False, False]
    assert with_q_values([ChangeTest("nps_z", 1, None, None)])[0].significant is False
    assert with_q_values([]) == []


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(0.0, 1.0),
            st.sampled_from([0.0, 1.0, 0.05, 1e-320, 0.049999999999999996]),
        ),
        max_size=40,
    )
)
def test_benjamini_hochberg_is_scipys_float_for_float(ps: list[float]) -> None:
    # Ties, zeros, ones and subnormals included: our q values are SciPy's bit for bit.
    expected = stats.false_discovery_control(ps, method="bh").tolist() if ps else []
    assert benjamini_hochberg(ps) == expected


def test_change_results_serialise_without_nan() -> None:
    result = with_q_values([welch_t(Moments(3, 12.0, 56.0), Moments(4, 10.0, 30.0), from_wave=1)])
    payload = wire(result[0])
    assert {
        "test",
        "statistic",
        "p",
        "q",
        "significant",
        "diff",
        "diff_ci_low",
        "diff_ci_high",
        "from_wave",
    } <= set(payload)
    json.dumps(payload, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mann_whitney_equals_scipy_on_raw_answers(data: st.DataObject) -> None:
    bounds = data.draw(scale())
    before = data.draw(scale_counts(bounds, min_n=1))
    after = data.draw(scale_counts(bounds, min_n=1))
    raw_from, raw_to = expand(before.values, before.counts), expand(after.values, after.counts)
    result = mann_whitney(before, after, from_wave=1)
    assert close(result.diff, raw_to.mean() - raw_from.mean(), abs_tol=1e-12)
    expected = stats.mannwhitneyu(
        raw_to, raw_from, use_continuity=True, alternative="two-sided", method="asymptotic"
    )
    assert close(result.statistic, expected.statistic)
    if np.unique(np.concatenate([raw_from, raw_to])).size == 1:
        assert result.p is None
    else:
        assert close(result.p, expected.pvalue)


@settings(max_examples=200, deadline=None)
@given(scale_counts((0, 10), min_n=1), scale_counts((0, 10), min_n=1))
def test_nps_z_equals_the_formula_on_raw_answers(before: ScaleCounts, after: ScaleCounts) -> None:
    def score(counts: ScaleCounts) -> np.ndarray:
        raw = expand(counts.values, counts.counts)
        return np.where(raw >= 9, 1.0, np.where(raw <= 6, -1.0, 0.0))

    s_from, s_to = score(before), score(after)
    diff = 100 * (s_to.mean() - s_from.mean())
    se = 100 * math.sqrt(s_to.var() / s_to.size + s_from.var() / s_from.size)
    result = nps_z(before, after, from_wave=1)
    assert close(result.diff, diff, abs_tol=1e-9)
    if se == 0:
        assert result.p is None
    else:
        assert close(result.statistic, diff / se, abs_tol=1e-9)
        assert close(result.p, 2 * stats.norm.sf(abs(diff / se)), abs_tol=1e-12)
        assert close(result.diff_ci_low, diff - Z_975 * se, abs_tol=1e-9)


OPTIONS = ("climate", "housing", "jobs", "health")


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_chi_square_equals_scipy_on_raw_answers(data: st.DataObject) -> None:
    options = OPTIONS[: data.draw(st.integers(1, 4))]
    before = data.draw(option_counts(options, multi=False))
    after = data.draw(option_counts(options, multi=False))
    wave = np.repeat(["from", "to"], [before.n, after.n])
    answer = np.concatenate([np.repeat(options, before.counts), np.repeat(options, after.counts)])
    table = crosstab(wave, answer).count  # options nobody chose drop out by construction
    result = chi_square(before, after, from_wave=1)
    if table.shape[1] < 2:
        assert result.p is None
    else:
        expected = stats.chi2_contingency(table, correction=True)
        assert close(result.statistic, expected.statistic) and close(result.p, expected.pvalue)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_two_proportion_z_squared_equals_uncorrected_chi_square(data: st.DataObject) -> None:
    before = data.draw(option_counts(OPTIONS, multi=True))
    after = data.draw(option_counts(OPTIONS, multi=True))
    results = two_proportion_z(before, after, from_wave=1)
    for i, option in enumerate(OPTIONS):
        chose_from = np.arange(before.n) < before.counts[i]
        chose_to = np.arange(after.n) < after.counts[i]
        wave = np.repeat([1, 0], [after.n, before.n])
        table = crosstab(wave, np.concatenate([chose_to, chose_from])).count
        result = results[option]
        assert close(result.diff, chose_to.mean() - chose_from.mean(), abs_tol=1e-12)
        if table.shape[1] < 2:  # nobody, or everybody, chose it
            assert result.p is None
            continue
        # the pooled z test is the uncorrected 2×2 chi-square test: z² = χ², same p
        expected = stats.chi2_contingency(table, correction=False)
        assert close((result.statistic or 0) ** 2, expected.statistic)
        assert close(result.p, expected.pvalue)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(number_values, min_size=2, max_size=40),
    st.lists(number_values, min_size=2, max_size=40),
)
def test_welch_t_equals_scipy_on_raw_answers(before: list[float], after: list[float]) -> None:
    raw_from, raw_to = np.array(before), np.array(after)
    result = welch_t(moments_of(raw_from), moments_of(raw_to), from_wave=1)
    assert close(result.diff, raw_to.mean() - raw_from.mean(), abs_tol=1e-9)
    if raw_from.std() == 0 and raw_to.std() == 0:
        assert result.p is None
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = stats.ttest_ind(raw_to, raw_from, equal_var=False)
    ci = expected.confidence_interval()
    assert close(result.statistic, expected.statistic)
    assert close(result.p, expected.pvalue)
    assert close(result.df, expected.df)
    assert close(result.diff_ci_low, ci.low) and close(result.diff_ci_high, ci.high)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0, 1)), max_size=30))
def test_q_values_equal_scipy_over_the_tests_with_p(ps: list[float | None]) -> None:
    tests = [ChangeTest("welch_t", 1, None if p is None else 0.0, p) for p in ps]
    adjusted = with_q_values(tests)
    present = [p for p in ps if p is not None]
    expected = iter(stats.false_discovery_control(present, method="bh") if present else [])
    for test, p in zip(adjusted, ps, strict=True):
        if p is None:
            assert test.q is None and test.significant is False
        else:
            q = next(expected)
            assert close(test.q, q) and test.q is not None and test.q >= p
            assert test.significant is bool(q <= 0.05)
