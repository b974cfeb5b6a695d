"""Sufficient-statistic types: building them from GROUP BY rows, validation, derived values."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.analysis.sufficient import (
    DiffCounts,
    Moments,
    OptionCounts,
    OptionPairs,
    PairTable,
    ScaleCounts,
)
from tests.analysis.tables import close, moments_of


def test_scale_counts_grouped_from_one_group_by() -> None:
    rows = [(1, 5, 3), (1, 2, 1), (2, 4, 2), (3, 5, 1), (1, 5, 1)]
    cells = ScaleCounts.grouped(rows, scale_min=1, scale_max=5)
    assert set(cells) == {1, 2, 3}
    assert cells[1].counts.tolist() == [0, 1, 0, 0, 4]
    assert cells[2].distribution() == {"1": 0, "2": 0, "3": 0, "4": 2, "5": 0}
    assert cells[1].values.tolist() == [1, 2, 3, 4, 5]


def test_scale_counts_keys_may_be_wave_and_segment() -> None:
    rows = [((1, "uk"), 3, 2), ((1, None), 3, 1), ((1, "uk"), 4, 1)]
    cells = ScaleCounts.grouped(rows, scale_min=1, scale_max=5)
    assert cells[(1, "uk")].n == 3 and cells[(1, None)].n == 1


def test_scale_counts_derived_values_are_exact() -> None:
    counts = ScaleCounts(np.arange(1, 6), np.array([3, 0, 0, 0, 4]))
    assert counts.n == 7 and counts.total == 23 and counts.mean == 23 / 7
    # n·Σx² − (Σx)² = 7·103 − 529 = 192 over n(n − 1) = 42
    assert counts.variance == 192 / 42
    # equal rational means are equal floats, whatever the counts (Mann–Kendall ties rely on it)
    doubled = ScaleCounts(np.arange(1, 6), np.array([6, 0, 0, 0, 8]))
    assert doubled.mean == counts.mean


def test_scale_counts_reject_malformed_input() -> None:
    with pytest.raises(ValueError, match="not a point of the scale"):
        ScaleCounts.from_rows([(6, 1)], scale_min=1, scale_max=5)
    with pytest.raises(ValueError, match="not a point of the scale"):
        ScaleCounts.from_rows([(2.5, 1)], scale_min=1, scale_max=5)
    # a numeric column returns whole points as floats
    assert ScaleCounts.from_rows([(4.0, 2)], scale_min=1, scale_max=5).counts.tolist() == [
        0,
        0,
        0,
        2,
        0,
    ]
    with pytest.raises(ValueError, match="negative"):
        ScaleCounts(np.arange(1, 3), np.array([1, -1]))
    with pytest.raises(ValueError, match="increasing"):
        ScaleCounts(np.array([2, 1]), np.array([1, 1]))
    with pytest.raises(ValueError, match="same length"):
        ScaleCounts(np.arange(1, 4), np.array([1, 1]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10), st.integers(0, 10**12)), max_size=30))
def test_scale_counts_sums_are_the_arrays_sums(rows: list[tuple[int, int]]) -> None:
    # n, Σx and Σx² are summed once, at construction, in Python integers: the same figures as
    # summing the arrays, however large the counts.
    built = ScaleCounts.from_rows([(float(v), c) for v, c in rows], scale_min=0, scale_max=10)
    counts = np.zeros(11, dtype=np.int64)
    for value, count in rows:
        counts[value] += count
    checked = ScaleCounts(np.arange(0, 11), counts)
    assert built.counts.tolist() == checked.counts.tolist()
    assert built.values.tolist() == checked.values.tolist()
    values = [int(v) for v in checked.values]
    n = sum(int(c) for c in counts)
    assert (
        (built.n, built.total)
        == (checked.n, checked.total)
        == (
            n,
            sum(v * int(c) for v, c in zip(values, counts, strict=True)),
        )
    )
    assert built.mean == checked.mean and built.variance == checked.variance
    assert not built.values.flags.writeable and not built.counts.flags.writeable


def test_instances_are_immutable_and_own_their_arrays() -> None:
    source = np.array([1, 2, 3])
    counts = ScaleCounts(np.arange(1, 4), source)
    source[0] = 99
    assert counts.counts.tolist() == [1, 2, 3]
    with pytest.raises(ValueError):
        counts.counts[0] = 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        counts.counts = np.array([0, 0, 0])  # type: ignore[misc]


def test_option_counts_single_choice_sum_and_unlisted_options_kept() -> None:
    counts = OptionCounts.from_rows(
        [("b", 2), ("gone", 1), ("a", 3), ("b", 1)], options=["a", "b", "c"]
    )
    assert counts.options == ("a", "b", "c", "gone")
    assert counts.counts.tolist() == [3, 3, 0, 1] and counts.n == 7
    assert counts.count("c") == 0 and counts.count("never") == 0


def test_option_counts_grouped_for_multi_choice() -> None:
    rows = [(1, "a", 4), (1, "b", 3), (2, "b", 5)]
    cells = OptionCounts.grouped(rows, options=["a", "b"], n={1: 5, 2: 6, 3: 2})
    assert cells[1].n == 5 and cells[1].counts.tolist() == [4, 3]
    assert cells[2].distribution() == {"a": 0, "b": 5}
    assert cells[3].n == 2 and cells[3].counts.tolist() == [0, 0]
    with pytest.raises(ValueError, match="more respondents"):
        OptionCounts(("a",), np.array([3]), 2)


def test_moments_need_two_values_for_a_variance() -> None:
    assert Moments(0, 0.0, 0.0).mean is None and Moments(0, 0.0, 0.0).variance is None
    assert Moments(1, 4.0, 16.0).variance is None
    assert Moments(2, 4.0, 10.0).variance == 2.0
    with pytest.raises(ValueError):
        Moments(2, float("nan"), 1.0)
    with pytest.raises(ValueError):
        Moments(-1, 0.0, 0.0)


def test_constant_values_have_exactly_zero_variance_despite_rounding() -> None:
    # 0.1 has no exact binary form: Σx² − (Σx)²/n is a few ulps, not 0
    raw = np.full(7, 0.1)
    moments = moments_of(raw)
    assert moments.total_sq - moments.total**2 / moments.n != 0
    assert moments.variance == 0.0


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 10_000).map(lambda v: v / 100), min_size=2, max_size=80),
    st.sampled_from([0.0, 1e4, 1e8]),
)
def test_moments_variance_matches_two_pass_with_a_shift(values: list[float], offset: float) -> None:
    raw = np.array(values) + offset
    moments = moments_of(raw, shift=offset)
    assert close(moments.mean, raw.mean(), abs_tol=1e-9)
    if np.ptp(values) > 0:
        assert close(moments.variance, float(np.var(raw, ddof=1)), rel=1e-9)


def test_diff_counts_and_pair_tables_validate() -> None:
    with pytest.raises(ValueError, match="distinct"):
        DiffCounts(np.array([1.0, 1.0]), np.array([1, 2]))
    with pytest.raises(ValueError, match="same length"):
        PairTable(np.array([1.0]), np.array([1.0, 2.0]), np.array([1]))
    assert PairTable.from_rows([]).differences().n == 0


def test_option_pairs_validate() -> None:
    with pytest.raises(ValueError, match="more pairs"):
        OptionPairs(("a",), 3, np.array([2]), np.array([1]), np.array([1]))
    with pytest.raises(ValueError, match="unknown option"):
        OptionPairs.from_rows([("z", True, False, 1)], options=["a"], n_pairs=3)
    pairs = OptionPairs(("a",), 3, np.array([1]), np.array([1]), np.array([0]))
    assert pairs.neither.tolist() == [1]
