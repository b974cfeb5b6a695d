"""Where analysis reads from: a PostgreSQL streaming replica when one is configured
(`FEEDBACK_READ_DATABASE_URL`), the primary otherwise.

Analysis, charts, reports and exports only read, and at scale they are most of the database's
work; a replica takes that work off the primary, which keeps taking submissions. A replica runs
behind: each read is first asked how fresh the replica is, and answers carry that instant
(`as_of`), so nobody mistakes a lagging figure for the latest one.

The policy, in order:
- the replica is used when it has replayed everything it received from a streaming primary
  (then it is as fresh as the request: `as_of` is now), or when its last replayed commit is at
  most `max_lag` old (`as_of` is that commit's time);
- otherwise (lagging more, or not streaming and stale) the read goes to the primary, `as_of` now;
- when the replica cannot be reached, the read goes to the primary and the replica is left
  alone for `retry_after` before it is tried again, so a dead replica costs one failed connect
  every few seconds rather than one per request.
Falling back rather than refusing (503) is deliberate: the primary can always answer exactly,
and an analyst would rather wait a little longer than not at all.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

# One round trip: is it a replica, how long ago was the commit it last replayed (by the database's
# own clock, so the lag is a difference of two readings of one clock, whatever the app's `now`),
# has it replayed all it received, and is it still receiving.
_FRESHNESS = text(
    "SELECT pg_is_in_recovery(),"
    " EXTRACT(EPOCH FROM statement_timestamp() - pg_last_xact_replay_timestamp()),"
    " pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn(),"
    " EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')"
)


@dataclass(frozen=True, slots=True)
class ReadTarget:
    """Where one request reads, and how fresh what it reads is at least."""

    sessions: async_sessionmaker[AsyncSession]
    source: Literal["primary", "replica"]
    as_of: datetime


@dataclass(frozen=True, slots=True)
class Freshness:
    """What the replica said about itself."""

    in_recovery: bool
    # How long ago the last replayed commit was made; None before anything was replayed.
    replay_lag: timedelta | None
    caught_up: bool
    streaming: bool

    def as_of(self, now: datetime) -> datetime | None:
        """The instant, on the request's clock (`now`), the replica's data is complete up to;
        None when it cannot say."""
        if not self.in_recovery or (self.streaming and self.caught_up):
            return now
        if self.replay_lag is None:
            return None
        return now - max(self.replay_lag, timedelta(0))


class ReadRouter:
    """Chooses the read target per request; one per application."""

    def __init__(
        self,
        primary: async_sessionmaker[AsyncSession],
        replica: async_sessionmaker[AsyncSession] | None = None,
        *,
        max_lag: timedelta = timedelta(seconds=30),
        retry_after: float = 5.0,
        check_timeout: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._primary = primary
        self._replica = replica
        self._max_lag = max_lag
        self._retry_after = retry_after
        self._check_timeout = check_timeout
        # The rest after a failure is a duration, not a date: timed on the monotonic clock.
        self._monotonic = monotonic
        self._down_until: float | None = None

    async def choose(self, now: datetime) -> ReadTarget:
        primary = ReadTarget(self._primary, "primary", now)
        resting = self._down_until is not None and self._monotonic() < self._down_until
        if self._replica is None or resting:
            return primary
        try:
            freshness = await asyncio.wait_for(self._ask(self._replica), self._check_timeout)
        except Exception as exc:
            # Whatever stops the replica answering (refused, timed out, restarting, not a
            # PostgreSQL at all), the primary can answer: note it and read there.
            log.warning("read replica unavailable (%s); reading from the primary", exc)
            self._down_until = self._monotonic() + self._retry_after
            return primary
        self._down_until = None
        as_of = freshness.as_of(now)
        if as_of is None or now - as_of > self._max_lag:
            return primary
        return ReadTarget(self._replica, "replica", as_of)

    @staticmethod
    async def _ask(sessions: async_sessionmaker[AsyncSession]) -> Freshness:
        async with sessions() as session:
            row = (await session.execute(_FRESHNESS)).one()
        lag = None if row[1] is None else timedelta(seconds=float(row[1]))
        return Freshness(bool(row[0]), lag, bool(row[2]), bool(row[3]))
