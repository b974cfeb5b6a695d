"""Runs between series breaks, the comparable previous wave and min_n (suppression of segment
cells: test_suppression.py)."""

from __future__ import annotations

import pytest

from feedback.analysis.series import (
    Run,
    change_pairs,
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
