"""The background worker: delivers webhooks and checks for findings, until told to stop.

It runs inside `feedback serve` (a task of the app's lifespan, unless FEEDBACK_EMBEDDED_WORKER
is false) and as `feedback worker`. Several may run at once, in one or many processes: the
outbox is claimed with leases (feedback.loop.delivery), and a findings check is idempotent
(one finding per subject, kind and wave).

Deliveries yield to the work the process is there for. Inside `feedback serve` they share the
event loop (and, on SQLite, the write lock) with submissions; delivering a burst's events at
full speed during the burst cost it a third of its throughput (BENCHMARKS.md, "Webhooks"). So
before each round the worker measures how late the event loop wakes it: a loop that is late is
busy serving, and the worker then delivers a small batch and pauses, catching up once the
burst is over. An idle loop (and a `feedback worker` process, whose loop is only this) is
never late, and delivers at full speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.clock import Clock, system_clock
from feedback.config import Settings
from feedback.loop.delivery import Deliverer
from feedback.loop.findings import check_all_surveys

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
FINDINGS_EVERY_SECONDS = 60.0
# A wake-up later than this means the loop had other work queued: serving requests.
BUSY_LATENESS_SECONDS = 0.002
BUSY_BATCH = 10
BUSY_PAUSE_SECONDS = 0.25


async def loop_lateness(probe: float = 0.001) -> float:
    """How much later than asked the event loop wakes a sleeper (a duration, not a date)."""
    started = time.perf_counter()
    await asyncio.sleep(probe)
    return max(0.0, time.perf_counter() - started - probe)


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
) -> None:
    """Deliver while there is work, wait `poll_seconds` when there is none; check findings
    every `findings_every_seconds`. Returns once `stop` is set and the round in hand is done
    (a request in flight is finished and recorded, never cut off)."""
    deliverer = deliverer_for(sessions, settings, clock)
    last_check: datetime | None = None
    try:
        while not stop.is_set():
            now = clock()
            if last_check is None or (now - last_check).total_seconds() >= findings_every_seconds:
                last_check = now
                await _check_findings(sessions, now)
            serving = await loop_lateness() > BUSY_LATENESS_SECONDS
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
        await deliverer.aclose()


async def _check_findings(sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
    try:
        opened = await check_all_surveys(sessions, now=now)
    except Exception:
        log.exception("checking for findings failed")
        return
    if opened:
        log.info("%d finding(s) opened", len(opened))
