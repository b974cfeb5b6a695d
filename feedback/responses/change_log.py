"""What every write to answers or attributes appends, so rollups of trends stay exact.

`answer_change` gets one row per survey wave whose current answers a write adds, supersedes or
deletes; `attribute_change` one per attribute a change of a respondent's attributes changed. The
rows go in the writer's own transaction (or statement), so a reader sees a write's rows and its
change row together or neither (`analysis.rollups` says why that keeps rollups exact).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Insert, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.db import transaction
from feedback.responses.models import AnswerChange, AttributeChange

# For the PostgreSQL statement that stores a batch of responses: appended from the responses
# it really inserted (its `new` CTE returns their survey and wave).
POSTGRES_FROM_NEW = (
    "INSERT INTO answer_change (survey_id, wave_number) "
    "SELECT DISTINCT survey_id, wave_number FROM new"
)


def answers_changed(waves: Iterable[tuple[uuid.UUID, int]]) -> Insert | None:
    """The insert recording writes to these (survey id, wave number) pairs; None for none."""
    rows = [{"survey_id": s, "wave_number": w} for s, w in sorted(set(waves))]
    return insert(AnswerChange).values(rows) if rows else None


def attributes_changed(org_id: uuid.UUID, names: Iterable[str]) -> Insert | None:
    """The insert recording changes of these attributes of the organisation's respondents;
    None for none."""
    rows = [{"org_id": org_id, "attribute": name} for name in sorted(set(names))]
    return insert(AttributeChange).values(rows) if rows else None


# A wave (or organisation) with more change rows than this has them merged by the worker.
MERGE_ABOVE = 64
# Ids in one DELETE: under SQLite's 32,766 parameters a statement.
_MERGE_AT_ONCE = 10_000


async def merge(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Merge the change rows of each wave, and of each organisation's attribute, into one row
    carrying their summed weight, where there are more than MERGE_ABOVE; the number of rows
    removed. Rollups read only the sums, which a merge keeps, so what is kept stays valid; it
    keeps reading a sum as cheap as the number of waves, however many batches were written.

    Each merge deletes exactly the rows it read (locked on PostgreSQL), so rows appended
    meanwhile by writers are neither lost nor counted twice, and a reader sees the rows before
    the merge or after it, both with the same sum."""
    removed = 0
    for model, keys in (
        (AnswerChange, (AnswerChange.survey_id, AnswerChange.wave_number)),
        (AttributeChange, (AttributeChange.org_id, AttributeChange.attribute)),
    ):
        async with transaction(sessions, write=False) as session:
            crowded = (
                await session.execute(
                    select(*keys).group_by(*keys).having(func.count() > MERGE_ABOVE).limit(1000)
                )
            ).all()
        for values in crowded:
            where = [key == value for key, value in zip(keys, values, strict=True)]
            merged = {key.key: value for key, value in zip(keys, values, strict=True)}
            while True:
                async with transaction(sessions) as session:
                    rows = (
                        await session.execute(
                            select(model.id, model.weight)
                            .where(*where)
                            .order_by(model.id)
                            .limit(_MERGE_AT_ONCE)
                            .with_for_update()
                        )
                    ).all()
                    if len(rows) < 2:
                        break
                    ids = [r.id for r in rows]
                    await session.execute(delete(model).where(model.id.in_(ids)))
                    await session.execute(
                        insert(model).values(**merged, weight=sum(r.weight for r in rows))
                    )
                    removed += len(rows) - 1
                if len(rows) < _MERGE_AT_ONCE:
                    break
    return removed
