"""Respondents: supporters as their organisation knows them, stored pseudonymously.

- `external_ref` (a CRM id, an email) is stored only as HMAC-SHA256 keyed by the instance secret
  over the organisation's id and the ref, so the organisation finds a respondent by ref while
  the database never holds the ref, and the same ref in two organisations hashes differently.
- The personal `token` (for survey links) is random, shown once and stored as its SHA-256.
- An embed's `anonymous_id` (random, made in the browser) becomes a respondent whose id is a keyed
  hash of it: the same browser is linked across waves, and nothing about it is stored.
- `attributes` (segments for analysis) are set by the organisation only, never by a supporter.

Erasure removes the respondent, every response of theirs with every revision's document, every
answer row derived from them and their responses' webhook events (which would otherwise still
be delivered); the audit log records that it happened, with no identifying detail.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, delete, false, or_, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from feedback.analysis.models import TrendRollup
from feedback.db import utcnow
from feedback.errors import Conflict, FieldError, Invalid, NotFound
from feedback.loop.models import WebhookAttempt, WebhookDelivery
from feedback.orgs import audit
from feedback.orgs.keys import hash_secret
from feedback.orgs.principal import Principal
from feedback.pagination import Page, paginate
from feedback.responses import change_log, queries
from feedback.responses.models import Answer, Respondent, Response, ResponseRevision
from feedback.responses.schemas import ATTRIBUTE_KEY_PATTERN
from feedback.surveys.models import Survey

Attributes = dict[str, str | int | float | bool | None]
T = TypeVar("T")


def ref_hash(secret: str, org_id: uuid.UUID, external_ref: str) -> str:
    """The stored form of an external ref (surrounding whitespace is not part of it)."""
    message = b"respondent-ref\x00" + org_id.bytes + external_ref.strip().encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def anonymous_respondent_id(secret: str, org_id: uuid.UUID, anonymous_id: str) -> uuid.UUID:
    """The respondent id of an embed's anonymous id: stable, unguessable without the secret."""
    message = b"anonymous-id\x00" + org_id.bytes + anonymous_id.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return uuid.UUID(bytes=digest[:16], version=4)


_ABSENT = object()


def _changed(before: Mapping[str, object], after: Mapping[str, object]) -> list[str]:
    """The attributes added, removed or given another value, as a segment reads them: 1, 1.0
    and true are three segments (`"1"`, `"1.0"`, `"true"`), though equal in Python."""

    def held(values: Mapping[str, object], name: str) -> tuple[type, object]:
        value = values.get(name, _ABSENT)
        return type(value), value

    return [k for k in before.keys() | after.keys() if held(before, k) != held(after, k)]


def new_token() -> str:
    # 256 bits: a plain SHA-256 at rest is as strong as a slow KDF (see orgs.keys).
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Erased:
    responses: int
    answers: int


async def create_respondent(
    session: AsyncSession,
    *,
    principal: Principal,
    secret: str,
    external_ref: str | None,
    attributes: Attributes,
) -> tuple[Respondent, str]:
    """A known respondent and their personal token (returned once). An external ref already
    on file is a Conflict that names the existing respondent, so a CRM sync can re-run."""
    [created] = await create_respondents(
        session, principal=principal, secret=secret, people=[(external_ref, attributes)]
    )
    return created


async def create_respondents(
    session: AsyncSession,
    *,
    principal: Principal,
    secret: str,
    people: Sequence[tuple[str | None, Attributes]],
) -> list[tuple[Respondent, str]]:
    """Known respondents with their personal tokens (returned once), in the order given: one
    query for refs already on file and one batched insert, however many there are. All or
    nothing: a ref already on file (or given twice) is a Conflict naming that respondent."""
    hashes = [None if ref is None else ref_hash(secret, principal.org_id, ref) for ref, _ in people]
    given = [h for h in hashes if h is not None]
    if len(set(given)) != len(given):
        raise Conflict("The same external_ref is given twice.")
    for batch in _batches(given, 500):
        existing = await session.scalar(
            select(Respondent.id).where(
                Respondent.org_id == principal.org_id, Respondent.ref_hash.in_(batch)
            )
        )
        if existing is not None:
            raise Conflict("A respondent with this external_ref exists.", id=str(existing))
    created: list[tuple[Respondent, str]] = []
    for hashed, (_, attributes) in zip(hashes, people, strict=True):
        token = new_token()
        respondent = Respondent(
            org_id=principal.org_id,
            kind="known",
            ref_hash=hashed,
            token_hash=hash_secret(token),
            attributes=dict(attributes),
        )
        created.append((respondent, token))
    session.add_all([respondent for respondent, _ in created])
    try:
        await session.flush()
    except IntegrityError as exc:  # the same ref created concurrently
        raise Conflict("A respondent with this external_ref exists.") from exc
    for (respondent, _), hashed, (_, attributes) in zip(created, hashes, people, strict=True):
        audit.record(
            session,
            principal,
            action="respondent.created",
            object_type="respondent",
            object_id=respondent.id,
            # Names of attributes only: their values are personal data the log must not keep.
            details={"attributes": sorted(attributes), "external_ref": hashed is not None},
        )
    return created


def _batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    # Bound the IN list: SQLite allows 32,766 parameters a statement, asyncpg 32,767.
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def get_respondent(
    session: AsyncSession, *, principal: Principal, respondent_id: uuid.UUID
) -> Respondent:
    respondent = await session.scalar(
        queries.respondents_of(principal.org_id).where(Respondent.id == respondent_id)
    )
    if respondent is None:
        raise NotFound("Respondent not found.")
    return respondent


async def list_respondents(
    session: AsyncSession,
    *,
    principal: Principal,
    attributes: Mapping[str, str],
    limit: int,
    cursor: str | None,
) -> Page[Respondent]:
    """The organisation's respondents, oldest first, whose attributes have the given values
    (compared as text, as segments are: `true`, `42`, `NL`)."""
    bad = [
        FieldError(f"/attribute.{name}", "is not an attribute name")
        for name in attributes
        if re.fullmatch(ATTRIBUTE_KEY_PATTERN, name) is None
    ]
    if bad:
        raise Invalid(bad, "Attribute filters name attributes: attribute.NAME=VALUE.")
    stmt = queries.respondents_of(principal.org_id)
    for name, value in attributes.items():
        stmt = stmt.where(queries.attribute_value(name) == value)
    keys = (Respondent.created_at, Respondent.id)
    return await paginate(session, stmt, keys, limit=limit, cursor=cursor)


async def update_respondent(
    session: AsyncSession,
    *,
    principal: Principal,
    respondent_id: uuid.UUID,
    attributes: Attributes,
) -> Respondent:
    """Replace the respondent's attributes (PUT: what is sent is the whole set)."""
    respondent = await get_respondent(session, principal=principal, respondent_id=respondent_id)
    # Splits by an attribute that changed, was added or removed are recounted from the rollups
    # (analysis.rollups); splits by the others are not.
    names = _changed(respondent.attributes or {}, attributes)
    changed = change_log.attributes_changed(principal.org_id, names)
    if changed is not None:
        await session.execute(changed)
    respondent.attributes = dict(attributes)
    if names:
        # The ORM compares the old and new dicts with ==, so 1 -> true alone was not written.
        flag_modified(respondent, "attributes")
    respondent.updated_at = utcnow()
    audit.record(
        session,
        principal,
        action="respondent.updated",
        object_type="respondent",
        object_id=respondent.id,
        details={"attributes": sorted(attributes)},
    )
    await session.flush()
    return respondent


async def export_respondent(
    session: AsyncSession, *, principal: Principal, respondent_id: uuid.UUID
) -> dict[str, Any]:
    """Everything stored about one respondent (subject access): their record, and every
    response with every revision as it came. Refs and tokens exist only as hashes, which
    identify nobody, so they are not part of it."""
    respondent = await get_respondent(session, principal=principal, respondent_id=respondent_id)
    rows = (
        await session.execute(
            select(Response, Survey.slug)
            .join(Survey, Survey.id == Response.survey_id)
            .where(Response.org_id == principal.org_id, Response.respondent_id == respondent.id)
            .order_by(Response.submitted_at, Response.id)
        )
    ).all()
    responses = []
    for response, slug in rows:
        revisions = (await session.scalars(queries.revisions_of(response.id))).all()
        responses.append(
            {
                "survey": slug,
                "response_id": str(response.response_id),
                "wave": response.wave_number,
                "channel": response.channel,
                "locale": response.locale,
                "submitted_at": response.submitted_at.isoformat(),
                "revisions": [
                    {
                        "revision": r.revision,
                        "version": r.version,
                        "submitted_at": r.submitted_at.isoformat(),
                        "document": r.document,
                    }
                    for r in revisions
                ],
            }
        )
    audit.record(
        session,
        principal,
        action="respondent.exported",
        object_type="respondent",
        object_id=respondent.id,
    )
    return {
        "respondent": {
            "id": str(respondent.id),
            "kind": respondent.kind,
            "has_external_ref": respondent.ref_hash is not None,
            "attributes": respondent.attributes,
            "created_at": respondent.created_at.isoformat(),
            "updated_at": respondent.updated_at.isoformat(),
        },
        "responses": responses,
    }


async def erase_respondent(
    session: AsyncSession, *, principal: Principal, respondent_id: uuid.UUID
) -> Erased:
    """Remove the respondent and everything derived from their answers, in one transaction.

    Explicit deletes rather than ON DELETE CASCADE, so the erasure does not depend on SQLite's
    foreign-key pragma being on for whichever connection runs it.
    """
    respondent = await get_respondent(session, principal=principal, respondent_id=respondent_id)
    theirs = select(Response.id).where(
        Response.org_id == principal.org_id, Response.respondent_id == respondent.id
    )
    waves = (
        await session.execute(
            select(Response.survey_id, Response.wave_number).where(Response.id.in_(theirs))
        )
    ).all()
    changed = change_log.answers_changed((survey_id, wave) for survey_id, wave in waves)
    if changed is not None:
        await session.execute(changed)
    # Nothing derived from their answers stays, not even inside a split's kept counts: the
    # pieces of the waves they answered go (their other waves never held them, and stay kept).
    answered: dict[uuid.UUID, set[int]] = defaultdict(set)
    for survey_id, wave in waves:
        answered[survey_id].add(wave)
    for survey_id, numbers in answered.items():
        await session.execute(
            delete(TrendRollup).where(
                TrendRollup.survey_id == survey_id, TrendRollup.wave_number.in_(sorted(numbers))
            )
        )
    await _drop_events(session, principal.org_id, theirs)
    answers = await session.execute(delete(Answer).where(Answer.response_id.in_(theirs)))
    await session.execute(delete(ResponseRevision).where(ResponseRevision.response_id.in_(theirs)))
    responses = await session.execute(
        delete(Response).where(
            Response.org_id == principal.org_id, Response.respondent_id == respondent.id
        )
    )
    await session.execute(delete(Respondent).where(Respondent.id == respondent.id))
    erased = Erased(responses=_count(responses), answers=_count(answers))
    audit.record(
        session,
        principal,
        action="respondent.erased",
        object_type="respondent",
        object_id=respondent.id,
        details={"responses": erased.responses, "answers": erased.answers},
    )
    return erased


async def _drop_events(session: AsyncSession, org_id: uuid.UUID, theirs: Select[uuid.UUID]) -> None:
    """Their responses' webhook events, delivered or not: a pending one would still go out
    after the erasure. A `response.created` event's id is the response's row id; a
    `response.revised` one names the response by survey slug and client id (unique per survey
    only). Explicit deletes of the attempts, as above, not the foreign key's cascade."""
    rows = (
        await session.execute(
            select(Survey.slug, Response.response_id)
            .join(Survey, Survey.id == Response.survey_id)
            .where(Response.id.in_(theirs))
        )
    ).all()
    by_survey: dict[str, list[str]] = defaultdict(list)
    for slug, response_id in rows:
        by_survey[slug].append(str(response_id))
    revised = [
        (WebhookDelivery.payload[("data", "survey")].as_string() == slug)
        & WebhookDelivery.payload[("data", "response_id")].as_string().in_(ids)
        for slug, ids in by_survey.items()
    ]
    events = select(WebhookDelivery.webhook_id, WebhookDelivery.event_id).where(
        WebhookDelivery.org_id == org_id,
        or_(
            (WebhookDelivery.event_type == "response.created")
            & WebhookDelivery.event_id.in_(theirs),
            (WebhookDelivery.event_type == "response.revised") & or_(false(), *revised),
        ),
    )
    gone = (await session.execute(events)).all()
    for batch in _batches(gone, 500):
        await session.execute(
            delete(WebhookAttempt).where(
                tuple_(WebhookAttempt.webhook_id, WebhookAttempt.event_id).in_(batch)
            )
        )
        await session.execute(
            delete(WebhookDelivery).where(
                tuple_(WebhookDelivery.webhook_id, WebhookDelivery.event_id).in_(batch)
            )
        )


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
