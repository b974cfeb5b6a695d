"""Panel tests: hand-computed values, then equality with SciPy on the expanded pairs."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from feedback.analysis.panel import mcnemar, paired_t, wilcoxon_signed_rank
from feedback.analysis.sufficient import DiffCounts, OptionPairs, PairTable
from tests.analysis.tables import (
    close,
    expand_pairs,
    moments_of,
    number_values,
    pair_table,
    scale,
)
from tests.builders.wire import wire


def diffs(*d: float) -> DiffCounts:
    values, counts = np.unique(np.array(d, dtype=float), return_counts=True)
    return DiffCounts(values, counts)


def test_wilcoxon_by_hand() -> None:
    # d = 1, 2, −3, 4, 0: the zero drops, n = 4, ranks 1..4; W+ = 7, W− = 3;
    # mean 5, σ² = 4·5·9/24 = 7.5, z = −|7 − 5|/σ
    result = wilcoxon_signed_rank(diffs(1, 2, -3, 4, 0), min_n=5)
    z = -2 / math.sqrt(7.5)
    assert (result.statistic, result.w_plus, result.w_minus) == (3.0, 7.0, 3.0)
    assert result.n_pairs == 5 and result.n_nonzero == 4 and result.mean_diff == 0.8
    assert math.isclose(result.z or 0, z, rel_tol=1e-12)
    assert math.isclose(result.p or 0, math.erfc(-z / math.sqrt(2)), rel_tol=1e-12)


def test_wilcoxon_ties_across_signs_share_a_rank() -> None:
    # |−2| and |2| tie: ranks 1, 2.5, 2.5; tie term (2³ − 2)/48 = 1/8
    result = wilcoxon_signed_rank(diffs(1, 2, -2), min_n=1)
    assert (result.w_plus, result.w_minus) == (3.5, 2.5)
    se = math.sqrt(3 * 4 * 7 / 24 - 6 / 48)
    assert math.isclose(result.z or 0, -0.5 / se, rel_tol=1e-12)


def test_wilcoxon_with_nobody_changing_has_no_p() -> None:
    result = wilcoxon_signed_rank(diffs(0, 0, 0, 0, 0, 0), min_n=5)
    assert result.p is None and result.z is None and result.n_nonzero == 0
    assert result.mean_diff == 0.0 and result.reason


def test_panel_below_min_n_is_suppressed() -> None:
    result = wilcoxon_signed_rank(diffs(1, 2, 3), min_n=5)
    assert result.suppressed and wire(result) == {
        "test": "wilcoxon",
        "n_pairs": 3,
        "suppressed": True,
    }
    assert paired_t(moments_of(np.ones(4)), min_n=5).suppressed
    pairs = OptionPairs(("a",), 4, np.array([1]), np.array([1]), np.array([1]))
    assert mcnemar(pairs, min_n=5).suppressed


def test_pair_table_differences() -> None:
    table = PairTable.from_rows([(1, 3, 2), (2, 4, 1), (5, 5, 4), (4, 1, 1)])
    d = table.differences()
    assert d.values.tolist() == [-3.0, 0.0, 2.0] and d.counts.tolist() == [1, 4, 3]
    assert table.n_pairs == 8


def test_paired_t_by_hand() -> None:
    # d = 1, 2, 3: mean 2, s = 1, t = 2√3 on 2 df; for 2 df, p = 1 − t/√(t² + 2)
    result = paired_t(moments_of(np.array([1.0, 2.0, 3.0])), min_n=3)
    t = 2 * math.sqrt(3)
    assert math.isclose(result.statistic or 0, t, rel_tol=1e-12)
    assert math.isclose(result.p or 0, 1 - t / math.sqrt(t * t + 2), rel_tol=1e-9)
    assert result.df == 2 and result.mean_diff == 2.0
    half = 4.302652729749464 / math.sqrt(3)  # t table: 0.975 quantile on 2 df
    assert math.isclose(result.ci_low or 0, 2 - half, rel_tol=1e-9)


def test_paired_t_edge_cases() -> None:
    same = paired_t(moments_of(np.full(6, 1.5)), min_n=5)
    assert same.p is None and same.mean_diff == 1.5 and same.ci_low == same.ci_high == 1.5
    one = paired_t(moments_of(np.array([2.0])), min_n=1)
    assert one.p is None and one.mean_diff == 2.0 and one.reason == "needs at least two pairs"


def test_mcnemar_by_hand() -> None:
    # b = 1, c = 9: p = 2·(C(10,0) + C(10,1))/2¹⁰ = 22/1024
    pairs = OptionPairs(
        ("petition", "march", "donate"),
        20,
        both=np.array([5, 0, 3]),
        from_only=np.array([1, 3, 0]),
        to_only=np.array([9, 3, 0]),
    )
    result = mcnemar(pairs, min_n=5)
    assert result.options is not None and result.p is None
    petition = result.options["petition"]
    assert (petition.b, petition.c, petition.statistic) == (1, 9, 1)
    assert petition.p == 22 / 1024 and petition.diff == 8 / 20 and petition.neither == 5
    assert result.options["march"].p == 1.0
    assert result.options["donate"].p is None and result.options["donate"].reason
    json.dumps(wire(result), allow_nan=False)


def test_single_choice_pairs_become_per_option_tables() -> None:
    pairs = OptionPairs.from_single_choice(
        [("a", "a", 4), ("a", "b", 2), ("b", "a", 1), ("b", "c", 3), ("c", "c", 5)],
        options=["a", "b", "c"],
    )
    assert pairs.n_pairs == 15
    assert pairs.both.tolist() == [4, 0, 5]
    assert pairs.from_only.tolist() == [2, 4, 0]
    assert pairs.to_only.tolist() == [1, 2, 3]
    assert pairs.neither.tolist() == [8, 9, 7]


def test_multi_choice_rows_fill_the_neither_cell() -> None:
    pairs = OptionPairs.from_rows(
        [
            ("a", True, True, 2),
            ("a", True, False, 3),
            ("b", False, True, 4),
            ("b", False, False, 6),
        ],
        options=["a", "b"],
        n_pairs=10,
    )
    assert pairs.both.tolist() == [2, 0] and pairs.from_only.tolist() == [3, 0]
    assert pairs.to_only.tolist() == [0, 4] and pairs.neither.tolist() == [5, 6]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_wilcoxon_equals_scipy_on_raw_differences(data: st.DataObject) -> None:
    table = data.draw(pair_table(data.draw(scale())))
    before, after = expand_pairs(table)
    d = after - before
    result = wilcoxon_signed_rank(table.differences(), min_n=1)
    assert close(result.mean_diff, d.mean(), abs_tol=1e-12)
    assert result.n_nonzero == np.count_nonzero(d)
    if not d.any():
        assert result.p is None
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        expected = stats.wilcoxon(d, zero_method="wilcox", correction=False, method="asymptotic")
    assert close(result.statistic, expected.statistic)
    assert close(result.z, expected.zstatistic)
    assert close(result.p, expected.pvalue)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(number_values, number_values), min_size=2, max_size=40),
)
def test_paired_t_equals_ttest_rel_on_raw_pairs(pairs: list[tuple[float, float]]) -> None:
    before = np.array([p[0] for p in pairs])
    after = np.array([p[1] for p in pairs])
    d = after - before
    result = paired_t(moments_of(d), min_n=2)
    assert close(result.mean_diff, d.mean(), abs_tol=1e-9)
    if d.std() == 0:
        assert result.p is None
        return
    expected = stats.ttest_rel(after, before)
    ci = expected.confidence_interval()
    assert close(result.statistic, expected.statistic) and close(result.p, expected.pvalue)
    assert close(result.ci_low, ci.low) and close(result.ci_high, ci.high)
    assert result.df == expected.df


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=60))
def test_mcnemar_equals_the_exact_binomial_on_raw_pairs(pairs: list[tuple[bool, bool]]) -> None:
    chose_from = np.array([p[0] for p in pairs])
    chose_to = np.array([p[1] for p in pairs])
    b = int((chose_from & ~chose_to).sum())
    c = int((~chose_from & chose_to).sum())
    table = OptionPairs(
        ("x",),
        len(pairs),
        np.array([(chose_from & chose_to).sum()]),
        np.array([b]),
        np.array([c]),
    )
    result = mcnemar(table, min_n=1).options
    assert result is not None
    assert close(result["x"].diff, chose_to.mean() - chose_from.mean(), abs_tol=1e-12)
    if b + c == 0:
        assert result["x"].p is None
    else:
        # statsmodels mcnemar(exact=True): min(1, 2·Binom(b + c, ½).cdf(min(b, c)))
        expected = min(1.0, 2 * stats.binom.cdf(min(b, c), b + c, 0.5))
        assert close(result["x"].p, expected)
