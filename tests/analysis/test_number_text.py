"""The one rule for writing figures (analysis/number_text.py), which the report, the charts and
the impact sentences all follow."""

from __future__ import annotations

import math

import pytest

from feedback.analysis.number_text import figure_text, p_text, share_text
from feedback.analysis.results import Metric


@pytest.mark.parametrize(
    ("value", "metric", "signed", "text"),
    [
        (3.14159, "mean", False, "3.14"),
        (-0.25, "mean", True, "−0.25"),
        (0.25, "mean", True, "+0.25"),
        (0.0042, "mean", True, "+0.004"),  # a slow slope keeps a digit that is not zero
        (-0.0042, "mean", False, "−0.004"),
        (0.01, "mean", False, "0.01"),
        (-0.0004, "mean", True, "+0.000"),  # rounds to zero: no minus
        (0.0, "mean", True, "+0.00"),
        (12.345, "nps", False, "12.3"),
        (-0.04, "nps", True, "+0.0"),  # never "−0.0"
        (-7.96, "nps", True, "−8.0"),
        (0.0234, "share", True, "+2.3"),  # percentage points
        (-0.1, "share", False, "−10.0"),
    ],
)
def test_figures_are_written_by_one_rule(
    value: float, metric: Metric, signed: bool, text: str
) -> None:
    assert figure_text(value, metric, signed=signed) == text


def test_a_share_level_is_a_whole_percentage() -> None:
    assert [share_text(v) for v in (0.0, 0.454, 0.456, 1.0)] == ["0%", "45%", "46%", "100%"]


def test_p_values_have_three_decimals_down_to_one_in_a_thousand() -> None:
    assert [p_text(p) for p in (0.5, 0.0123, 0.001, 0.000999)] == [
        "p=0.500",
        "p=0.012",
        "p=0.001",
        "p<0.001",
    ]


@pytest.mark.parametrize("tie", [7.125, 0.005, -2.345, 10.45])
def test_a_figure_on_a_decimal_tie_reads_the_same_however_its_sums_were_added(tie: float) -> None:
    # A mean from float sums differs in its last bits between a read served from kept rollups
    # and one counted afresh; on a decimal tie that flipped the written figure (7.12 / 7.13).
    near = [math.nextafter(tie, -math.inf), tie, math.nextafter(tie, math.inf)]
    assert len({figure_text(v, "mean") for v in near}) == 1
    assert len({p_text(abs(v) / 100) for v in near}) == 1
