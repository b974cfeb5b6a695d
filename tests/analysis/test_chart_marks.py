"""Version marks on charts: a non-breaking change is drawn apart from a break, and neither
label covers a bar (issue 13, items 3 and 7)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from feedback.analysis.charts import ChartBreak, ChartChange, chart
from tests.analysis.test_charts import CASES, LIKERT


def labels(figure: Figure) -> dict[str, Text]:
    return {t.get_text(): t for t in figure.findobj(Text) if t.get_text()}


def test_a_change_that_keeps_the_series_is_marked_with_its_kind() -> None:
    series = replace(LIKERT, changes=(ChartChange(4, 2, ("reworded",)),))
    shown = labels(chart(series))
    assert "v2 · reworded" in shown and "v3 · new series" in shown
    assert "question changed" in shown
    # Without the change, no such mark or key entry.
    plain = labels(chart(LIKERT))
    assert not any("reworded" in t or "question changed" in t for t in plain)


def test_a_change_at_a_break_is_told_by_the_break_alone() -> None:
    series = replace(LIKERT, changes=(ChartChange(8, 3, ("reworded",)),))
    shown = labels(chart(series))
    assert "v3 · new series" in shown and "v3 · reworded" not in shown


@pytest.mark.parametrize("waves", [6, 8, 12])
def test_break_and_change_labels_cover_no_bar(waves: int) -> None:
    base = CASES["single_choice"]
    points = tuple(replace(p, wave=p.wave) for p in base.points)[:waves]
    series = replace(
        base,
        points=points,
        breaks=(ChartBreak(len(points) - 1, 3),),
        changes=(ChartChange(3, 2, ("options_changed",)),),
    )
    figure = chart(series)
    renderer = FigureCanvasAgg(figure).get_renderer()
    marks = [t for t in figure.findobj(Text) if t.get_text().startswith(("v2 ·", "v3 ·"))]
    assert len(marks) == 2
    bars = [
        r.get_window_extent(renderer)
        for r in figure.findobj(Rectangle)
        if r.get_height() > 0 and r.get_width() < 1 and r.axes is not None
    ]
    assert bars
    for mark in marks:
        box = mark.get_window_extent(renderer)
        assert not any(box.overlaps(bar) for bar in bars), mark.get_text()
