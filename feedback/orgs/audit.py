"""The audit log: every change made with a key, written in the same transaction as the change.

One writer for both kinds of transaction: a request's `AsyncSession` (the services) and a
blocking `Connection` (the group commit's statements, which store imports): the row is the same.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.orgs.models import AuditEvent
from feedback.orgs.principal import Principal

# The length of `audit_event.actor` (String(200)).
ACTOR_CHARS = 200


def record(
    transaction: AsyncSession | Connection,
    principal: Principal,
    *,
    action: str,
    object_type: str,
    object_id: object,
    details: dict[str, Any] | None = None,
) -> None:
    row = {
        "org_id": principal.org_id,
        "actor_key_id": principal.key_id,
        # `key:` and a key's name (up to 200 characters) may be longer than the column, which
        # PostgreSQL would refuse, failing the change; the key's id says whose key it was.
        "actor": principal.actor[:ACTOR_CHARS],
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "details": details or {},
    }
    if isinstance(transaction, AsyncSession):
        transaction.add(AuditEvent(**row))
    else:
        # The columns' Python defaults (id, at) apply to a Core insert as to the ORM's.
        transaction.execute(insert(AuditEvent).values(**row))
