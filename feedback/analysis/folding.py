"""`small_groups=fold`: which segment cells of a wave go into the `other` group, and what is
hidden afterwards (docs/statistics.md "Segments").

Pure: no I/O. Decided per wave (per wave and run, where a break splits a wave), so a value small
in one wave may stand on its own in another.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from feedback.analysis.results import Suppression, is_suppressed
from feedback.analysis.suppression import suppressed_cells

K = TypeVar("K", bound=Hashable)

SmallGroups = Literal["suppress", "fold"]
"""What a segment split does with small cells: hide them (the default), or fold them together."""


class _Other:
    """The `other` group among a wave's cells, named "other" where ties go by name."""

    def __str__(self) -> str:
        return "other"


OTHER = _Other()


def _name(key: Hashable) -> str:
    return "null" if key is None else str(key)


@dataclass(frozen=True, slots=True)
class Fold(Generic[K]):
    """One wave's cells after folding: the values folded into `other`, smallest first (none:
    no `other` in this wave), why `other` is hidden (None: shown), and why each remaining cell
    is hidden (a folded value's own cell is `folded`)."""

    members: tuple[K, ...]
    other: Suppression | None
    hidden: Mapping[K, Suppression]


def fold_cells(total_n: int, cells: Mapping[K, int], min_n: int) -> Fold[K]:
    """Fold the small cells of one wave into `other`, then suppress as `suppressed_cells` does.

    `cells` maps every segment value of the wave to its n (they partition the total). Small
    cells (0 < n < min_n) are folded smallest first (ties by name) until `other` holds at least
    `min_n` answers and the small cells left hold none or at least `min_n` together (fewer
    would cost a large group its figures, hidden as `complementary`): no cell is folded that
    need not be. If every small cell folded still leaves `other` below `min_n`, it is hidden as
    `small` and the complementary rule applies as without folding. A wave whose total is below
    `min_n` folds nothing: every cell is hidden as `small` anyway.
    """
    if is_suppressed(total_n, min_n):
        return Fold((), None, suppressed_cells(total_n, cells, min_n))
    small = sorted(
        (k for k, n in cells.items() if n > 0 and is_suppressed(n, min_n)),
        key=lambda k: (cells[k], _name(k)),
    )
    members: list[K] = []
    other_n = 0
    left = sum(cells[k] for k in small)
    for key in small:
        if not is_suppressed(other_n, min_n) and (left == 0 or not is_suppressed(left, min_n)):
            break
        members.append(key)
        other_n += cells[key]
        left -= cells[key]
    if not members:
        return Fold((), None, suppressed_cells(total_n, cells, min_n))
    remaining: dict[K | _Other, int] = {k: n for k, n in cells.items() if k not in members}
    remaining[OTHER] = other_n
    after = suppressed_cells(total_n, remaining, min_n)
    hidden: dict[K, Suppression] = dict.fromkeys(members, "folded")
    hidden.update({k: why for k, why in after.items() if not isinstance(k, _Other)})
    return Fold(tuple(members), after.get(OTHER), hidden)
