"""The background worker: delivers webhooks, checks for findings, merges the change rows
that keep trends rollups exact (feedback.responses.change_log) and counts the rollups that writes
retired of the splits readers use, or will (feedback.analysis.warming), until told to stop.

It runs inside `feedback serve` (a task of the app's lifespan, unless FEEDBACK_EMBEDDED_WORKER
is false) and as `feedback worker`. Several may run at once, in one or many processes: the
outbox is claimed with leases (feedback.loop.delivery), and a findings check is idempotent
(one finding per subject, kind and wave).

Deliveries yield to the work the process is there for. Inside `feedback serve` they share the
event loop (and, on SQLite, the write lock) with submissions; delivering a burst's events at
full speed during the burst cost it a third of its throughput (BENCHMARKS.md, "Webhooks"). So
before each round the worker counts the event loop's tasks: the server runs each request in
one, so more than a few beyond those present when the worker started mean requests are being
served, and the worker then delivers a small batch and pauses, catching up once the burst is
over. An idle server (and a `feedback worker` process, whose loop runs only the worker)
delivers at full speed. Rollups are warmed only while no requests are being served: a count
competes with submissions for the database, and a reader who comes during a burst counts what
it needs itself, as without the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.analysis import splits
from feedback.analysis.rollups import Rollups
from feedback.analysis.warming import WARM_FOR, warm_splits
from feedback.clock import Clock, system_clock
from feedback.config import Settings
from feedback.loop.delivery import Deliverer
from feedback.loop.findings import check_all_surveys
from feedback.read_replica import ReadRouter
from feedback.responses import change_log

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
FINDINGS_EVERY_SECONDS = 60.0
WARM_EVERY_SECONDS = 15.0
# Tasks beyond the worker's starting count that mean requests are in flight.
BUSY_TASKS = 4
BUSY_BATCH = 10
BUSY_PAUSE_SECONDS = 0.25


def deliverer_for(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock = system_clock
) -> Deliverer:
    return Deliverer(
        sessions,
        allow_private=settings.webhook_allow_private,
        connect_timeout=settings.webhook_connect_timeout,
        read_timeout=settings.webhook_read_timeout,
        clock=clock,
    )


async def run_worker(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    stop: asyncio.Event,
    *,
    clock: Clock = system_clock,
    poll_seconds: float = POLL_SECONDS,
    findings_every_seconds: float = FINDINGS_EVERY_SECONDS,
    warm_every_seconds: float = WARM_EVERY_SECONDS,
    read_router: ReadRouter | None = None,
) -> None:
    """Deliver while there is work, wait `poll_seconds` when there is none; check findings
    every `findings_every_seconds`, warm rollups every `warm_every_seconds` when idle (reading
    on `read_router`'s choice, a replica when there is one fresh enough). Returns
    once `stop` is set and the round in hand is done (a delivery in flight is finished and
    recorded, never cut off; a round of warming is cut off, as nothing depends on it)."""
    deliverer = deliverer_for(sessions, settings, clock)
    rollups = Rollups(sessions)
    last_check: datetime | None = None
    last_warm: float | None = None
    # A round of warming runs beside the deliveries, not before them: at 10M answer rows it
    # can count for ~15 s, which webhook receivers should not wait for.
    warming: asyncio.Task[None] | None = None
    idle_tasks = len(asyncio.all_tasks())
    loop = asyncio.get_running_loop()
    try:
        while not stop.is_set():
            now = clock()
            if last_check is None or (now - last_check).total_seconds() >= findings_every_seconds:
                last_check = now
                await _check_findings(sessions, now)
                await _merge_changes(sessions)
            idle = warming is None or warming.done()
            serving = len(asyncio.all_tasks()) > idle_tasks + (0 if idle else 1) + BUSY_TASKS
            # Paced by the event loop's clock, not `clock`: how often is a matter of load, not
            # of dates (a test's fixed clock would otherwise never let it run again).
            due = last_warm is None or loop.time() - last_warm >= warm_every_seconds
            if idle and due and not serving:
                last_warm = loop.time()
                warming = asyncio.create_task(_warm_rollups(sessions, rollups, now, read_router))
            try:
                done = await deliverer.deliver_due(BUSY_BATCH if serving else None)
            except Exception:
                log.exception("webhook delivery round failed; trying again shortly")
                done = 0
            if not done or serving:
                with contextlib.suppress(TimeoutError):
                    pause = BUSY_PAUSE_SECONDS if done else poll_seconds
                    await asyncio.wait_for(stop.wait(), timeout=pause)
    finally:
        if warming is not None:
            # Cut off: a count's pieces are written in one transaction or not at all, and a
            # claim left behind expires (analysis.splits.WARM_LEASE).
            warming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await warming
        await deliverer.aclose()


async def _merge_changes(sessions: async_sessionmaker[AsyncSession]) -> None:
    try:
        removed = await change_log.merge(sessions)
    except Exception:
        log.exception("merging change rows failed")
        return
    if removed:
        log.info("%d change row(s) merged", removed)


async def _warm_rollups(
    sessions: async_sessionmaker[AsyncSession],
    rollups: Rollups,
    now: datetime,
    read_router: ReadRouter | None,
) -> None:
    try:
        await splits.adopt_org_splits(rollups, since=now - WARM_FOR)
        counted = await warm_splits(sessions, rollups, now=now, read_router=read_router)
    except Exception:
        log.exception("warming trends rollups failed")
        return
    if counted:
        log.info("%d wave(s) of trends counted ahead of readers", counted)


async def _check_findings(sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
    try:
        opened = await check_all_surveys(sessions, now=now)
    except Exception:
        log.exception("checking for findings failed")
        return
    if opened:
        log.info("%d finding(s) opened", len(opened))
