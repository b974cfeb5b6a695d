"""Keeping the trends rollups of the splits readers use counted, ahead of the readers.

A write retires the rollup pieces of the waves it touched, and a change of a respondent's
attribute every piece of the splits by it (`analysis.rollups`); the next reader of such a
split waits while those waves are counted: 7 s at 10M answer rows for a split by attribute
after an import into every wave (BENCHMARKS.md, "Trends rollups"). The worker calls
`warm_splits` every few seconds: for each split a reader asked for in the last `WARM_FOR`
(`trend_split`), it finds the waves whose pieces no longer hold, from their sums alone, and
counts and keeps them as that reader's request would have. A split whose pieces all hold costs
three small reads.

What is kept is exactly what a request keeps (the same statement, stamped with the same sums),
so a reader is served the same figures whether the worker or another reader counted them. A
request that arrives while the worker counts a wave counts it too; both keep the same rows.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.analysis import service
from feedback.analysis.models import TrendSplit
from feedback.analysis.rollups import Rollups
from feedback.db import transaction
from feedback.surveys.models import Survey

log = logging.getLogger(__name__)

# A split no reader has asked for in this long is left to be counted by its next reader.
WARM_FOR = timedelta(days=7)


async def warm_splits(
    sessions: async_sessionmaker[AsyncSession], rollups: Rollups, *, now: datetime
) -> int:
    """Count and keep the retired waves of every split used since `now - WARM_FOR`, each split
    in a transaction of its own (one failure is logged and leaves the others warmed). Returns
    the number of waves counted."""
    async with transaction(sessions, write=False) as session:
        splits = (
            await session.execute(
                select(TrendSplit.survey_id, TrendSplit.segment, TrendSplit.channels)
                .where(TrendSplit.used_at >= now - WARM_FOR)
                .order_by(TrendSplit.survey_id, TrendSplit.key)
            )
        ).all()
    counted = 0
    for survey_id, segment, channels in splits:
        try:
            async with transaction(sessions, write=False) as session:
                survey = await session.get(Survey, survey_id)
                if survey is None:
                    continue  # deleted since: its splits went with it
                counted += await service.warm_split(
                    session, survey, segment=segment, channels=channels, now=now, rollups=rollups
                )
        except Exception:
            log.exception("warming a trends split of survey %s failed", survey_id)
    return counted
