"""Runs, comparable waves and suppression (docs/statistics.md "Series breaks", "Segments").

A question's waves form one series until a version whose change for that question
`breaks_series`; the waves between two breaks are a run. Estimates are reported across a
break, but change tests and trends stay within a run. A segment is a group of respondents (one
value of an attribute), whose cells `analysis.suppression` hides.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import pairwise

DEFAULT_MIN_N = 5


@dataclass(frozen=True, slots=True)
class Run:
    """Consecutive waves of one question between series breaks.

    `version` is the version of the run's first wave; `starts_at_break` is False only for the
    first run of the requested range (a chart draws a rule before each other one).
    """

    version: int
    waves: tuple[int, ...]
    starts_at_break: bool


def runs(waves: Sequence[tuple[int, int]], breaks: Collection[int]) -> list[Run]:
    """Split `(wave number, version)` pairs, in wave order, at the breaking versions.

    Two consecutive waves are in different runs when a version in `breaks` lies in
    (earlier wave's version, later wave's version]: a break published between two waves counts
    even when no wave was collected under that exact version.
    """
    out: list[Run] = []
    current: list[int] = []
    first_version = previous_number = previous_version = 0
    for number, version in waves:
        if current and number <= previous_number:
            raise ValueError("waves must be in increasing wave order")
        if current and _breaks_between(previous_version, version, breaks):
            out.append(Run(first_version, tuple(current), bool(out)))
            current = []
        if not current:
            first_version = version
        current.append(number)
        previous_number, previous_version = number, version
    if current:
        out.append(Run(first_version, tuple(current), bool(out)))
    return out


def _breaks_between(before: int, after: int, breaks: Collection[int]) -> bool:
    low, high = min(before, after), max(before, after)
    return any(low < v <= high for v in breaks)


def change_pairs(waves: Sequence[int], suppressed: Collection[int]) -> list[tuple[int, int]]:
    """`(from_wave, to_wave)` within one run (`waves` in wave order): every non-suppressed wave
    against the previous non-suppressed one, skipping suppressed waves. A run's first shown wave
    has no pair: change tests never cross a break."""
    return list(pairwise(w for w in waves if w not in suppressed))


def effective_min_n(setting: int, requested: int | None = None) -> int:
    """The survey's `min_n`; a request may raise it, never lower it."""
    return setting if requested is None else max(setting, requested)
