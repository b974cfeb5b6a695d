"""The host-local store under processes racing for the same key: never more than the limit."""

from __future__ import annotations

import asyncio
import multiprocessing
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

from feedback.api.rate_limit import PublicRateLimit
from feedback.api.ratelimit_store import SQLiteStorage

PROCESSES = 4
TRIES = 60
LIMIT = 100


def _race(path: str, ready: Barrier, allowed: Queue[int]) -> None:
    async def run() -> int:
        limit = PublicRateLimit(LIMIT, SQLiteStorage(Path(path)))
        await limit.storage.check()  # connected (and the file made) before the start
        ready.wait()
        waits = [await limit.hit("203.0.113.1", "org", "survey") for _ in range(TRIES)]
        await limit.close()
        return waits.count(0)

    allowed.put(asyncio.run(run()))


def test_processes_racing_for_one_key_share_one_limit(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    ready, allowed = context.Barrier(PROCESSES), context.Queue()
    path = str(tmp_path / "limits.sqlite3")
    racers = [context.Process(target=_race, args=(path, ready, allowed)) for _ in range(PROCESSES)]
    for racer in racers:
        racer.start()
    counts = [allowed.get(timeout=120) for _ in racers]
    for racer in racers:
        racer.join(timeout=60)
    assert sum(counts) == LIMIT  # of PROCESSES * TRIES = 240 tries
