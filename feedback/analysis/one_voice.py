"""One respondent, one voice per wave: the survey setting `count_per_respondent`.

With `latest` (the default) a respondent's responses in one wave count only through the one
submitted last (ties: the larger `response_id`); the earlier ones are *superseded* and count
nowhere. Anonymous responses (no respondent) cannot be told apart and each count.

The trends aggregate keeps reading the answer index alone: instead of filtering every answer
row by its response, which would make each branch visit the table, a second statement counts
the answers of superseded responses only (few, usually none) and `net_rows` subtracts its rows
from the first's. Counts, sums and sums of squares are additive, so the difference is the
aggregate of the answers that count.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import Select, func, select

from feedback.analysis.cells import AggregateRow, Waves, in_waves
from feedback.responses.models import Response


def superseded_responses(survey_id: uuid.UUID, waves: Waves | None = None) -> Select[Any]:
    """The ids (`response.id`) of the survey's responses (in `waves`, None: all) that a later
    response of the same respondent in the same wave supersedes: each respondent's responses in
    a wave in the order they were submitted (ties: the larger `response_id` later), all but the
    last.

    A window over the responses, not "EXISTS a later one": one pass, whatever the plan, where
    the correlated EXISTS was planned as a loop over every pair of the survey's responses when
    PostgreSQL misjudged how few a wave holds (minutes on the demo's 40,000). The window follows
    the order of `ix_response_one_voice`, which holds every column it reads: an index-only scan
    and no sort (0.5 s for 754,000 responses on PostgreSQL, against 0.7-2.1 s sorting them)."""
    ordered = (
        select(
            Response.id.label("id"),
            func.lead(Response.id)
            .over(
                partition_by=(Response.wave_number, Response.respondent_id),
                order_by=(Response.submitted_at, Response.response_id),
            )
            .label("next_id"),
        )
        .where(
            Response.survey_id == survey_id,
            Response.respondent_id.is_not(None),
            *in_waves(Response.wave_number, waves),
        )
        .subquery("ordered")
    )
    return select(ordered.c.id).where(ordered.c.next_id.is_not(None))


class _Group(NamedTuple):
    key: str
    wave: int
    version: int | None
    segment: str | None
    value: float | None
    option: str | None


def net_rows(
    rows: Iterable[AggregateRow], superseded: Iterable[AggregateRow]
) -> list[AggregateRow]:
    """The aggregate rows minus the superseded answers' rows of the same group; a group left
    with no answer is dropped (its cell, or its option, then has nothing to count)."""
    removed: dict[_Group, AggregateRow] = {}
    for row in superseded:
        removed[_group(row)] = row
    out: list[AggregateRow] = []
    for row in rows:
        gone = removed.get(_group(row))
        if gone is None:
            out.append(row)
            continue
        left = row._replace(
            n=row.n - gone.n,
            n_first=row.n_first - gone.n_first,
            total=_minus(row.total, gone.total),
            total_sq=_minus(row.total_sq, gone.total_sq),
        )
        if left.n > 0:
            out.append(left)
    return out


def _group(row: AggregateRow) -> _Group:
    return _Group(row.key, row.wave, row.version, row.segment, row.value, row.option)


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None else a - (b or 0.0)
