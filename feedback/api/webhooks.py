"""Routes of webhook subscriptions and their delivery log."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody

from feedback.api.deps import AppSettings, Caller, Cursor, DbSession, Limit, Now
from feedback.api.pagination import PageOut, page_out
from feedback.loop import webhooks as service
from feedback.loop.webhook_schemas import DeliveryRead, WebhookCreate, WebhookCreated, WebhookRead
from feedback.pagination import DEFAULT_LIMIT


class WebhookController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]
    opt = {"role": "admin"}

    @post(operation_id="CreateWebhook")
    async def create_webhook(
        self,
        db_session: DbSession,
        principal: Caller,
        data: JSONBody[WebhookCreate],
        app_settings: AppSettings,
        now: Now,
    ) -> WebhookCreated:
        """Subscribe a URL to events. The signing secret is in this answer only."""
        hook = await service.create_webhook(
            db_session,
            principal=principal,
            data=data,
            allow_private=app_settings.webhook_allow_private,
            now=now,
        )
        return service.webhook_created(hook)

    @get(operation_id="ListWebhooks")
    async def list_webhooks(
        self,
        db_session: DbSession,
        principal: Caller,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> PageOut[WebhookRead]:
        page = await service.list_webhooks(
            db_session, principal=principal, limit=limit, cursor=cursor
        )
        return page_out(page, service.webhook_read)

    @delete("/{webhook_id:uuid}", operation_id="DeleteWebhook")
    async def delete_webhook(
        self, db_session: DbSession, principal: Caller, webhook_id: FromPath[uuid.UUID]
    ) -> None:
        await service.delete_webhook(db_session, principal=principal, webhook_id=webhook_id)

    @get("/{webhook_id:uuid}/deliveries", operation_id="ListWebhookDeliveries")
    async def list_deliveries(
        self,
        db_session: DbSession,
        principal: Caller,
        webhook_id: FromPath[uuid.UUID],
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> PageOut[DeliveryRead]:
        """Newest first: each event's status and every attempt, as the receiver answered it."""
        page = await service.list_deliveries(
            db_session, principal=principal, webhook_id=webhook_id, limit=limit, cursor=cursor
        )
        return page_out(page, service.delivery_read)
