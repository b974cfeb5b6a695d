"""`feedback worker` as real processes: killed mid-delivery it loses nothing; two of them on
PostgreSQL deliver each event once; SIGTERM stops one gracefully."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.config import Settings
from tests.builders.orgs import make_org
from tests.builders.responses import submitted
from tests.builders.surveys import make_survey
from tests.builders.webhooks import Receiver, outbox, subscribe_url

Client = AsyncTestClient[Litestar]


@contextmanager
def worker_process(settings: Settings, timeout: float = 1.0) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "FEEDBACK_DATABASE_URL": settings.database_url,
        "FEEDBACK_WEBHOOK_ALLOW_PRIVATE": "true",
        # With 1 s, a whole request may take 3 s, so a dead worker's claim lapses after 8 s.
        "FEEDBACK_WEBHOOK_CONNECT_TIMEOUT": str(timeout),
        "FEEDBACK_WEBHOOK_READ_TIMEOUT": str(timeout),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "feedback.cli", "worker", "--poll", "0.2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        assert process.stderr is not None
        process.stderr.close()


async def wait_for(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        await asyncio.sleep(0.1)


async def all_delivered(settings: Settings, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        rows = await outbox(settings)
        if rows and all(d.status == "delivered" for d in rows):
            return
        if time.monotonic() > deadline:
            statuses = [(d.status, d.attempts) for d in rows]
            raise AssertionError(f"not all delivered after {seconds} s: {statuses}")
        await asyncio.sleep(0.3)


async def test_a_worker_killed_mid_delivery_loses_nothing(
    client: Client, settings: Settings, receiver: Receiver
) -> None:
    org = await make_org(client)
    await subscribe_url(client, org, receiver.url)
    await make_survey(client, org)
    for _ in range(20):
        await submitted(client, org)
    receiver.delay = 0.8  # slow, but within the read timeout
    with worker_process(settings) as first:
        await wait_for(lambda: receiver.received, 30, "the first request")
        first.send_signal(signal.SIGKILL)
        first.wait()
    in_flight = set(receiver.ids())
    assert in_flight
    receiver.delay = 0
    with worker_process(settings) as second:
        await all_delivered(settings, 60)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=15) == 0  # a graceful stop
    events = {str(d.event_id) for d in await outbox(settings)}
    ids = receiver.ids()
    assert set(ids) == events and len(events) == 20
    # What was in flight when the worker died went out again, under the same webhook-id.
    assert all(ids.count(i) >= 2 for i in in_flight)


async def test_two_workers_on_postgres_deliver_each_event_once(
    client: Client, settings: Settings, receiver: Receiver
) -> None:
    if settings.is_sqlite:
        pytest.skip("SKIP LOCKED claims: PostgreSQL only (SQLite has one writer)")
    org = await make_org(client)
    await subscribe_url(client, org, receiver.url)
    await make_survey(client, org)
    for _ in range(300):
        await submitted(client, org)
    receiver.delay = 0.005
    # Generous timeouts: a receiver slowed by a busy machine is not taken for a dead one (which
    # rightly gets the event again, at least once); what is tested is that no claim is shared.
    with worker_process(settings, 10) as one, worker_process(settings, 10) as two:
        await all_delivered(settings, 90)
        for process in (one, two):
            process.send_signal(signal.SIGTERM)
        assert one.wait(timeout=15) == 0 and two.wait(timeout=15) == 0
    ids = receiver.ids()
    attempts = {str(d.event_id): d.attempts for d in await outbox(settings)}
    assert set(ids) == set(attempts) and len(attempts) == 300
    # Each attempt reached the receiver once: two workers never sent one claim.
    assert {i: ids.count(i) for i in attempts} == attempts
