"""The webhooks outbox: an event is recorded in the transaction of the change that caused it.

`emit` fans the event out over the organisation's subscriptions to its type in one
INSERT … SELECT, so an event that no webhook wants writes nothing, and one that several want
is one row per webhook, each delivered and retried on its own by the delivery worker.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Uuid, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.db import JSONType, UTCDateTime
from feedback.loop.models import WebhookDelivery, WebhookTopic

EVENT_TYPES: Final = (
    "response.created",
    "response.revised",
    "version.published",
    "decision.published",
    "finding.opened",
)


def event_payload(event_type: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The body every receiver gets: Standard Webhooks' recommended `type`, `timestamp`, `data`."""
    return {"type": event_type, "timestamp": now.isoformat(), "data": data}


async def emit(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    event_type: str,
    data: dict[str, Any],
    now: datetime,
) -> uuid.UUID:
    """Record an event for every webhook of `org_id` subscribed to `event_type`; returns its
    id (the `webhook-id` receivers see, the same for every webhook and every attempt)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    event_id = uuid.uuid4()
    payload = event_payload(event_type, data, now)
    subscribed = select(
        WebhookTopic.webhook_id,
        literal(event_id, Uuid),
        WebhookTopic.org_id,
        literal(event_type),
        literal(payload, JSONType),
        literal(now, UTCDateTime),
        literal("pending"),
        literal(0),
        literal(now, UTCDateTime),
    ).where(WebhookTopic.org_id == org_id, WebhookTopic.event_type == event_type)
    await session.execute(
        insert(WebhookDelivery).from_select(
            [
                "webhook_id",
                "event_id",
                "org_id",
                "event_type",
                "payload",
                "created_at",
                "status",
                "attempts",
                "next_attempt_at",
            ],
            subscribed,
        )
    )
    return event_id
