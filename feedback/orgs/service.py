"""Use cases of tenancy: organisations, keys, the audit log."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.db import utcnow
from feedback.errors import Conflict, Invalid, NotFound, Unauthenticated
from feedback.orgs import audit
from feedback.orgs.keys import generate_key, secret_matches, split_key
from feedback.orgs.models import ApiKey, AuditEvent, Organisation
from feedback.orgs.principal import Principal, Role
from feedback.orgs.queries import audit_of, keys_of
from feedback.pagination import Page, paginate


async def create_org(
    session: AsyncSession, *, slug: str, name: str, actor: str
) -> tuple[Organisation, str]:
    """Create an organisation with its first admin key; returns the key's plaintext once."""
    if await session.scalar(select(Organisation.id).where(Organisation.slug == slug)):
        raise Conflict(f"An organisation with slug '{slug}' already exists.")
    org = Organisation(slug=slug, name=name)
    session.add(org)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent create of the same slug
        raise Conflict(f"An organisation with slug '{slug}' already exists.") from exc
    principal = Principal.system(org.id, org.slug, actor=actor)
    key, plaintext = _add_key(session, principal, name="admin", role=Role.admin)
    audit.record(
        session,
        principal,
        action="org.created",
        object_type="organisation",
        object_id=org.slug,
        details={"name": name},
    )
    await session.flush()
    audit.record(
        session,
        principal,
        action="key.created",
        object_type="api_key",
        object_id=key.id,
        details={"name": key.name, "role": key.role},
    )
    return org, plaintext


def _add_key(
    session: AsyncSession, principal: Principal, *, name: str, role: Role
) -> tuple[ApiKey, str]:
    new = generate_key()
    key = ApiKey(
        id=uuid.uuid4(),
        org_id=principal.org_id,
        name=name,
        role=role.value,
        prefix=new.prefix,
        secret_hash=new.secret_hash,
        created_by_key_id=principal.key_id,
    )
    session.add(key)
    return key, new.plaintext


async def resolve_key(session: AsyncSession, plaintext: str) -> Principal:
    """Turn a bearer key into who is calling. Unknown, malformed and revoked keys look alike."""
    parts = split_key(plaintext)
    if parts is None:
        raise Unauthenticated("The API key is not valid.")
    prefix, secret = parts
    row = (
        await session.execute(
            select(ApiKey, Organisation.slug)
            .join(Organisation, Organisation.id == ApiKey.org_id)
            .where(ApiKey.prefix == prefix)
        )
    ).first()
    if row is None or not secret_matches(secret, row[0].secret_hash) or row[0].revoked_at:
        raise Unauthenticated("The API key is not valid.")
    key, org_slug = row
    return Principal(
        org_id=key.org_id,
        org_slug=org_slug,
        role=Role(key.role),
        key_id=key.id,
        actor=f"key:{key.name}",
    )


async def get_org(session: AsyncSession, *, principal: Principal) -> Organisation:
    org = await session.get(Organisation, principal.org_id)
    if org is None:
        raise NotFound("Organisation not found.")
    return org


async def create_key(
    session: AsyncSession, *, principal: Principal, name: str, role: Role
) -> tuple[ApiKey, str]:
    key, plaintext = _add_key(session, principal, name=name, role=role)
    await session.flush()
    audit.record(
        session,
        principal,
        action="key.created",
        object_type="api_key",
        object_id=key.id,
        details={"name": name, "role": role.value},
    )
    return key, plaintext


async def list_keys(
    session: AsyncSession, *, principal: Principal, limit: int, cursor: str | None
) -> Page[ApiKey]:
    stmt = keys_of(principal.org_id)
    return await paginate(session, stmt, (ApiKey.created_at, ApiKey.id), limit=limit, cursor=cursor)


async def revoke_key(session: AsyncSession, *, principal: Principal, key_id: uuid.UUID) -> None:
    key = await session.scalar(keys_of(principal.org_id).where(ApiKey.id == key_id))
    if key is None:
        raise NotFound("API key not found.")
    if key.revoked_at is None and key.role == Role.admin:
        # Without an admin key nobody could manage keys, read the audit log or erase a
        # respondent again. The admin keys are locked (PostgreSQL), so two admins revoking each
        # other's key at once cannot both go through.
        admins = await session.scalars(
            keys_of(principal.org_id)
            .where(ApiKey.role == Role.admin.value, ApiKey.revoked_at.is_(None))
            .with_for_update()
        )
        if len(admins.all()) <= 1:
            raise Conflict("This is the organisation's last admin key: create another first.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(
            session,
            principal,
            action="key.revoked",
            object_type="api_key",
            object_id=key.id,
            details={"name": key.name},
        )


async def list_audit(
    session: AsyncSession, *, principal: Principal, limit: int, cursor: str | None
) -> Page[AuditEvent]:
    stmt = audit_of(principal.org_id)
    return await paginate(
        session, stmt, (AuditEvent.at, AuditEvent.id), limit=limit, cursor=cursor, newest_first=True
    )


async def operator_principal(
    session: AsyncSession, *, org_slug: str | None, actor: str
) -> Principal:
    """Whom an operator's command (the CLI) acts as: the admin of the organisation named, or
    of the only one when none is named. Raises `NotFound`, or `Invalid` when several
    organisations exist and none is named."""
    if org_slug is not None:
        org = await session.scalar(select(Organisation).where(Organisation.slug == org_slug))
        if org is None:
            raise NotFound(f"Organisation '{org_slug}' not found.")
        return Principal.system(org.id, org.slug, actor=actor)
    slugs = list(await session.scalars(select(Organisation.slug).order_by(Organisation.slug)))
    if not slugs:
        raise NotFound("There is no organisation yet (create one with `feedback org create`).")
    if len(slugs) > 1:
        raise Invalid.at(
            "/org", f"Several organisations exist ({', '.join(slugs)}): name the one meant."
        )
    return await operator_principal(session, org_slug=slugs[0], actor=actor)
