"""Which segment cells of a wave are hidden, and why (docs/statistics.md "Suppression").

Pure: no I/O. A cell is one value of the split attribute (or channel) in one wave.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

from feedback.analysis.results import Suppression, is_suppressed

K = TypeVar("K", bound=Hashable)


def _name(key: Hashable) -> str:
    # The `null` segment (respondents without the attribute) is named as the answer names it.
    return "null" if key is None else str(key)


def suppressed_cells(total_n: int, cells: Mapping[K, int], min_n: int) -> dict[K, Suppression]:
    """The cells of one wave to hide, each with its reason.

    `cells` maps every segment value of the wave (the `null` segment included, so the cells
    partition the total) to its n. Every cell below `min_n` is `small`. Since the total and every
    shown cell are published, the total minus the shown cells is the combined figure of the
    hidden ones, so that combination must itself cover at least `min_n` answers: when the small
    cells hold at least one answer but fewer than `min_n` together, the smallest other cell
    (fewest answers; ties by name) is hidden too as `complementary`, and so on until they do.
    Every other cell has at least `min_n` answers, so one complementary cell always suffices:
    the smallest sufficient one. When the total is itself below `min_n`, every cell is small.
    """
    hidden: dict[K, Suppression] = {
        key: "small" for key, n in cells.items() if is_suppressed(n, min_n)
    }
    if is_suppressed(total_n, min_n):
        return dict.fromkeys(cells, "small")
    hidden_n = sum(cells[key] for key in hidden)
    if hidden_n == 0:
        return hidden
    shown = sorted((key for key in cells if key not in hidden), key=lambda k: (cells[k], _name(k)))
    for key in shown:
        if hidden_n >= min_n:
            break
        hidden[key] = "complementary"
        hidden_n += cells[key]
    return hidden
