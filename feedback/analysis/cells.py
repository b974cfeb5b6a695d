"""What the trends aggregate counts and what it hands back, as plain data (no I/O).

A question's answers fall into runs: the waves between two series breaks. Each answer's version
decides its run (`QuestionQuery.run_of`); a cell is one wave of one run, for the total or for
one value of a respondent attribute (a segment).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from feedback.analysis.sufficient import Moments, OptionCounts, ScaleCounts

Kind = Literal["scale", "single", "multi", "number", "text"]
Stats = ScaleCounts | OptionCounts | Moments | int
"""One cell's sufficient statistics: counts per scale point, per option, moments, or (text) n."""

Waves = tuple[int, int] | frozenset[int]
"""The waves to count: a range (first, last), or a set of wave numbers."""

# `segment=channel` splits by the channel of each response's latest revision, not by an attribute.
CHANNEL_SEGMENT = "channel"

SegmentValue = str | None
"""A respondent attribute's value as text; None for respondents without it (the `null` segment)."""


@dataclass(frozen=True, slots=True)
class Counting:
    """How the answers of one run of a question are counted.

    `scale` bounds integer scales; `options` orders choices (options answered but not listed are
    appended by `OptionCounts`). Numbers are summed around a value of the answers themselves,
    read when they are counted (`queries`), not around anything the definition says.
    """

    kind: Kind
    scale: tuple[int, int] | None = None
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QuestionQuery:
    """One question to count. `breaks` are the versions at which its series breaks, ascending;
    `runs[i]` counts the answers given under a version with exactly i breaks at or before it
    (None for a run in which the key was never asked)."""

    key: str
    runs: tuple[Counting | None, ...]
    breaks: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if len(self.runs) != len(self.breaks) + 1:
            raise ValueError("a question has one run more than it has breaks")

    def run_of(self, version: int) -> int:
        return bisect_right(self.breaks, version)

    @property
    def only(self) -> Counting | None:
        """The counting of a question whose series never breaks."""
        return self.runs[0] if not self.breaks else None


@dataclass(frozen=True, slots=True)
class Cell:
    """Where a cell's answers sit: a wave, a run of the question, a segment value."""

    wave: int
    run: int
    segment: SegmentValue = None


@dataclass(slots=True)
class CellStats:
    """A cell's statistics and the newest version its answers were given under (None when the
    question's series never breaks, so versions were not read)."""

    stats: Stats
    version: int | None


class AggregateRow(NamedTuple):
    """One row of the trends statement, in its column order, and for a number row the value
    its sums are centred on (`total` = Σ(x − shift), `total_sq` = Σ(x − shift)²).

    The shift travels with the sums, into the rollups too, because it is chosen from the answers
    each time a wave is counted: a row is read correctly whatever shift it was counted with. It
    is last and defaults to None (counts have none) so that rollup pieces of counts written
    before it existed still decode; pieces of numbers written before it are never read (their
    spec differs, `queries.branch_kinds`)."""

    key: str
    wave: int
    version: int | None
    segment: SegmentValue
    value: float | None
    option: str | None
    n: int
    n_first: int
    total: float | None
    total_sq: float | None
    shift: float | None = None


def pooled_stats(stats: Sequence[Stats], counting: Counting) -> Stats:
    """The statistics of several cells' answers taken together, exactly as if one cell had
    held them all (the cells hold different respondents: segment values of one wave and run)."""
    if not stats:
        raise ValueError("pooling needs at least one cell")
    if all(isinstance(s, int) for s in stats):
        return sum(s for s in stats if isinstance(s, int))
    if all(isinstance(s, ScaleCounts) for s in stats):
        return ScaleCounts.pooled([s for s in stats if isinstance(s, ScaleCounts)])
    if all(isinstance(s, OptionCounts) for s in stats):
        cells = [s for s in stats if isinstance(s, OptionCounts)]
        return OptionCounts.pooled(cells, options=counting.options)
    if all(isinstance(s, Moments) for s in stats):
        return Moments.pooled([s for s in stats if isinstance(s, Moments)])
    raise ValueError("only cells of one kind can be pooled")


def pooled(cells: Sequence[CellStats], counting: Counting) -> CellStats:
    """Several cells as one: pooled statistics, and the newest version among them."""
    versions = [c.version for c in cells if c.version is not None]
    return CellStats(
        pooled_stats([c.stats for c in cells], counting), max(versions) if versions else None
    )


def in_waves(column: Any, waves: Waves | None) -> list[Any]:
    """The filter of `column` (a wave number) to `waves`; none for None."""
    if waves is None:
        return []
    if isinstance(waves, frozenset):
        return [column.in_(sorted(waves))]
    return [column.between(*waves)]
