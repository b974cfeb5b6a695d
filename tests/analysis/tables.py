"""Hypothesis strategies for count tables, and their expansion back into raw answers.

The library never expands counts; the tests do, so each statistic computed from sufficient
statistics can be compared with SciPy run on the raw values those statistics summarise.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray

from feedback.analysis.sufficient import Moments, OptionCounts, PairTable, ScaleCounts

# One scale per question type the scale statistics serve: likert 1..5, rating 1..7 and 0..10
# (NPS), plus short scales where the top box is the top point only.
SCALES = ((1, 5), (1, 7), (0, 10), (1, 3), (1, 4), (1, 10))


def close(a: float | None, b: float, *, rel: float = 1e-9, abs_tol: float = 1e-12) -> bool:
    return a is not None and math.isclose(a, float(b), rel_tol=rel, abs_tol=abs_tol)


def expand(values: NDArray[np.generic], counts: NDArray[np.int64]) -> NDArray[np.float64]:
    return np.repeat(np.asarray(values, dtype=np.float64), counts)


@st.composite
def scale(draw: st.DrawFn) -> tuple[int, int]:
    return draw(st.sampled_from(SCALES))


@st.composite
def scale_counts(
    draw: st.DrawFn, bounds: tuple[int, int], *, min_n: int = 0, max_count: int = 40
) -> ScaleCounts:
    low, high = bounds
    points = high - low + 1
    # Sparse tables (most points empty) make ties and all-equal samples common.
    counts = draw(
        st.lists(
            st.one_of(st.just(0), st.integers(0, max_count)), min_size=points, max_size=points
        ).filter(lambda c: sum(c) >= min_n)
    )
    return ScaleCounts(np.arange(low, high + 1), np.array(counts))


@st.composite
def option_counts(
    draw: st.DrawFn, options: tuple[str, ...], *, multi: bool, min_n: int = 1
) -> OptionCounts:
    if multi:
        n = draw(st.integers(min_n, 60))
        counts = draw(st.lists(st.integers(0, n), min_size=len(options), max_size=len(options)))
        return OptionCounts(options, np.array(counts), n)
    counts = draw(
        st.lists(
            st.one_of(st.just(0), st.integers(0, 40)), min_size=len(options), max_size=len(options)
        ).filter(lambda c: sum(c) >= min_n)
    )
    return OptionCounts(options, np.array(counts), sum(counts))


# Number answers on a half-unit grid (hours, amounts): realistic, and sums of them are exact.
number_values = st.integers(0, 2 * 168).map(lambda v: v / 2)


def moments_of(raw: NDArray[np.float64], shift: float = 0.0) -> Moments:
    centred = raw - shift
    return Moments(raw.size, math.fsum(centred), math.fsum(centred * centred), shift)


@st.composite
def pair_table(draw: st.DrawFn, bounds: tuple[int, int]) -> PairTable:
    low, high = bounds
    cells = draw(
        st.lists(
            st.tuples(st.integers(low, high), st.integers(low, high), st.integers(1, 15)),
            min_size=1,
            max_size=12,
        )
    )
    return PairTable.from_rows(cells)


def expand_pairs(table: PairTable) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return expand(table.from_values, table.counts), expand(table.to_values, table.counts)
