"""How a figure is written wherever people read it: the report, the charts, the impact sentences.

One rule, so that the same estimate reads the same in a chart's label and in the table under it:
- a mean to two decimals, or three when it is below 0.01 in size (so a slow slope does not read
  "0.00"); an NPS to one decimal;
- a share's level as a whole percentage ("45%"), a share's change in percentage points to one
  decimal (`figure_text` of a share: the caller names the unit, "pts" or "percentage points");
- a true minus sign (U+2212), and never "−0.0" (a value that rounds to zero is zero);
- a p-value to three decimals, "p<0.001" below that;
- rounded from the value's first 12 significant digits (`steady`).
"""

from __future__ import annotations

from feedback.analysis.results import Metric


def steady(value: float) -> float:
    """The value to 12 significant digits, what every written figure is rounded from.

    A number question's mean comes from float sums, which a read served from kept rollups and
    one counted afresh add in different orders: 7.05 one way, 7.050000000000001 the other. A
    decimal tie like that (the mean of 7.0 and 7.1) was written 7.0 by one read and 7.1 by the
    next, with no answer changed. No written figure shows 12 digits, so nothing else moves."""
    return float(f"{value:.12g}")


def figure_text(value: float, metric: Metric, *, signed: bool = False) -> str:
    """A figure, or a change of one, in the metric's unit (percentage points for a share)."""
    value = steady(value)
    if metric == "share":
        scaled, digits = value * 100, 1
    elif metric == "nps":
        scaled, digits = value, 1
    else:
        scaled, digits = value, 3 if 0 < abs(value) < 0.01 else 2
    sign = "+" if signed else ""
    return f"{round(scaled, digits) or 0.0:{sign}.{digits}f}".replace("-", "−")


def share_text(value: float) -> str:
    """A share's level, as a whole percentage."""
    return f"{value * 100:.0f}%"


def p_text(p: float) -> str:
    p = steady(p)
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"
