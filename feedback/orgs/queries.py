"""Statements over tenancy tables; each takes the organisation it is scoped to."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select

from feedback.orgs.models import ApiKey, AuditEvent


def keys_of(org_id: uuid.UUID) -> Select[ApiKey]:
    return select(ApiKey).where(ApiKey.org_id == org_id)


def audit_of(org_id: uuid.UUID) -> Select[AuditEvent]:
    return select(AuditEvent).where(AuditEvent.org_id == org_id)
