"""Delivering the outbox: claim due deliveries, POST them signed, record every attempt.

A claim is a lease (`claimed_until`): the claiming transaction sets it and commits before any
request is made, so the claim outlives neither a crash nor a hang — a worker killed mid-delivery
leaves rows whose lease lapses, and the next worker delivers them again (at least once, with the
same `webhook-id`, which receivers deduplicate on). On PostgreSQL the claim reads the due rows
`FOR UPDATE SKIP LOCKED`, so workers claiming at the same moment take disjoint rows and each
event goes out once in normal operation; on SQLite the claim runs under the database's single
write lock, which serialises claims just the same.

Requests: a signed POST (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
`webhook-signature`), connect and read timeouts, redirects never followed (a 3xx is a failed
attempt). Against DNS rebinding the host is resolved here, every address it resolves to is
checked (feedback.loop.addresses), and the request connects to a checked address
(feedback.loop.http_post), sending the URL's host as the `Host` header and as the TLS server
name (SNI, and so the certificate check). Nothing resolves the name a second time.

Failures are retried with exponential backoff and full jitter (a random delay up to 5 s·2^n,
capped at an hour), until 24 h after the event; the attempt at that deadline is the last.

A delivery fails alone: whatever goes wrong while sending it is its own failed attempt, and a
round whose record the database refuses is recorded again delivery by delivery. Otherwise one
bad delivery would leave the round's acknowledged ones pending, to be sent again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import msgspec
from sqlalchemy import insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook as Signer

from feedback import __version__
from feedback.clock import Clock, system_clock
from feedback.db import transaction
from feedback.loop.addresses import RefusedAddress, Target, allowed_addresses, target_of
from feedback.loop.http_post import Place, Poster, PostError
from feedback.loop.models import Webhook, WebhookAttempt, WebhookDelivery

log = logging.getLogger(__name__)

GIVE_UP_AFTER: Final = timedelta(hours=24)
BACKOFF_BASE_SECONDS: Final = 5.0
BACKOFF_CAP_SECONDS: Final = 3600.0
MAX_ERROR_CHARS: Final = 500


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """The wait after the `attempts`-th failed attempt: full jitter over 5 s·2^(n-1), ≤ 1 h,
    and at least a second so that a run of failures never spins."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** min(attempts - 1, 30))
    return timedelta(seconds=max(1.0, (rng or random).uniform(0, ceiling)))


@dataclass(frozen=True, slots=True)
class Due:
    """A claimed delivery with what it takes to send it."""

    webhook_id: uuid.UUID
    event_id: uuid.UUID
    org_id: uuid.UUID
    url: str
    secret: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Deliverer:
    """Delivers due outbox rows in rounds (`deliver_due`); one per worker."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        allow_private: bool = False,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        clock: Clock = system_clock,
        batch_size: int = 100,
    ) -> None:
        self._sessions = sessions
        self._allow_private = allow_private
        self._clock = clock
        self._batch_size = batch_size
        # A claim must outlast the longest request it covers, with room for recording it.
        # A whole request is cut off after this, however its receiver trickles its answer.
        self._deadline = connect_timeout + 2 * read_timeout
        self.lease = timedelta(seconds=self._deadline + 5)
        self._poster = Poster(connect_timeout=connect_timeout, read_timeout=read_timeout)

    async def aclose(self) -> None:
        await self._poster.aclose()

    async def deliver_due(self, limit: int | None = None) -> int:
        """Claim the due deliveries (up to a batch, or `limit`), send them all, record the
        outcomes. Returns how many were attempted."""
        claimed_at = self._clock()
        due = await self._claim(claimed_at, min(limit or self._batch_size, self._batch_size))
        if not due:
            return 0
        outcomes = await asyncio.gather(*(self._send(item, claimed_at) for item in due))
        await self._record(due, outcomes, claimed_at)
        return len(due)

    async def _claim(self, now: datetime, limit: int) -> list[Due]:
        async with transaction(self._sessions) as session:
            keys = (
                await session.execute(
                    select(WebhookDelivery.webhook_id, WebhookDelivery.event_id)
                    .where(
                        WebhookDelivery.status == "pending",
                        WebhookDelivery.next_attempt_at <= now,
                        or_(
                            WebhookDelivery.claimed_until.is_(None),
                            WebhookDelivery.claimed_until <= now,
                        ),
                    )
                    .order_by(WebhookDelivery.next_attempt_at)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not keys:
                return []
            pairs = [tuple(k) for k in keys]
            key = tuple_(WebhookDelivery.webhook_id, WebhookDelivery.event_id)
            await session.execute(
                update(WebhookDelivery)
                .where(key.in_(pairs))
                .values(claimed_until=now + self.lease)
                .execution_options(synchronize_session=False)
            )
            rows = (
                await session.execute(
                    select(
                        WebhookDelivery.webhook_id,
                        WebhookDelivery.event_id,
                        WebhookDelivery.org_id,
                        Webhook.url,
                        Webhook.secret,
                        WebhookDelivery.payload,
                        WebhookDelivery.created_at,
                        WebhookDelivery.attempts,
                    )
                    .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                    .where(key.in_(pairs))
                    .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.created_at)
                )
            ).all()
            return [Due(*row) for row in rows]

    async def _send(self, item: Due, now: datetime) -> Outcome:
        """One delivery's attempt. It never raises (but when cancelled): whatever goes wrong is
        this delivery's failed attempt, recorded and retried like any other, never the round's
        failure (which would leave every other delivery of the round unrecorded)."""
        started = time.perf_counter()
        try:
            status_code, error = await self._attempt(item, now)
        except Exception as exc:
            log.exception("webhook delivery %s failed unexpectedly", item.event_id)
            status_code, error = None, f"not sent: {type(exc).__name__}: {exc}"
        elapsed = round((time.perf_counter() - started) * 1000)
        return Outcome(status_code, _storable(error), elapsed)

    async def _attempt(self, item: Due, now: datetime) -> tuple[int | None, str | None]:
        """(status code, error) of one POST of the delivery."""
        target = target_of(item.url)
        try:
            addresses = await allowed_addresses(target, allow_private=self._allow_private)
        except RefusedAddress as exc:
            return None, f"refused, no request made: {exc}"
        body = msgspec.json.encode(item.payload)
        headers = {
            "content-type": "application/json",
            "user-agent": f"feedback-webhooks/{__version__}",
            "host": _host_header(target),
            "connection": "keep-alive",
            "webhook-id": str(item.event_id),
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Signer(item.secret).sign(str(item.event_id), now, body),
        }
        address = addresses[0]
        place = Place(target.scheme, str(address), target.port, target.host)
        try:
            async with asyncio.timeout(self._deadline):
                status = await self._poster.post(place, target.target, headers, body)
        except TimeoutError as exc:
            return None, f"timeout ({exc or f'no answer within {self._deadline:g} s'})"
        except PostError as exc:
            return None, str(exc)
        if 300 <= status < 400:
            return status, "redirect not followed"
        if not 200 <= status < 300:
            return status, f"receiver answered {status}"
        return status, None

    async def _record(self, due: Sequence[Due], outcomes: Sequence[Outcome], now: datetime) -> None:
        """Every attempt and each delivery's new state: the whole round in one transaction; if
        the database refuses it, each delivery in its own, so that one row it cannot take costs
        only that delivery's record and never the others' (acknowledged deliveries left
        pending would be sent again)."""
        try:
            async with transaction(self._sessions) as session:
                await self._write(session, due, outcomes, now)
            return
        except Exception:
            log.exception("recording %d webhook deliveries at once failed; one by one", len(due))
        for item, outcome in zip(due, outcomes, strict=True):
            await self._record_alone(item, outcome, now)

    async def _record_alone(self, item: Due, outcome: Outcome, now: datetime) -> None:
        """One delivery's record; if the database refuses even that, a bare failed attempt in
        its place, so that the delivery still backs off and is given up in time rather than
        sent again each time its claim lapses. When that fails too (the database is away),
        the claim lapses and the delivery is sent again."""
        bare = Outcome(None, "the attempt could not be recorded", outcome.duration_ms)
        for attempt in (outcome, bare):
            try:
                async with transaction(self._sessions) as session:
                    await self._write(session, [item], [attempt], now)
                return
            except Exception as exc:
                log.error("recording webhook delivery %s failed: %r", item.event_id, exc)

    async def _write(
        self,
        session: AsyncSession,
        due: Sequence[Due],
        outcomes: Sequence[Outcome],
        now: datetime,
    ) -> None:
        """Record in few statements: the deliveries that still exist locked in one, their
        attempts in one insert, the delivered in one update (what a busy outbox mostly holds),
        each failure on its own (its next attempt is its own)."""
        key = tuple_(WebhookDelivery.webhook_id, WebhookDelivery.event_id)
        # A webhook deleted while its delivery was in flight took the delivery and its log
        # with it: the attempt has nothing left to belong to. Locking the rows that remain
        # (PostgreSQL; on SQLite a writer holds the database) keeps a deletion from coming
        # between this read and the insert.
        rows = await session.execute(
            select(WebhookDelivery.webhook_id, WebhookDelivery.event_id)
            .where(key.in_([(item.webhook_id, item.event_id) for item in due]))
            .order_by(WebhookDelivery.webhook_id, WebhookDelivery.event_id)
            .with_for_update()
        )
        remaining = {(webhook_id, event_id) for webhook_id, event_id in rows}
        results = [
            (item, outcome)
            for item, outcome in zip(due, outcomes, strict=True)
            if (item.webhook_id, item.event_id) in remaining
        ]
        if not results:
            return
        await session.execute(
            insert(WebhookAttempt),
            [
                {
                    "id": uuid.uuid4(),
                    "org_id": item.org_id,
                    "webhook_id": item.webhook_id,
                    "event_id": item.event_id,
                    "attempted_at": now,
                    "status_code": outcome.status_code,
                    "error": outcome.error,
                    "duration_ms": outcome.duration_ms,
                }
                for item, outcome in results
            ],
        )
        # Delivered by a worker whose lease lapsed meanwhile: it stays delivered.
        pending = WebhookDelivery.status == "pending"
        delivered = [
            (item.webhook_id, item.event_id) for item, outcome in results if outcome.delivered
        ]
        if delivered:
            await session.execute(
                update(WebhookDelivery)
                .where(key.in_(delivered), pending)
                .values(
                    status="delivered",
                    attempts=WebhookDelivery.attempts + 1,
                    claimed_until=None,
                    finished_at=now,
                )
                .execution_options(synchronize_session=False)
            )
        for item, outcome in results:
            if outcome.delivered:
                continue
            count = item.attempts + 1
            values: dict[str, Any] = {"attempts": count, "claimed_until": None}
            deadline = item.created_at + GIVE_UP_AFTER
            if now >= deadline:
                values |= {"status": "failed", "finished_at": now}
                log.warning("webhook delivery %s given up after 24 h", item.event_id)
            else:
                values["next_attempt_at"] = min(now + backoff(count), deadline)
            await session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.webhook_id == item.webhook_id,
                    WebhookDelivery.event_id == item.event_id,
                    pending,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )


def _storable(error: str | None) -> str | None:
    """An error as a text column takes it: cut short, without NUL (PostgreSQL refuses it) or
    lone surrogates (no UTF-8 has them)."""
    if error is None:
        return None
    short = error[:MAX_ERROR_CHARS].replace("\x00", "\\x00")
    return short.encode("utf-8", "backslashreplace").decode("utf-8")


def _host_header(target: Target) -> str:
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == default else f"{host}:{target.port}"
