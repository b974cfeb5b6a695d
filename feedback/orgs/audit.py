"""The audit log: every change made with a key, written in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from feedback.orgs.models import AuditEvent
from feedback.orgs.principal import Principal


def record(
    session: AsyncSession,
    principal: Principal,
    *,
    action: str,
    object_type: str,
    object_id: object,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        org_id=principal.org_id,
        actor_key_id=principal.key_id,
        actor=principal.actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=details or {},
    )
    session.add(event)
    return event
