"""Routes of tenancy: organisations, API keys, the audit log."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody

from feedback.api.deps import Caller, Cursor, DbSession, Limit
from feedback.api.pagination import PageOut, page_out
from feedback.orgs import service
from feedback.orgs.schemas import (
    AuditEventRead,
    KeyCreate,
    KeyCreated,
    KeyRead,
    OrgCreate,
    OrgCreated,
    OrgRead,
)
from feedback.pagination import DEFAULT_LIMIT


class OrgController(Controller):
    tags = ["organisations"]

    @post("/orgs", opt={"instance_admin": True}, operation_id="CreateOrg")
    async def create_org(self, db_session: DbSession, data: JSONBody[OrgCreate]) -> OrgCreated:
        org, key = await service.create_org(
            db_session, slug=data.slug, name=data.name, actor="instance-admin"
        )
        return OrgCreated(slug=org.slug, name=org.name, admin_key=key)

    @get("/org", opt={"role": "analyst"}, operation_id="GetOrg")
    async def get_org(self, db_session: DbSession, principal: Caller) -> OrgRead:
        org = await service.get_org(db_session, principal=principal)
        return OrgRead.model_validate(org, from_attributes=True)


class KeyController(Controller):
    path = "/keys"
    tags = ["keys"]
    opt = {"role": "admin"}

    @post(operation_id="CreateKey")
    async def create_key(
        self, db_session: DbSession, principal: Caller, data: JSONBody[KeyCreate]
    ) -> KeyCreated:
        key, plaintext = await service.create_key(
            db_session, principal=principal, name=data.name, role=data.role
        )
        return KeyCreated(id=key.id, name=key.name, role=data.role, key=plaintext)

    @get(operation_id="ListKeys")
    async def list_keys(
        self,
        db_session: DbSession,
        principal: Caller,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> PageOut[KeyRead]:
        page = await service.list_keys(db_session, principal=principal, limit=limit, cursor=cursor)
        return page_out(page, lambda k: KeyRead.model_validate(k, from_attributes=True))

    # 409: the organisation's last admin key.
    @delete("/{key_id:uuid}", operation_id="RevokeKey", opt={"refusals": (409,)})
    async def revoke_key(
        self, db_session: DbSession, principal: Caller, key_id: FromPath[uuid.UUID]
    ) -> None:
        await service.revoke_key(db_session, principal=principal, key_id=key_id)


class AuditController(Controller):
    path = "/audit"
    tags = ["audit"]
    opt = {"role": "admin"}

    @get(operation_id="ListAudit")
    async def list_audit(
        self,
        db_session: DbSession,
        principal: Caller,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> PageOut[AuditEventRead]:
        page = await service.list_audit(db_session, principal=principal, limit=limit, cursor=cursor)
        return page_out(page, lambda e: AuditEventRead.model_validate(e, from_attributes=True))
