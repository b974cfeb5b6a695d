"""Who is calling: the organisation and role an API key resolves to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    analyst = "analyst"
    campaigner = "campaigner"
    admin = "admin"

    def allows(self, required: Role) -> bool:
        """Roles nest: an admin may do what a campaigner may, a campaigner what an analyst may."""
        return _RANK[self] >= _RANK[required]


_RANK = {Role.analyst: 0, Role.campaigner: 1, Role.admin: 2}


@dataclass(frozen=True, slots=True)
class Principal:
    org_id: uuid.UUID
    org_slug: str
    role: Role
    key_id: uuid.UUID | None
    actor: str  # what the audit log records as "who"

    @classmethod
    def system(cls, org_id: uuid.UUID, org_slug: str, actor: str = "cli") -> Principal:
        """Changes made outside HTTP (the CLI, the instance admin) act as the org's admin."""
        return cls(org_id=org_id, org_slug=org_slug, role=Role.admin, key_id=None, actor=actor)
