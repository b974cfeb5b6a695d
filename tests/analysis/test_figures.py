"""The pure assembly of figures, without a database: hand-built cells in, the figures of
docs/statistics.md out (estimates, changes within a run, trends per run, complementary
suppression)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from feedback.analysis.catalogue import catalogue, versions_in_effect
from feedback.analysis.cells import Cell, CellStats
from feedback.analysis.changes import mann_whitney, with_q_values
from feedback.analysis.estimates import scale_estimate
from feedback.analysis.figures import QuestionTrends, question_trends
from feedback.analysis.series import change_pairs
from feedback.analysis.sufficient import ScaleCounts
from feedback.analysis.trend import mann_kendall
from feedback.surveys.definition import Definition
from tests.builders.surveys import pulse_definition

MIN_N = 5


@dataclass(frozen=True)
class Wave:
    number: int
    label: str
    opens_at: datetime
    closes_at: datetime | None


WAVES = [
    Wave(n, f"2025-{n:02d}", datetime(2025, n, 1, tzinfo=UTC), datetime(2025, n + 1, 1, tzinfo=UTC))
    for n in range(1, 7)
]


def trust_v2() -> Definition:
    """Version 2: trust on a 1..7 scale, which breaks its series."""
    definition = pulse_definition()
    definition["questions"][0]["scale"] = {"min": 1, "max": 7}
    return Definition.model_validate(definition)


def scale(points: int, counts: list[int]) -> ScaleCounts:
    return ScaleCounts(np.arange(1, points + 1), np.array(counts))


def trends(
    cells: dict[Cell, CellStats],
    *,
    breaks: dict[str, list[int]] | None = None,
    by_segment: dict[Cell, CellStats] | None = None,
) -> QuestionTrends:
    versions = [(1, Definition.model_validate(pulse_definition()))]
    if breaks:
        versions.append((2, trust_v2()))
    meta = catalogue(versions, breaks or {})["trust"]
    return question_trends(
        meta,
        locale="en",
        waves=WAVES,
        in_effect={w.number: 1 for w in WAVES},
        totals=cells,
        by_segment=by_segment,
        min_n=MIN_N,
        decisions=[],
    )


COUNTS = {1: [2, 3, 5, 4, 1], 2: [1, 2, 6, 5, 3], 3: [0, 1, 1, 1, 0], 4: [0, 2, 4, 7, 5]}


def test_one_run_equals_the_pure_functions() -> None:
    cells = {Cell(w, 0): CellStats(scale(5, c), None) for w, c in COUNTS.items()}
    got = trends(cells).total
    estimates = {w: scale_estimate(scale(5, c), min_n=MIN_N) for w, c in COUNTS.items()}
    # every opened wave is listed; 5 and 6 have no answers (n 0, suppressed)
    assert [(e.wave.number, e.series, e.estimate.n) for e in got.waves] == [
        (1, 0, 15),
        (2, 0, 17),
        (3, 0, 3),
        (4, 0, 18),
        (5, None, 0),
        (6, None, 0),
    ]
    assert [e.estimate for e in got.waves[:4]] == [estimates[w] for w in (1, 2, 3, 4)]
    pairs = change_pairs([1, 2, 3, 4], suppressed={3})
    assert pairs == [(1, 2), (2, 4)]
    expected = with_q_values(
        [mann_whitney(scale(5, COUNTS[a]), scale(5, COUNTS[b]), from_wave=a) for a, b in pairs]
    )
    assert [got.waves[1].change, got.waves[3].change] == expected
    assert got.waves[0].change is None and got.waves[2].change is None
    (run,) = got.runs
    assert (run.index, run.version, run.waves) == (0, 1, (1, 2, 3, 4))
    shown = [w for w in (1, 2, 4)]
    values = [estimates[w].estimate for w in shown]
    assert run.trend == mann_kendall(shown, [v for v in values if v is not None])


def test_a_break_starts_a_new_run_and_no_change_crosses_it() -> None:
    # wave 3 straddles the break: answers under version 1 (run 0) and version 2 (run 1)
    cells = {
        Cell(1, 0): CellStats(scale(5, COUNTS[1]), 1),
        Cell(2, 0): CellStats(scale(5, COUNTS[2]), 1),
        Cell(3, 0): CellStats(scale(5, [1, 1, 2, 1, 1]), 1),
        Cell(3, 1): CellStats(scale(7, [0, 1, 1, 2, 2, 1, 1]), 2),
        Cell(4, 1): CellStats(scale(7, [1, 1, 1, 2, 3, 2, 1]), 2),
    }
    got = trends(cells, breaks={"trust": [2]}).total
    assert [(r.index, r.version, r.waves) for r in got.runs] == [(0, 1, (1, 2, 3)), (1, 2, (3, 4))]
    entries = {(e.wave.number, e.series): e for e in got.waves}
    assert entries[(3, 1)].change is None  # the first wave of run 1: nothing to compare with
    change = entries[(4, 1)].change
    assert change is not None and change.from_wave == 3
    assert (entries[(3, 0)].version, entries[(3, 1)].version) == (1, 2)


def test_segments_are_suppressed_so_no_cell_can_be_recovered() -> None:
    north, south, small = [2, 3, 5, 4, 1], [1, 2, 6, 5, 3], [0, 1, 1, 0, 0]
    total = [a + b + c for a, b, c in zip(north, south, small, strict=True)]
    by_segment = {
        Cell(1, 0, "north"): CellStats(scale(5, north), None),
        Cell(1, 0, "south"): CellStats(scale(5, south), None),
        Cell(1, 0, None): CellStats(scale(5, small), None),
    }
    got = trends({Cell(1, 0): CellStats(scale(5, total), None)}, by_segment=by_segment)
    assert got.segments is not None
    # the largest first, respondents without the attribute last
    assert list(got.segments) == ["south", "north", None]
    shown = {value: f.waves[0].shown for value, f in got.segments.items()}
    # `null` (n 2) is below min_n; north (15), the smallest other, goes with it
    assert shown == {"south": True, "north": False, None: False}


def test_versions_in_effect_are_those_published_before_each_wave_closed() -> None:
    published = [(datetime(2025, 1, 1, tzinfo=UTC), 1), (datetime(2025, 2, 15, tzinfo=UTC), 2)]
    now = datetime(2025, 3, 10, tzinfo=UTC)
    got = versions_in_effect(WAVES[:3], [*published, (None, 3)], now)
    assert got == {1: 1, 2: 2, 3: 2}
