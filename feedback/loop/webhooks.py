"""Webhook subscriptions of an organisation, and the log of their deliveries."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.errors import Invalid, NotFound
from feedback.loop.addresses import RefusedAddress, allowed_addresses, target_of
from feedback.loop.models import Webhook, WebhookAttempt, WebhookDelivery, WebhookTopic
from feedback.loop.webhook_schemas import (
    AttemptRead,
    DeliveryRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
)
from feedback.orgs import audit
from feedback.orgs.principal import Principal
from feedback.pagination import Page, paginate

SECRET_BYTES = 32


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and the base64 of random bytes (24 to 64 allowed)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


async def create_webhook(
    session: AsyncSession,
    *,
    principal: Principal,
    data: WebhookCreate,
    allow_private: bool,
    now: datetime,
) -> Webhook:
    try:
        await allowed_addresses(target_of(data.url), allow_private=allow_private)
    except RefusedAddress as exc:
        raise Invalid.at("/url", f"is refused: {exc}") from exc
    hook = Webhook(
        org_id=principal.org_id,
        url=data.url,
        events=list(data.events),
        secret=new_secret(),
        created_at=now,
    )
    session.add(hook)
    await session.flush()
    session.add_all(
        WebhookTopic(webhook_id=hook.id, event_type=event, org_id=principal.org_id)
        for event in data.events
    )
    audit.record(
        session,
        principal,
        action="webhook.created",
        object_type="webhook",
        object_id=hook.id,
        details={"url": data.url, "events": list(data.events)},
    )
    await session.flush()
    return hook


async def get_webhook(
    session: AsyncSession, *, principal: Principal, webhook_id: uuid.UUID
) -> Webhook:
    hook = await session.scalar(
        select(Webhook).where(Webhook.org_id == principal.org_id, Webhook.id == webhook_id)
    )
    if hook is None:
        raise NotFound("Webhook not found.")
    return hook


async def list_webhooks(
    session: AsyncSession, *, principal: Principal, limit: int, cursor: str | None
) -> Page[Webhook]:
    stmt = select(Webhook).where(Webhook.org_id == principal.org_id)
    keys = (Webhook.created_at, Webhook.id)
    return await paginate(session, stmt, keys, limit=limit, cursor=cursor)


async def delete_webhook(
    session: AsyncSession, *, principal: Principal, webhook_id: uuid.UUID
) -> None:
    """Unsubscribe; its pending deliveries and their log go with it."""
    hook = await get_webhook(session, principal=principal, webhook_id=webhook_id)
    # Explicit deletes rather than relying on ON DELETE CASCADE: SQLite enforces it only with
    # its foreign_keys pragma on.
    await session.execute(delete(WebhookAttempt).where(WebhookAttempt.webhook_id == hook.id))
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id))
    await session.execute(delete(WebhookTopic).where(WebhookTopic.webhook_id == hook.id))
    await session.delete(hook)
    audit.record(
        session,
        principal,
        action="webhook.deleted",
        object_type="webhook",
        object_id=hook.id,
        details={"url": hook.url},
    )
    await session.flush()


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]


async def list_deliveries(
    session: AsyncSession,
    *,
    principal: Principal,
    webhook_id: uuid.UUID,
    limit: int,
    cursor: str | None,
) -> Page[DeliveryRecord]:
    """Newest first, each with its attempts in order."""
    hook = await get_webhook(session, principal=principal, webhook_id=webhook_id)
    stmt = select(WebhookDelivery).where(
        WebhookDelivery.org_id == principal.org_id, WebhookDelivery.webhook_id == hook.id
    )
    keys = (WebhookDelivery.created_at, WebhookDelivery.event_id)
    page = await paginate(session, stmt, keys, limit=limit, cursor=cursor, newest_first=True)
    attempts = await _attempts_of(session, hook.id, [d.event_id for d in page.items])
    return Page(
        [DeliveryRecord(d, attempts.get(d.event_id, [])) for d in page.items], page.next_cursor
    )


async def _attempts_of(
    session: AsyncSession, webhook_id: uuid.UUID, event_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[WebhookAttempt]]:
    if not event_ids:
        return {}
    rows = await session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.webhook_id == webhook_id, WebhookAttempt.event_id.in_(event_ids))
        .order_by(WebhookAttempt.attempted_at, WebhookAttempt.id)
    )
    out: dict[uuid.UUID, list[WebhookAttempt]] = {}
    for attempt in rows:
        out.setdefault(attempt.event_id, []).append(attempt)
    return out


def webhook_read(hook: Webhook) -> WebhookRead:
    return WebhookRead.model_validate(
        {"id": hook.id, "url": hook.url, "events": hook.events, "created_at": hook.created_at}
    )


def webhook_created(hook: Webhook) -> WebhookCreated:
    return WebhookCreated.model_validate({**webhook_read(hook).model_dump(), "secret": hook.secret})


def delivery_read(record: DeliveryRecord) -> DeliveryRead:
    d = record.delivery
    last = record.attempts[-1] if record.attempts else None
    return DeliveryRead.model_validate(
        {
            "event_id": d.event_id,
            "event_type": d.event_type,
            "status": d.status,
            "attempts": d.attempts,
            "created_at": d.created_at,
            "next_attempt_at": d.next_attempt_at if d.status == "pending" else None,
            "finished_at": d.finished_at,
            "last_status_code": last.status_code if last else None,
            "last_error": last.error if last else None,
            "attempt_log": [
                AttemptRead(
                    attempted_at=a.attempted_at,
                    status_code=a.status_code,
                    error=a.error,
                    duration_ms=a.duration_ms,
                )
                for a in record.attempts
            ],
        }
    )
