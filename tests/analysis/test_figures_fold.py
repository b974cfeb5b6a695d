"""`small_groups=fold` in the pure assembly: the `other` group's figures are those of the pooled
answers, and no change or trend is claimed across waves whose members differ (a multi-choice
question, whose changes and trends are per option)."""

from __future__ import annotations

import numpy as np

from feedback.analysis.catalogue import catalogue
from feedback.analysis.cells import Cell, CellStats, Counting, pooled
from feedback.analysis.changes import two_proportion_z
from feedback.analysis.estimates import choice_estimate
from feedback.analysis.figures import OTHER_CHANGED, QuestionTrends, question_trends
from feedback.analysis.results import NoTrend
from feedback.analysis.sufficient import OptionCounts
from feedback.surveys.definition import Definition
from tests.analysis.test_figures import MIN_N, WAVES
from tests.builders.surveys import pulse_definition

OPTIONS = ("petition", "march", "donate")


def chose(n: int, counts: list[int]) -> CellStats:
    return CellStats(OptionCounts(OPTIONS, np.array(counts), n), None)


# Per wave: a large group, and small ones ("a", "b", "c") that differ from wave to wave.
SEGMENTS = {
    1: {"big": chose(40, [20, 5, 9]), "a": chose(3, [1, 1, 0]), "b": chose(3, [2, 0, 1])},
    2: {"big": chose(40, [22, 6, 8]), "a": chose(2, [2, 0, 0]), "b": chose(4, [1, 1, 1])},
    3: {"big": chose(40, [25, 4, 7]), "a": chose(4, [3, 1, 1]), "c": chose(2, [0, 1, 0])},
}


def folded(segments: dict[int, dict[str, CellStats]] = SEGMENTS) -> QuestionTrends:
    meta = catalogue([(1, Definition.model_validate(pulse_definition()))], {})["actions"]
    by_segment = {Cell(w, 0, v): s for w, cells in segments.items() for v, s in cells.items()}
    totals = {
        Cell(w, 0): pooled(list(cells.values()), Counting("multi", options=OPTIONS))
        for w, cells in segments.items()
    }
    return question_trends(
        meta,
        locale="en",
        waves=WAVES[:3],
        in_effect={w.number: 1 for w in WAVES},
        totals=totals,
        by_segment=by_segment,
        min_n=MIN_N,
        decisions=[],
        small_groups="fold",
    )


def test_other_holds_the_pooled_answers_of_each_waves_small_groups() -> None:
    question = folded()
    assert question.other is not None
    waves = question.other.waves
    assert [w.members for w in waves] == [("a", "b"), ("a", "b"), ("c", "a")]
    pooled = OptionCounts(OPTIONS, np.array([3, 1, 1]), 6)
    assert waves[0].estimate == choice_estimate(pooled, min_n=MIN_N)
    assert question.segments is not None
    assert [w.estimate.suppression for w in question.segments["a"].waves] == ["folded"] * 3
    assert [w.estimate.suppression for w in question.segments["big"].waves] == [False] * 3


def test_no_option_change_or_trend_is_claimed_across_different_members() -> None:
    question = folded()
    assert question.other is not None
    _, second, third = question.other.waves
    # Waves 1 and 2 hold a and b: each option's change is tested as usual.
    assert second.option_changes is not None
    expected = two_proportion_z(
        OptionCounts(OPTIONS, np.array([3, 1, 1]), 6),
        OptionCounts(OPTIONS, np.array([3, 1, 1]), 6),
        from_wave=1,
    )
    assert second.option_changes["petition"].p == expected["petition"].p
    # Wave 3 holds a and c: another group, so no test, and the reason says so.
    assert third.option_changes is not None
    assert {t.p for t in third.option_changes.values()} == {None}
    assert {t.reason for t in third.option_changes.values()} == {OTHER_CHANGED}
    assert {t.q for t in third.option_changes.values()} == {None}
    latest = question.other.latest
    assert latest is not None and latest.option_trends is not None
    assert all(
        isinstance(t, NoTrend) and t.reason == OTHER_CHANGED for t in latest.option_trends.values()
    )
    # The large group's figures are untouched by folding.
    assert question.segments is not None
    big = question.segments["big"].latest
    assert big is not None and big.option_trends is not None
    assert not any(
        isinstance(t, NoTrend) and t.reason == OTHER_CHANGED for t in big.option_trends.values()
    )


def test_folding_is_decided_per_wave() -> None:
    """`x` is large in wave 1 and small in wave 2: shown, then folded with `a`."""
    question = folded(
        {
            1: {"big": chose(40, [20, 5, 9]), "x": chose(30, [3, 1, 0]), "a": chose(6, [1, 1, 1])},
            2: {"big": chose(40, [22, 6, 8]), "x": chose(2, [2, 0, 0]), "a": chose(3, [1, 1, 1])},
        }
    )
    assert question.segments is not None and question.other is not None
    x = [w.estimate.suppression for w in question.segments["x"].waves[:2]]
    assert x == [False, "folded"]
    assert [w.members for w in question.other.waves[:2]] == [(), ("x", "a")]
    assert [w.estimate.n for w in question.other.waves[:2]] == [0, 5]
