"""Runs between series breaks, the comparable previous wave, min_n and complementary suppression."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.analysis.series import (
    Run,
    change_pairs,
    complementary_suppression,
    effective_min_n,
    runs,
)

WAVES = [(1, 1), (2, 1), (3, 2), (4, 3), (5, 3), (6, 3), (7, 5)]


def test_runs_split_at_breaking_versions() -> None:
    # v3 breaks (e.g. a scale change); v2 only rewords; v4 breaks but no wave ran under it,
    # so the break still falls between wave 6 (v3) and wave 7 (v5)
    result = runs(WAVES, breaks={3, 4})
    assert result == [
        Run(version=1, waves=(1, 2, 3), starts_at_break=False),
        Run(version=3, waves=(4, 5, 6), starts_at_break=True),
        Run(version=5, waves=(7,), starts_at_break=True),
    ]


def test_no_breaks_is_one_run_and_no_waves_none() -> None:
    assert runs(WAVES, breaks=()) == [Run(1, (1, 2, 3, 4, 5, 6, 7), False)]
    assert runs([], breaks={2}) == []
    # a break at the range's first version has no earlier wave to separate
    assert runs([(3, 2), (4, 2)], breaks={2}) == [Run(2, (3, 4), False)]


def test_waves_out_of_order_raise() -> None:
    with pytest.raises(ValueError):
        runs([(2, 1), (1, 1)], breaks=())


def test_change_pairs_skip_suppressed_waves_and_never_cross_a_break() -> None:
    parts = runs(WAVES, breaks={3})
    pairs = [p for run in parts for p in change_pairs(run.waves, suppressed={2, 5})]
    assert pairs == [(1, 3), (4, 6), (6, 7)]
    # wave 4 is the first of its run and wave 5 is itself suppressed: neither is compared
    assert not any(b in (4, 5) for _, b in pairs)
    assert change_pairs((1, 2), suppressed=set()) == [(1, 2)]
    assert change_pairs((1,), suppressed=set()) == []


def test_effective_min_n_can_be_raised_never_lowered() -> None:
    assert effective_min_n(5) == 5
    assert effective_min_n(5, 10) == 10
    assert effective_min_n(5, 2) == 5


def test_one_small_segment_takes_the_next_smallest_with_it() -> None:
    # total 60 shown; "de" (3) alone would be total − the others: suppress "nl" (8) too
    cells = {"uk": 40, "nl": 8, "de": 3, "fr": 9}
    assert complementary_suppression(60, cells, min_n=5) == {"de", "nl"}


def test_several_small_segments_together_below_min_n_take_more() -> None:
    # de + be = 3 < 5: their combined figures would describe 3 people, so add "nl" as well
    cells = {"uk": 40, "nl": 8, "de": 2, "be": 1, "fr": 9}
    assert complementary_suppression(60, cells, min_n=5) == {"de", "be", "nl"}


def test_small_segments_already_covering_min_n_need_nothing_more() -> None:
    cells = {"uk": 40, "de": 4, "be": 3, None: 13}
    assert complementary_suppression(60, cells, min_n=5) == {"de", "be"}


def test_empty_segments_need_no_protection() -> None:
    assert complementary_suppression(60, {"uk": 40, "nl": 20, "de": 0}, min_n=5) == {"de"}
    assert complementary_suppression(60, {"uk": 40, "nl": 20}, min_n=5) == set()


def test_suppressed_total_suppresses_every_cell() -> None:
    assert complementary_suppression(4, {"uk": 3, "nl": 1}, min_n=5) == {"uk", "nl"}


def test_ties_for_next_smallest_go_by_mapping_order() -> None:
    assert complementary_suppression(30, {"a": 10, "b": 10, "c": 2, "d": 8}, min_n=5) == {"c", "d"}
    assert complementary_suppression(30, {"b": 9, "a": 9, "c": 2, "d": 10}, min_n=5) == {"c", "b"}


cells_strategy = st.dictionaries(
    st.sampled_from(["a", "b", "c", "d", "e", "f", None]),
    st.one_of(st.integers(0, 6), st.integers(0, 60)),
    min_size=1,
)


@settings(max_examples=200, deadline=None)
@given(cells_strategy, st.integers(1, 12))
def test_no_suppressed_answers_can_be_recovered_by_subtraction(
    cells: dict[str | None, int], min_n: int
) -> None:
    total = sum(cells.values())
    hidden = complementary_suppression(total, cells, min_n)
    assert {k for k, n in cells.items() if n < min_n} <= hidden
    if total < min_n:
        assert hidden == set(cells)
        return
    # what subtraction reveals is the union of the hidden cells: it must hold no answers or at
    # least min_n of them, and so must every union an attacker could isolate (here: all of them)
    hidden_n = sum(cells[k] for k in hidden)
    assert hidden_n == 0 or hidden_n >= min_n
    # and nothing was suppressed that did not need to be: dropping the largest complementary
    # cell would leave the revealed union below min_n
    extra = [k for k in hidden if cells[k] >= min_n]
    if extra:
        largest = max(extra, key=lambda k: cells[k])
        assert 0 < hidden_n - cells[largest] < min_n
