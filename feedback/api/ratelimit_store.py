"""A `limits` storage in one SQLite file, shared by every worker process of a host.

`limits` ships memory storage (one process) and network stores (Redis, memcached, MongoDB);
a host without Redis still runs several workers, so their moving windows live in a file they
all open. Only the moving-window strategy is supported: each hit is a row (key, time), and a
hit is taken inside `BEGIN IMMEDIATE`, which holds SQLite's write lock from the count to the
insert, so two processes can never both take the last slot.

The rows are worth nothing after a minute: no fsync (`synchronous=OFF`), and a crash that
loses them only forgets recent hits. A hit is ~40 µs of work in the page cache, done on the
event loop: a hop to a thread costs as much when idle and milliseconds on a busy machine
(BENCHMARKS.md, "Rate limits"). What could block is the file lock another process holds; that
is never waited for in SQLite (busy timeout 0): a busy store is retried after an `asyncio`
sleep, up to BUSY_WAIT seconds, and then the hit fails (and the limit fails open).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from limits.aio.storage import MovingWindowSupport, Storage

T = TypeVar("T")

# Rows of keys nobody hits any more are swept this often (in hits of this process).
SWEEP_EVERY = 1000
# How long a hit waits for another process's write lock before it fails (and fails open).
BUSY_WAIT = 2.0
_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hit (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS hit_key_at ON hit (key, at);
"""


class SQLiteStorage(Storage, MovingWindowSupport):
    STORAGE_SCHEME = ["feedback+sqlite"]

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        wrap_exceptions: bool = True,
    ) -> None:
        super().__init__(wrap_exceptions=wrap_exceptions)
        self.path = path
        self._clock = clock
        self._db: sqlite3.Connection | None = None
        self._hits = 0
        self._longest_expiry = 0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return (sqlite3.Error, OSError)

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        pause, deadline = 0.0005, time.monotonic() + BUSY_WAIT
        while True:
            try:
                return work(self._connection())
            except sqlite3.OperationalError as exc:
                # The primary code: SQLITE_BUSY_RECOVERY, _SNAPSHOT… are busy too.
                if exc.sqlite_errorcode & 0xFF not in _BUSY or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.02)

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # timeout=0: a lock held by another process answers SQLITE_BUSY at once (_run).
            # Not bound to a thread: only ever used by one event loop at a time, one call at a time
            # (a test client runs the app's loop on a thread of its own).
            db = sqlite3.connect(
                self.path, isolation_level=None, timeout=0, check_same_thread=False
            )
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=OFF")
                db.executescript(_SCHEMA)
            except BaseException:
                db.close()
                raise
            self._db = db
        return self._db

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        self._longest_expiry = max(self._longest_expiry, expiry)
        self._hits += 1
        sweep = self._hits % SWEEP_EVERY == 0

        def acquire(db: sqlite3.Connection) -> bool:
            now = self._clock()
            db.execute("BEGIN IMMEDIATE")  # the write lock, or SQLITE_BUSY
            try:
                # This key's expired rows go first, so a busy key stays at `limit` rows.
                db.execute("DELETE FROM hit WHERE key = ? AND at <= ?", (key, now - expiry))
                if sweep:
                    db.execute("DELETE FROM hit WHERE at <= ?", (now - self._longest_expiry,))
                (taken,) = db.execute("SELECT count(*) FROM hit WHERE key = ?", (key,)).fetchone()
                acquired: bool = taken + amount <= limit
                if acquired:
                    db.executemany("INSERT INTO hit VALUES (?, ?)", [(key, now)] * amount)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return acquired

        return await self._run(acquire)

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        def window(db: sqlite3.Connection) -> tuple[float, int]:
            now = self._clock()
            oldest, count = db.execute(
                "SELECT min(at), count(*) FROM hit WHERE key = ? AND at > ?", (key, now - expiry)
            ).fetchone()
            return (float(oldest), int(count)) if count else (now, 0)

        return await self._run(window)

    async def check(self) -> bool:
        await self._run(lambda db: db.execute("SELECT 1").fetchone())
        return True

    async def clear(self, key: str) -> None:
        await self._run(lambda db: db.execute("DELETE FROM hit WHERE key = ?", (key,)))

    async def reset(self) -> int | None:
        return await self._run(lambda db: db.execute("DELETE FROM hit").rowcount)

    # The fixed-window primitives: not offered (this store serves the moving window only).
    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("SQLiteStorage serves the moving-window strategy only")

    async def get(self, key: str) -> int:
        raise NotImplementedError("SQLiteStorage serves the moving-window strategy only")

    async def get_expiry(self, key: str) -> float:
        raise NotImplementedError("SQLiteStorage serves the moving-window strategy only")

    async def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
