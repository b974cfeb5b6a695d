"""A real HTTP receiver on loopback for webhook tests, and a worker driven round by round."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from standardwebhooks import Webhook as Verifier

from feedback.clock import fixed_clock, system_clock
from feedback.config import Settings
from feedback.loop.delivery import Deliverer
from feedback.loop.models import WebhookDelivery
from feedback.loop.worker import deliverer_for
from tests.builders.loop import sessions_on
from tests.builders.orgs import Org

Client = AsyncTestClient[Litestar]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What arrived, and how to answer: `statuses` first (one per request), then `status`."""

    url: str = ""
    status: int = 204
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    redirect_to: str | None = None
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else self.status

    def ids(self) -> list[str]:
        with self.lock:
            return [r.headers["webhook-id"] for r in self.received]

    def bodies(self) -> list[Any]:
        with self.lock:
            return [json.loads(r.body) for r in self.received]

    def verified(self, secret: str) -> list[Any]:
        """Every body received, each checked with the reference Standard Webhooks verifier."""
        with self.lock:
            got = list(self.received)
        return [Verifier(secret).verify(r.body, r.headers) for r in got]


@contextmanager
def receiver_on_loopback() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with receiver.lock:
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver.answer()
            self.send_response(302 if receiver.redirect_to else status)
            if receiver.redirect_to:
                self.send_header("location", receiver.redirect_to)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 1024  # a worker's whole batch connects at once

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


class StepClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def subscribe_url(
    client: Client, org: Org, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    made = await client.post(
        "/api/v1/webhooks",
        json={"url": url, "events": events or ["response.created"]},
        headers=org.auth(),
    )
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


async def deliver_all(
    settings: Settings, clock: Any = None, *, rounds: int = 100, **overrides: Any
) -> int:
    """Run delivery rounds until nothing is due at the clock's instant (without a clock, the
    instant this is called: a retry whose backoff ends while the rounds run is not due, however
    slow the machine); how many attempts."""
    async with sessions_on(settings) as sessions:
        deliverer: Deliverer = deliverer_for(
            sessions,
            settings.model_copy(update=overrides),
            clock or fixed_clock(system_clock()),
        )
        total = 0
        try:
            for _ in range(rounds):
                done = await deliverer.deliver_due()
                if not done:
                    break
                total += done
        finally:
            await deliverer.aclose()
        return total


async def outbox(settings: Settings) -> list[WebhookDelivery]:
    async with sessions_on(settings) as sessions, sessions() as session:
        rows = await session.scalars(
            sa.select(WebhookDelivery).order_by(WebhookDelivery.created_at)
        )
        return list(rows.all())
