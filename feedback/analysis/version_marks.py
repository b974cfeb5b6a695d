"""Every version change of a question marked on its series, breaking or not (no I/O).

A reworded question keeps its series, yet a jump that coincides with the new wording is worth
seeing: the trends JSON, the chart and the report mark each change a published version made to
the question, at the first wave that version could be answered in, with its kind and whether
it broke the series. A question's first appearance (`added` without a break) starts its series
rather than changing it, so it is not marked.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from feedback.surveys.changes import ChangeKind


@dataclass(frozen=True, slots=True)
class VersionMark:
    """One change to one question at one published version, shown at `wave`."""

    version: int
    wave: int
    published_at: datetime
    kind: ChangeKind
    breaks_series: bool
    detail: str


@dataclass(frozen=True, slots=True)
class RecordedChange:
    """A change as publishing recorded it (`surveys.models.VersionChange`)."""

    key: str
    version: int
    kind: ChangeKind
    breaks_series: bool
    detail: str


def version_marks(
    changes: Iterable[RecordedChange],
    *,
    published_at: Mapping[int, datetime],
    wave_of: Callable[[datetime], int | None],
    waves: Collection[int],
) -> dict[str, tuple[VersionMark, ...]]:
    """Per question key, its marks in version order: each change whose version was published
    in (or before the opening of) one of `waves`; `wave_of` places a publication instant."""
    out: dict[str, list[VersionMark]] = {}
    for change in sorted(changes, key=lambda c: (c.key, c.version)):
        if change.kind == "added" and not change.breaks_series:
            continue
        at = published_at.get(change.version)
        wave = None if at is None else wave_of(at)
        if at is None or wave is None or wave not in waves:
            continue
        out.setdefault(change.key, []).append(
            VersionMark(change.version, wave, at, change.kind, change.breaks_series, change.detail)
        )
    return {key: tuple(marks) for key, marks in out.items()}
