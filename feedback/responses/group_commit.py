"""Group commit: concurrent submissions share one transaction, and nobody hears back early.

The module is named for the technique it holds; the SQL it runs lives in `store_statements`.

Why: a commit costs a disk flush (PostgreSQL) or a trip through the async SQLite driver's
thread, and one per request caps the whole service at a few thousand submissions a second.
`GroupCommit` puts each request's item on a queue and parks the request on its own future. A
writer task takes whatever has queued (up to `max_batch`), writes it in one transaction through
a `WriteStore`, and resolves the futures only after the COMMIT returned, so nothing is
acknowledged before it is durable. The queue fills while a batch commits, so batches grow with
load and stay single items when idle: there is no timer and no added latency.

Up to `store.concurrency` batches are in flight at once. SQLite has one writer, so one. On
PostgreSQL a batch spends most of its time waiting on the server (the statement, the WAL flush);
with a single batch in flight the process would sit idle meanwhile, so the next batch is sent
while the last one commits (measured: see BENCHMARKS.md, "Submissions"). Batches in flight
together are separate transactions: duplicates between them meet on the unique constraint, as
they do between processes.

Items arrive validated; what the database decides per item comes back as that item's outcome.
If the batch transaction fails anyway, every item is retried in a transaction of its own, so
each request gets its true result and one bad item cannot fail its batch-mates.

`WriteStore` runs a blocking function on a connection inside one transaction:
- `ThreadStore` (SQLite): one dedicated thread with its own sqlite3 connection. A whole batch is
  one call into that thread, instead of one thread hop per statement through aiosqlite.
- `EngineStore` (PostgreSQL): `run_sync` on a pooled asyncpg connection. Submissions run
  there without BEGIN and COMMIT: a batch is then one statement and one round trip
  (see `store_statements.store_responses`), which commits as a whole or not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from feedback.db import is_transient, make_sqlite_sync_engine

log = logging.getLogger(__name__)

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741
O = TypeVar("O")  # noqa: E741

DEFAULT_MAX_BATCH = 256
# Runs of a transaction that PostgreSQL rolled back to break a deadlock or serialization
# conflict (store_statements.py orders its rows so that this is rare), with a jittered pause
# between.
TRANSIENT_ATTEMPTS = 5


class WriteStore(Protocol):
    # How many transactions may usefully run at once through this store.
    concurrency: int

    async def run(self, work: Callable[[Connection], T], *, autocommit: bool = False) -> T:
        """Run `work` on a connection in a transaction that commits when it returns.

        `autocommit`: each statement may commit on its own instead, where a transaction costs
        round trips (PostgreSQL: BEGIN and COMMIT). Only for work whose one non-idempotent
        change is a single statement, like `store_statements.store_responses`.
        """
        ...

    async def close(self) -> None: ...


class ThreadStore:
    """SQLite: every transaction runs in one thread on one connection, as one call."""

    concurrency = 1

    def __init__(self, url: str) -> None:
        self._engine = make_sqlite_sync_engine(url)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feedback-writer")

    async def run(self, work: Callable[[Connection], T], *, autocommit: bool = False) -> T:
        # Always a transaction: in this thread it costs no round trip.
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._transaction, work)

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        with self._engine.connect() as conn:
            # BEGIN IMMEDIATE: take the write lock first, as every writer here does (db.py).
            conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                return work(conn)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._engine.dispose)
        self._thread.shutdown(wait=True)


class EngineStore:
    """An async engine's connections, driven through `run_sync` (greenlets, no thread).

    Autocommit work (the group-commit batches) runs on connections the store keeps for
    itself, up to `concurrency` of them, rather than on a pool checkout per batch: a checkout
    pings the server first (`pool_pre_ping`), which cost a round trip and ~2 ms of waiting
    behind the event loop per batch under load. When one fails, it and every other kept
    connection are closed (a failure is most often the server restarting, which took them
    all), and GroupCommit retries the failed batch's items on fresh, pinged connections.
    """

    def __init__(self, engine: AsyncEngine, *, concurrency: int = 2) -> None:
        self._engine = engine
        self.concurrency = concurrency
        self._idle: list[AsyncConnection] = []
        self._closed = False

    async def run(self, work: Callable[[Connection], T], *, autocommit: bool = False) -> T:
        for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
            try:
                return await self._run_once(work, autocommit=autocommit)
            except Exception as exc:
                if not is_transient(exc) or attempt == TRANSIENT_ATTEMPTS:
                    raise
                log.info("transaction rolled back (%s); running it again", type(exc).__name__)
                await asyncio.sleep(random.uniform(0.005, 0.02) * 2**attempt)
        raise AssertionError("unreachable")

    async def _run_once(self, work: Callable[[Connection], T], *, autocommit: bool) -> T:
        if not autocommit:
            async with self._engine.begin() as conn:
                return await conn.run_sync(work)
        conn = self._idle.pop() if self._idle else await self._connect()
        try:
            result = await conn.run_sync(work)
        except BaseException as exc:
            if isinstance(exc, Exception) and is_transient(exc):
                await self._keep(conn)  # the server rolled the statement back; the link is sound
                raise
            log.warning("a writer connection failed (%s); reconnecting", type(exc).__name__)
            idle, self._idle = self._idle, []
            for broken in [conn, *idle]:
                await _discard(broken)
            raise
        await self._keep(conn)
        return result

    async def _keep(self, conn: AsyncConnection) -> None:
        if self._closed or len(self._idle) >= self.concurrency:
            await conn.close()
        else:
            self._idle.append(conn)

    async def _connect(self) -> AsyncConnection:
        conn = await self._engine.connect()
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        return conn

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()


async def _discard(conn: AsyncConnection) -> None:
    """Close a connection that failed; it may be broken, so it never goes back to the pool."""
    with contextlib.suppress(Exception):
        await conn.invalidate()
    with contextlib.suppress(Exception):
        await conn.close()


def store_for(url: str, engine: AsyncEngine, *, concurrency: int = 2) -> WriteStore:
    """The store for `url`'s database; `concurrency`: batches in flight at once (PostgreSQL)."""
    if url.startswith("sqlite"):
        return ThreadStore(url)
    return EngineStore(engine, concurrency=concurrency)


@dataclass(slots=True)
class _Waiting(Generic[I, O]):
    item: I
    future: asyncio.Future[O]


class GroupCommit(Generic[I, O]):
    """Batches concurrent `submit` calls into transactions of `work(conn, items) -> outcomes`.

    `work` must return one outcome per item, in order; it may raise, in which case each item
    is retried alone and an item that still raises gets that exception.
    """

    def __init__(
        self,
        store: WriteStore,
        work: Callable[[Connection, Sequence[I]], list[O]],
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        autocommit: bool = False,
    ) -> None:
        self._store = store
        self._work = work
        self._max_batch = max_batch
        self._autocommit = autocommit
        self._queue: asyncio.Queue[_Waiting[I, O] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def submit(self, item: I) -> O:
        """Queue `item` and wait until the transaction holding it has committed."""
        if self._closed:
            raise RuntimeError("the writer is closed")
        if self._task is None:
            self._task = asyncio.create_task(self._drain(), name="feedback-group-commit")
        future: asyncio.Future[O] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Waiting(item, future))
        # Shielded: a client that goes away does not cancel a write already queued.
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Write what is queued, then stop."""
        self._closed = True
        if self._task is not None:
            self._queue.put_nowait(None)
            await self._task
            self._task = None

    async def _drain(self) -> None:
        slots = asyncio.Semaphore(max(1, self._store.concurrency))
        in_flight: set[asyncio.Task[None]] = set()

        async def write(batch: list[_Waiting[I, O]]) -> None:
            try:
                await self._write(batch)
            finally:
                slots.release()

        stop = False
        while not stop:
            # A free slot first: what queues while every slot is busy is the next batch.
            await slots.acquire()
            first = await self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self._max_batch and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            task = asyncio.create_task(write(batch))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        await asyncio.gather(*in_flight)

    async def _write(self, batch: list[_Waiting[I, O]]) -> None:
        items = [w.item for w in batch]
        try:
            outcomes = await self._store.run(
                lambda conn: self._work(conn, items), autocommit=self._autocommit
            )
        except Exception:
            if len(batch) > 1:
                log.warning("a batch of %d failed; retrying its items one by one", len(batch))
            for waiting in batch:
                await self._write_alone(waiting)
            return
        for waiting, outcome in zip(batch, outcomes, strict=True):
            _resolve(waiting.future, outcome)

    async def _write_alone(self, waiting: _Waiting[I, O]) -> None:
        try:
            outcome = await self._store.run(
                lambda conn: self._work(conn, [waiting.item]), autocommit=self._autocommit
            )
        except Exception as exc:
            if not waiting.future.done():
                waiting.future.set_exception(exc)
            return
        _resolve(waiting.future, outcome[0])


def _resolve(future: asyncio.Future[O], outcome: O) -> None:
    with contextlib.suppress(asyncio.InvalidStateError):
        future.set_result(outcome)
