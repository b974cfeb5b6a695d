"""Keeping the trends rollups of the splits readers use counted, ahead of the readers.

A write retires the rollup pieces of the waves it touched, and a change of a respondent's
attribute every piece of the splits by it (`analysis.rollups`); the next reader of such a
split waits while those waves are counted: 7 s at 10M answer rows for a split by attribute
after an import into every wave (BENCHMARKS.md, "Trends rollups"). The worker calls
`warm_splits` every few seconds: for each split a reader asked for in the last `WARM_FOR`
(`trend_split`), it finds the waves whose pieces no longer hold, from their sums alone, and
counts and keeps them as that reader's request would have, once a closed wave is among them
(the open wave alone, retired by every submission, is left to the reader: one wave). A split
whose pieces all hold costs three small reads. A split is counted by one worker at a time
(`splits.Claim`, a lease): each `feedback serve` process runs a worker, and two counting the
same split at once would double the work for nothing. Before each round the worker lets the
surveys being read adopt their organisation's splits (`splits.adopt_org_splits`), so that a
split's first request on a survey is served from rollups too.

What is kept is exactly what a request keeps (the same statement, stamped with the same sums),
so a reader is served the same figures whether the worker or another reader counted them. A
request that arrives while the worker counts a wave counts it too; both keep the same rows.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.analysis import service, splits
from feedback.analysis.models import TrendSplit
from feedback.analysis.rollups import Rollups
from feedback.db import transaction
from feedback.read_replica import ReadRouter
from feedback.surveys.models import Survey

log = logging.getLogger(__name__)

# A split no reader has asked for in this long is left to be counted by its next reader.
WARM_FOR = timedelta(days=7)
# Splits of one survey warmed, the most recently used first: every filter an analyst tries
# (each set of channels is a split) would otherwise be counted after every write, for a week.
WARM_PER_SURVEY = 20


async def warm_splits(
    sessions: async_sessionmaker[AsyncSession],
    rollups: Rollups,
    *,
    now: datetime,
    per_survey: int = WARM_PER_SURVEY,
    read_router: ReadRouter | None = None,
) -> int:
    """Count and keep the retired waves of the splits used since `now - WARM_FOR` (the
    `per_survey` most recently used of each survey) that no other worker is counting
    (`splits.Claim`), each split in a transaction of its own (one failure is logged and leaves
    the others warmed). Returns the number of waves counted.

    The counts read where requests read: on `read_router`'s choice at `now` (a replica fresh
    enough, else the primary, `sessions`), so that warming does not put the analysis back on the
    primary. Claims and pieces are written through `rollups` (the primary's); a piece counted on
    a replica carries the replica's sums, so it holds exactly where they are the current ones
    (`analysis.rollups`)."""
    if read_router is not None:
        sessions = (await read_router.choose(now)).sessions
    async with transaction(sessions, write=False) as session:
        used = (
            await session.execute(
                select(
                    TrendSplit.survey_id, TrendSplit.key, TrendSplit.segment, TrendSplit.channels
                )
                .where(TrendSplit.used_at >= now - WARM_FOR)
                .order_by(TrendSplit.survey_id, TrendSplit.used_at.desc(), TrendSplit.key)
            )
        ).all()
    seen: Counter[uuid.UUID] = Counter()
    counted = 0
    for survey_id, key, segment, channels in used:
        seen[survey_id] += 1
        if seen[survey_id] > per_survey:
            continue
        claim = splits.Claim(rollups, survey_id, key, now)
        try:
            async with transaction(sessions, write=False) as session:
                survey = await session.get(Survey, survey_id)
                if survey is None:
                    continue  # deleted since: its splits went with it
                counted += await service.warm_split(
                    session,
                    survey,
                    segment=segment,
                    channels=channels,
                    now=now,
                    rollups=rollups,
                    claim=claim.take,
                )
        except Exception:
            log.exception("warming a trends split of survey %s failed", survey_id)
        finally:
            await _release(claim)
    return counted


async def _release(claim: splits.Claim) -> None:
    try:
        await claim.release()
    except Exception:
        # Left to expire: another worker takes the split over after splits.WARM_LEASE.
        log.exception("releasing a trends split failed")
