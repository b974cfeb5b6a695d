"""The public routes' rate limit: a moving window of `FEEDBACK_PUBLIC_RATE_LIMIT` requests a
minute per (client address, org, survey), held in a store every worker shares.

Moving window (`limits`' MovingWindowRateLimiter): no 60-second span ever holds more than the
limit, unlike a fixed window (twice the limit across a window's edge), and `Retry-After` is
exact: the seconds until the oldest hit in the window ages out. It keeps one timestamp per
hit (at most the limit per key), which is small at our limits.

The store is Redis when `FEEDBACK_REDIS_URL` is set (every host shares it), else a SQLite file
the workers of this host share (`feedback.api.ratelimit_store`). When the store fails (Redis
down, the file unwritable), requests pass: the limit is abuse control, and an outage of it
must not become an outage of the surveys. A warning says so, at most once a minute.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from limits import RateLimitItemPerMinute
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from feedback.api.ratelimit_store import SQLiteStorage
from feedback.config import Settings

log = logging.getLogger("feedback.ratelimit")

WARN_EVERY = 60.0
# Redis must answer fast or not at all: a hit waits at most this long, then fails open.
REDIS_TIMEOUT = 0.5


class PublicRateLimit:
    def __init__(
        self, per_minute: int, storage: Storage, clock: Callable[[], float] = time.time
    ) -> None:
        self.storage = storage
        self._item = RateLimitItemPerMinute(per_minute)
        self._limiter = MovingWindowRateLimiter(storage)
        self._clock = clock
        self._failures = 0
        self._warned_at = -math.inf

    async def hit(self, client: str, org: str, survey: str) -> int:
        """Take a slot: 0 when allowed, else the seconds until one frees up."""
        if self._item.amount == 0:  # FEEDBACK_PUBLIC_RATE_LIMIT=0: no limit
            return 0
        try:
            if await self._limiter.hit(self._item, client, org, survey):
                return 0
            window = await self._limiter.get_window_stats(self._item, client, org, survey)
        except StorageError as exc:
            self._fail_open(exc)
            return 0
        return max(1, math.ceil(window.reset_time - self._clock()))

    def _fail_open(self, exc: StorageError) -> None:
        self._failures += 1
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY:
            log.warning(
                "rate limit store failed; public requests pass unlimited meanwhile "
                "(%d failures since the last warning): %s",
                self._failures,
                exc.storage_error,
            )
            self._warned_at, self._failures = now, 0

    async def close(self) -> None:
        if isinstance(self.storage, SQLiteStorage):
            await self.storage.close()


def storage_for(settings: Settings) -> Storage:
    if settings.redis_url:
        scheme, _, rest = settings.redis_url.partition("://")
        return RedisStorage(
            # limits' names for redis-py's schemes (redis, rediss, unix).
            f"async+{'redis+unix' if scheme == 'unix' else scheme}://{rest}",
            implementation="redispy",
            wrap_exceptions=True,
            key_prefix="feedback",
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
        )
    return SQLiteStorage(settings.resolved_ratelimit_file)


def public_rate_limit(settings: Settings) -> PublicRateLimit:
    return PublicRateLimit(settings.public_rate_limit, storage_for(settings))
