"""Pooling cells (the `other` group of `small_groups=fold`): the pooled statistics of several
cells are exactly those of their answers taken together, for every kind of statistic, and so
is every figure computed from them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.analysis.cells import CellStats, Counting, pooled, pooled_stats
from feedback.analysis.estimates import (
    choice_estimate,
    nps_estimate,
    number_estimate,
    scale_estimate,
)
from feedback.analysis.sufficient import Moments, OptionCounts, ScaleCounts
from tests.analysis.tables import SCALES, moments_of, number_values

OPTIONS = ("walk", "bus", "bike")
# Answers may name options a later version removed: those are appended, sorted, when counted.
ANSWERED = (*OPTIONS, "tram", "car")
cells_of = st.lists  # one list of raw answers per cell


def _scale(answers: list[int], low: int, high: int) -> ScaleCounts:
    return ScaleCounts.from_rows([(a, 1) for a in answers], scale_min=low, scale_max=high)


def _same_scale(a: ScaleCounts, b: ScaleCounts) -> None:
    assert a.values.tolist() == b.values.tolist() and a.counts.tolist() == b.counts.tolist()


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(SCALES).flatmap(
        lambda bounds: st.tuples(
            st.just(bounds),
            cells_of(
                st.lists(st.integers(*bounds), min_size=1, max_size=8), min_size=1, max_size=5
            ),
        )
    ),
    st.integers(1, 10),
)
def test_pooled_scale_counts_are_those_of_the_answers_together(
    drawn: tuple[tuple[int, int], list[list[int]]], min_n: int
) -> None:
    (low, high), cells = drawn
    pooled_counts = ScaleCounts.pooled([_scale(c, low, high) for c in cells])
    together = _scale([a for c in cells for a in c], low, high)
    _same_scale(pooled_counts, together)
    assert scale_estimate(pooled_counts, min_n=min_n) == scale_estimate(together, min_n=min_n)
    if (low, high) == (0, 10):
        assert nps_estimate(pooled_counts, min_n=min_n) == nps_estimate(together, min_n=min_n)


def _single(answers: list[str]) -> OptionCounts:
    return OptionCounts.from_rows([(a, 1) for a in answers], options=OPTIONS)


def _multi(answers: list[frozenset[str]]) -> OptionCounts:
    rows = [(o, 1) for chosen in answers for o in sorted(chosen)]
    return OptionCounts.from_rows(rows, options=OPTIONS, n=len(answers))


@settings(max_examples=200, deadline=None)
@given(
    cells_of(st.lists(st.sampled_from(ANSWERED), min_size=1, max_size=8), min_size=1, max_size=5),
    st.integers(1, 10),
)
def test_pooled_single_choice_counts_are_those_of_the_answers_together(
    cells: list[list[str]], min_n: int
) -> None:
    got = OptionCounts.pooled([_single(c) for c in cells], options=OPTIONS)
    together = _single([a for c in cells for a in c])
    assert (got.options, got.counts.tolist(), got.n) == (
        together.options,
        together.counts.tolist(),
        together.n,
    )
    assert choice_estimate(got, min_n=min_n) == choice_estimate(together, min_n=min_n)


@settings(max_examples=200, deadline=None)
@given(
    cells_of(
        st.lists(st.frozensets(st.sampled_from(ANSWERED)), min_size=1, max_size=8),
        min_size=1,
        max_size=5,
    ),
    st.integers(1, 10),
)
def test_pooled_multi_choice_counts_are_those_of_the_answers_together(
    cells: list[list[frozenset[str]]], min_n: int
) -> None:
    """Respondents who answered but ticked nothing count in n: n adds up, not the ticks."""
    got = OptionCounts.pooled([_multi(c) for c in cells], options=OPTIONS)
    together = _multi([a for c in cells for a in c])
    assert (got.options, got.counts.tolist(), got.n) == (
        together.options,
        together.counts.tolist(),
        together.n,
    )
    assert choice_estimate(got, min_n=min_n) == choice_estimate(together, min_n=min_n)


@settings(max_examples=200, deadline=None)
@given(
    cells_of(st.lists(number_values, min_size=1, max_size=8), min_size=1, max_size=5),
    st.sampled_from([0.0, 40.0, -3.5]),
    st.integers(1, 10),
)
def test_pooled_moments_are_those_of_the_answers_together(
    cells: list[list[float]], shift: float, min_n: int
) -> None:
    """Half-unit answers sum exactly, so the pooled moments are bit-identical."""
    got = Moments.pooled([moments_of(np.array(c), shift) for c in cells])
    together = moments_of(np.array([a for c in cells for a in c]), shift)
    assert got == together
    assert number_estimate(got, min_n=min_n) == number_estimate(together, min_n=min_n)


@given(cells_of(st.integers(0, 50), min_size=1, max_size=6))
def test_pooled_text_counts_add_up(cells: list[int]) -> None:
    assert pooled_stats(cells, Counting("text")) == sum(cells)


def test_a_pooled_cell_keeps_the_newest_version() -> None:
    counting = Counting("scale", scale=(1, 5))
    cells = [
        CellStats(_scale([1, 2], 1, 5), 2),
        CellStats(_scale([5], 1, 5), 3),
        CellStats(_scale([4], 1, 5), None),
    ]
    got = pooled(cells, counting)
    assert got.version == 3 and isinstance(got.stats, ScaleCounts)
    assert got.stats.counts.tolist() == [1, 1, 0, 1, 1]
    assert pooled([CellStats(3, None), CellStats(4, None)], Counting("text")).version is None


def test_pooling_refuses_cells_that_are_not_of_one_question() -> None:
    with pytest.raises(ValueError, match="same scale"):
        ScaleCounts.pooled([_scale([1], 1, 5), _scale([1], 1, 7)])
    with pytest.raises(ValueError, match="same shift"):
        Moments.pooled([Moments(1, 1.0, 1.0, 0.0), Moments(1, 1.0, 1.0, 2.0)])
    with pytest.raises(ValueError, match="one kind"):
        pooled_stats([3, Moments(1, 1.0, 1.0)], Counting("number"))
    with pytest.raises(ValueError, match="at least one"):
        pooled_stats([], Counting("text"))
