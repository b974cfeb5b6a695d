"""Rollups of the trends statement, per question and wave, kept exact.

The trends statement reads every current answer row of a survey: 1.4 s at 10M rows on
PostgreSQL, and a split by attribute joins each row to its respondent on top (3-5x that;
BENCHMARKS.md, "Segment splits and size"). But the rows it returns for one wave change only when
that wave's answers change, or, for a split by attribute, the organisation's respondents'
attributes. So its rows are kept per question, wave and split in `trend_rollup`, each piece
stamped with two sums it was computed at:

- `answers_seen`: the sum of `answer_change.weight` for the survey and wave. Every write that
  adds, supersedes or deletes current answers of a wave appends a row there in its own
  transaction (`responses.change_log`), so the sum grows with each write and never shrinks.
- `attributes_seen`: the sum of `attribute_change.weight` for the organisation and the attribute
  split by (every change of a respondent's attribute appends a row for it); 0 without a split
  by attribute, which no attribute moves.

A piece is used only while both sums are what it was stamped with. The sums are read before the
statement runs, in the session that runs it: a write committed in between is either in the rows
(the piece then carries sums lower than the current ones, and is recounted once too often) or
after them (the sums differ). Either way no piece is ever used stale. Waves whose sums moved, or
that have no piece yet, are counted by the statement as before (restricted to those waves), and
their pieces written: so a request costs what its changed waves cost, usually the open one.

A kept piece holds the rows as the database summed them; counted afresh, a float sum may differ
in its last bits, as PostgreSQL's parallel plans already make two runs of one statement differ.
Counts are the same to the unit.

Pieces are written through the primary's sessions (a replica cannot write), in a transaction of
their own once the rows are read. A piece made from a replica's rows carries the replica's sums,
so it is valid exactly where those sums are the current ones.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import msgspec
from sqlalchemy import func, literal, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.analysis.cells import CHANNEL_SEGMENT, AggregateRow
from feedback.analysis.models import TrendRollup
from feedback.db import begin_write, upsert_for
from feedback.responses.models import AnswerChange, AttributeChange

log = logging.getLogger(__name__)

# Six parameters a piece, under SQLite's 32,766 a statement.
_PIECES_A_STATEMENT = 1000
_encode = msgspec.json.Encoder().encode
# Decoded into the rows themselves, in C: built in Python they were an eighth of a request.
_decode = msgspec.json.Decoder(list[AggregateRow]).decode


# How an attribute's values make segments (`responses.queries.attribute_segment`). Part of the
# spec, so pieces counted under an earlier rule (blanks and the text "null" were segments of
# their own) are never read as this one's.
ATTRIBUTE_SEGMENTS: Final = "blank and the text null are missing"


@dataclass(frozen=True, slots=True)
class Rollups:
    """Where pieces are written: the primary's sessions."""

    sessions: async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class Kept:
    """What a read of the rollups found: the rows of the pieces still valid, the (question key,
    wave) pairs they cover, the waves to count afresh, and the sums read."""

    rows: list[AggregateRow]
    valid: set[tuple[str, int]]
    missing: set[int]
    answers: dict[int, int]
    attributes: int


def spec_of(
    key: str,
    counting: object,
    *,
    segment: str | None,
    channels: Sequence[str] | None,
    latest_only: bool,
) -> str:
    """What decides a question's rows besides its wave: its key, how its branches count
    (`counting`, any JSON-able value), the split and its filters; as a hash."""
    filters = None if channels is None else sorted(set(channels))
    by_attribute = segment is not None and segment != CHANNEL_SEGMENT
    rule = ATTRIBUTE_SEGMENTS if by_attribute else None
    payload = msgspec.json.encode([key, counting, segment, filters, latest_only, rule])
    return hashlib.sha256(payload).hexdigest()


async def read(
    session: AsyncSession,
    *,
    survey_id: uuid.UUID,
    org_id: uuid.UUID,
    specs: Mapping[str, str],
    waves: Sequence[int],
    attribute: str | None,
    with_rows: bool = True,
) -> Kept:
    """The sums, then the pieces of `specs` (question key → spec) for `waves` still valid;
    `attribute`: the respondent attribute the pieces are split by, if any. Without
    `with_rows`, which pieces are valid only, by their sums (what the worker needs to know
    what to count)."""
    answers = {
        wave: int(total)
        for wave, total in await session.execute(
            select(AnswerChange.wave_number, func.sum(AnswerChange.weight))
            .where(AnswerChange.survey_id == survey_id)
            .group_by(AnswerChange.wave_number)
        )
    }
    attributes = 0
    if attribute is not None:
        total = await session.scalar(
            select(func.sum(AttributeChange.weight)).where(
                AttributeChange.org_id == org_id, AttributeChange.attribute == attribute
            )
        )
        attributes = int(total or 0)
    key_of = {spec: key for key, spec in specs.items()}
    pieces = await session.execute(
        select(
            TrendRollup.spec,
            TrendRollup.wave_number,
            TrendRollup.answers_seen,
            TrendRollup.attributes_seen,
            TrendRollup.rows if with_rows else literal(""),
        ).where(
            TrendRollup.survey_id == survey_id,
            TrendRollup.spec.in_(list(key_of)),
            TrendRollup.wave_number.in_(list(waves)),
        )
    )
    rows: list[AggregateRow] = []
    valid: set[tuple[str, int]] = set()
    for spec, wave, answers_seen, attributes_seen, text in pieces:
        if answers_seen != answers.get(wave, 0) or attributes_seen != attributes:
            continue
        if with_rows:
            try:
                rows.extend(_decode(text))
            except msgspec.ValidationError:
                continue  # not what this version writes: counted again, and rewritten
        valid.add((key_of[spec], wave))
    missing = {w for w in waves for key in specs if (key, w) not in valid}
    return Kept(rows, valid, missing, answers, attributes)


async def keep(
    rollups: Rollups,
    *,
    survey_id: uuid.UUID,
    specs: Mapping[str, str],
    kept: Kept,
    counted: Iterable[AggregateRow],
) -> None:
    """Write the pieces of every (question, wave) that `kept` lacked, from the rows `counted`
    for its missing waves (a question without answers in a wave gets an empty piece, so it is
    not counted again). A failed write only costs the next request a recount."""
    by_place: dict[tuple[str, int], list[AggregateRow]] = defaultdict(list)
    for r in counted:
        by_place[(r.key, r.wave)].append(r)
    pieces = [
        {
            "survey_id": survey_id,
            "spec": spec,
            "wave_number": wave,
            "answers_seen": kept.answers.get(wave, 0),
            "attributes_seen": kept.attributes,
            "rows": _encode(by_place.get((key, wave), [])).decode(),
        }
        for key, spec in specs.items()
        for wave in sorted(kept.missing)
        if (key, wave) not in kept.valid
    ]
    if not pieces:
        return
    try:
        async with rollups.sessions() as session:
            await begin_write(session)
            for start in range(0, len(pieces), _PIECES_A_STATEMENT):
                insert = upsert_for(session)(TrendRollup).values(
                    pieces[start : start + _PIECES_A_STATEMENT]
                )
                await session.execute(
                    insert.on_conflict_do_update(
                        index_elements=["survey_id", "spec", "wave_number"],
                        set_={
                            "answers_seen": insert.excluded.answers_seen,
                            "attributes_seen": insert.excluded.attributes_seen,
                            "rows": insert.excluded.rows,
                        },
                    )
                )
            await session.commit()
    except SQLAlchemyError:
        # The answer stands (it was counted); only the next request will count again.
        log.warning("could not keep trend rollups for survey %s", survey_id, exc_info=True)
