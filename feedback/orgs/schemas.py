"""Wire types for organisations, keys and the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from feedback.orgs.principal import Role

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrgCreate(Input):
    slug: str = Field(pattern=SLUG_PATTERN, description="URL-safe identifier, e.g. `greenpeace-nl`")
    name: str = Field(min_length=1, max_length=200)


class OrgCreated(BaseModel):
    slug: str
    name: str
    admin_key: str = Field(description="The first admin key; shown once.")


class OrgRead(BaseModel):
    slug: str
    name: str
    created_at: datetime


class KeyCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    role: Role


class KeyRead(BaseModel):
    id: uuid.UUID
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(BaseModel):
    id: uuid.UUID
    name: str
    role: Role
    key: str = Field(description="The key itself; shown once, stored only as a hash.")


class AuditEventRead(BaseModel):
    id: uuid.UUID
    at: datetime
    actor: str
    actor_key_id: uuid.UUID | None
    action: str
    object_type: str
    object_id: str
    details: dict[str, Any]
