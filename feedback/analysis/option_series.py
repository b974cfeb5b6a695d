"""Which options of a choice question keep their series across a series break (no I/O).

Removing or adding an option of a single-choice question breaks the question's series: its
chi-square test compares the whole distribution, which is only comparable over the same set of
options. But an option that keeps its key and its label is still the same option: its share's
trend, and the panel of who chose it, continue across the break. Only what changed breaks.
"""

from __future__ import annotations

from collections.abc import Sequence

from feedback.surveys.definition import MultiChoiceQuestion, Question, SingleChoiceQuestion


def kept_options(before: Question | None, after: Question | None) -> frozenset[str]:
    """The options of two definitions of a question that keep their key and label; none unless
    both are choice questions of the same type."""
    if not (
        isinstance(before, SingleChoiceQuestion | MultiChoiceQuestion)
        and isinstance(after, SingleChoiceQuestion | MultiChoiceQuestion)
        and before.type == after.type
    ):
        return frozenset()
    labels = {o.key: o.label for o in before.options}
    return frozenset(o.key for o in after.options if labels.get(o.key) == o.label)


def option_runs(series: Sequence[Question | None], run: int, option: str) -> tuple[int, ...]:
    """The runs, oldest first and ending at `run`, over which `option` keeps its series: each
    earlier run joins while the option kept its key and label into the next one."""
    runs = [run]
    while runs[0] > 0 and option in kept_options(series[runs[0] - 1], series[runs[0]]):
        runs.insert(0, runs[0] - 1)
    return tuple(runs)


def kept_across(series: Sequence[Question | None]) -> dict[tuple[int, int], frozenset[str]]:
    """Per pair of runs (earlier, later) with a break between them, the options that keep their
    series from one to the other; pairs that keep none are left out."""
    out: dict[tuple[int, int], frozenset[str]] = {}
    for start in range(len(series)):
        kept: frozenset[str] | None = None
        for end in range(start + 1, len(series)):
            step = kept_options(series[end - 1], series[end])
            kept = step if kept is None else kept & step
            if not kept:
                break
            out[(start, end)] = kept
    return out
