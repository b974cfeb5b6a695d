"""The splits of trends that readers ask for (`trend_split`): recorded as they are used, and
claimed by the worker that warms their rollups (`analysis.warming`).

A split is a segment (None: no split) and a channel filter (None: every channel); its rollup
pieces exist for every question of the survey, so one record covers every request of that
split, whatever questions, dates or `min_n` it asks for.

Its use is recorded at most once a day: a write on every read would make each reader wait for a
transaction on the primary. Workers claim a split before counting it, with a lease
(`warming_until`) taken by one UPDATE that only succeeds where no other worker holds an unexpired
one, so that several workers (one per `feedback serve` process) do not count the same split at
once; a worker that dies mid-count leaves its lease to expire.

A split can also be *adopted* (`adopt_org_splits`): once an analyst is reading a survey's trends,
the splits their organisation read on any of its surveys lately, and the split by channel, are
recorded for that survey too, so that the worker has counted them before the analyst first asks
(the first request of a split counts every wave: 7-10 s at 10M answer rows).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

import msgspec
from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.analysis.cells import CHANNEL_SEGMENT
from feedback.analysis.models import TrendSplit
from feedback.analysis.rollups import Rollups
from feedback.db import transaction, upsert_for
from feedback.surveys.models import Survey

log = logging.getLogger(__name__)

NOTE_USE_EVERY = timedelta(days=1)
# Longer than counting any split takes (a split by attribute at 30M answer rows: ~21 s).
WARM_LEASE = timedelta(minutes=10)


def split_key(segment: str | None, channels: Sequence[str] | None) -> str:
    """The key of a split: its segment and channel filter (in any order), as a hash."""
    return hashlib.sha256(msgspec.json.encode([segment, _filters(channels)])).hexdigest()


def _filters(channels: Sequence[str] | None) -> list[str] | None:
    return None if channels is None else sorted(set(channels))


async def note_use(
    session: AsyncSession,
    rollups: Rollups,
    *,
    survey_id: uuid.UUID,
    segment: str | None,
    channels: Sequence[str] | None,
    at: datetime,
) -> None:
    """Record that a reader asked for the split at `at`, unless that was recorded less than a
    day before (`session`: the reader's, to look; the write goes through `rollups`' sessions,
    the primary's). A failed write is only logged: the split is recorded at its next use."""
    key = split_key(segment, channels)
    used_at = await session.scalar(
        select(TrendSplit.used_at).where(TrendSplit.survey_id == survey_id, TrendSplit.key == key)
    )
    # A clock set back records it again.
    if used_at is not None and timedelta(0) <= at - used_at < NOTE_USE_EVERY:
        return
    try:
        async with transaction(rollups.sessions) as writer:
            insert = upsert_for(writer)(TrendSplit).values(
                survey_id=survey_id,
                key=key,
                segment=segment,
                channels=_filters(channels),
                used_at=at,
            )
            await writer.execute(
                insert.on_conflict_do_update(
                    index_elements=["survey_id", "key"], set_={"used_at": insert.excluded.used_at}
                )
            )
    except SQLAlchemyError:
        log.warning("could not record a trends split of survey %s", survey_id, exc_info=True)


UNSPLIT = split_key(None, None)


async def adopt_org_splits(rollups: Rollups, *, since: datetime) -> int:
    """Record, for each survey whose trends without a split were read since `since`, the splits
    by a segment (without a channel filter) read since then on any survey of its organisation,
    and its split by channel, each as used when it last was in the organisation (channel: at
    least when the survey was last read); the number of records written or moved later. A
    failure is only logged: the splits are adopted at the next round.

    Only segments are adopted, not channel filters: which channels an analyst filters by is a
    question about one survey. A survey is "read" by its trends without a split, which adoption
    never records, so adopted records do not keep a survey in view by themselves. Nothing is
    written when every record holds (the usual round): the records are read in a transaction
    that does not take SQLite's write lock."""
    try:
        async with transaction(rollups.sessions, write=False) as session:
            wanted = await _wanted(session, since)
        if not wanted:
            return 0
        async with transaction(rollups.sessions) as session:
            for (survey_id, segment), used_at in wanted.items():
                insert = upsert_for(session)(TrendSplit).values(
                    survey_id=survey_id,
                    key=split_key(segment, None),
                    segment=segment,
                    channels=None,
                    used_at=used_at,
                )
                await session.execute(
                    insert.on_conflict_do_update(
                        index_elements=["survey_id", "key"],
                        set_={"used_at": insert.excluded.used_at},
                        # A reader, or another worker, may have recorded a later use since.
                        where=TrendSplit.used_at < insert.excluded.used_at,
                    )
                )
        return len(wanted)
    except SQLAlchemyError:
        log.warning("could not adopt the trends splits of organisations", exc_info=True)
        return 0


async def _wanted(session: AsyncSession, since: datetime) -> dict[tuple[uuid.UUID, str], datetime]:
    """(survey, segment) → the use to record, for the adoptions whose record is missing or
    earlier."""
    recent = await session.execute(
        select(
            Survey.org_id,
            TrendSplit.survey_id,
            TrendSplit.key,
            TrendSplit.segment,
            TrendSplit.channels,
            TrendSplit.used_at,
        )
        .join(Survey, Survey.id == TrendSplit.survey_id)
        .where(TrendSplit.used_at >= since)
    )
    in_view: dict[uuid.UUID, tuple[uuid.UUID, datetime]] = {}
    used: dict[uuid.UUID, dict[str, datetime]] = {}
    for org_id, survey_id, key, segment, channels, used_at in recent:
        if key == UNSPLIT:
            in_view[survey_id] = (org_id, used_at)
        elif segment is not None and channels is None:
            org = used.setdefault(org_id, {})
            org[segment] = max(used_at, org.get(segment, used_at))
    if not in_view:
        return {}
    held = {
        (survey_id, key): used_at
        for survey_id, key, used_at in await session.execute(
            select(TrendSplit.survey_id, TrendSplit.key, TrendSplit.used_at).where(
                TrendSplit.survey_id.in_(list(in_view))
            )
        )
    }
    wanted: dict[tuple[uuid.UUID, str], datetime] = {}
    for survey_id, (org_id, viewed_at) in in_view.items():
        segments = dict(used.get(org_id, {}))
        segments[CHANNEL_SEGMENT] = max(viewed_at, segments.get(CHANNEL_SEGMENT, viewed_at))
        for segment, used_at in segments.items():
            own = held.get((survey_id, split_key(segment, None)))
            if own is None or own < used_at:
                wanted[(survey_id, segment)] = used_at
    return wanted


class Claim:
    """A worker's claim on warming one split: `take` it (False: another worker holds it), and
    `release` it once done, if taken."""

    def __init__(self, rollups: Rollups, survey_id: uuid.UUID, key: str, now: datetime) -> None:
        self._rollups = rollups
        self._where = (TrendSplit.survey_id == survey_id, TrendSplit.key == key)
        self._now = now
        self.held = False

    async def take(self) -> bool:
        async with transaction(self._rollups.sessions) as session:
            taken = await session.execute(
                update(TrendSplit)
                .where(
                    *self._where,
                    or_(TrendSplit.warming_until.is_(None), TrendSplit.warming_until <= self._now),
                )
                .values(warming_until=self._now + WARM_LEASE)
            )
        self.held = cast(CursorResult[Any], taken).rowcount == 1
        return self.held

    async def release(self) -> None:
        if not self.held:
            return
        async with transaction(self._rollups.sessions) as session:
            await session.execute(update(TrendSplit).where(*self._where).values(warming_until=None))
        self.held = False
