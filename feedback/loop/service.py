"""Use cases of decisions. Services flush; the request commits."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.db import utcnow
from feedback.errors import FieldError, Invalid, NotFound
from feedback.loop.models import Decision
from feedback.loop.schemas import DecisionCreate, DecisionUpdate
from feedback.orgs import audit
from feedback.orgs.principal import Principal
from feedback.pagination import Page, check_limit, decode_cursor, page_from_rows
from feedback.surveys.definition import Definition
from feedback.surveys.models import Survey, SurveyVersion
from feedback.surveys.service import get_survey


async def _known_keys(session: AsyncSession, survey: Survey) -> set[str]:
    """Every question key the survey has asked or is about to ask (published or draft)."""
    definitions = (
        await session.scalars(
            select(SurveyVersion.definition).where(SurveyVersion.survey_id == survey.id)
        )
    ).all()
    return {q.key for d in definitions for q in Definition.model_validate(d).questions}


async def _check_keys(session: AsyncSession, survey: Survey, keys: list[str]) -> list[str]:
    known = await _known_keys(session, survey)
    errors = [
        FieldError(f"/question_keys/{i}", f"is not a question of survey '{survey.slug}'")
        for i, key in enumerate(keys)
        if key not in known
    ]
    if errors:
        raise Invalid(errors, "Unknown question keys.")
    return list(dict.fromkeys(keys))


async def create_decision(
    session: AsyncSession, *, principal: Principal, slug: str, data: DecisionCreate
) -> Decision:
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    decision = Decision(
        org_id=principal.org_id,
        survey_id=survey.id,
        title=data.title,
        description=data.description,
        decided_at=data.decided_at,
        question_keys=await _check_keys(session, survey, data.question_keys),
        public=data.public,
    )
    session.add(decision)
    await session.flush()
    audit.record(
        session,
        principal,
        action="decision.created",
        object_type="decision",
        object_id=decision.id,
        details={"survey": slug, "title": data.title},
    )
    return decision


def _scoped(principal: Principal, survey: Survey) -> Select[Decision]:
    return select(Decision).where(
        Decision.org_id == principal.org_id, Decision.survey_id == survey.id
    )


async def get_decision(
    session: AsyncSession, *, principal: Principal, slug: str, decision_id: uuid.UUID
) -> Decision:
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    decision = await session.scalar(_scoped(principal, survey).where(Decision.id == decision_id))
    if decision is None:
        raise NotFound("Decision not found.")
    return decision


async def list_decisions(
    session: AsyncSession, *, principal: Principal, slug: str, limit: int, cursor: str | None
) -> Page[Decision]:
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    stmt = _scoped(principal, survey)
    after = decode_cursor(cursor, datetime.fromisoformat, uuid.UUID)
    if after:
        stmt = stmt.where(tuple_(Decision.decided_at, Decision.id) > tuple(after))
    rows = (
        await session.scalars(
            stmt.order_by(Decision.decided_at, Decision.id).limit(check_limit(limit) + 1)
        )
    ).all()
    return page_from_rows(rows, limit, lambda d: (d.decided_at.isoformat(), str(d.id)))


async def update_decision(
    session: AsyncSession,
    *,
    principal: Principal,
    slug: str,
    decision_id: uuid.UUID,
    data: DecisionUpdate,
) -> Decision:
    decision = await get_decision(session, principal=principal, slug=slug, decision_id=decision_id)
    changed = sorted(data.model_fields_set)
    for name in changed:
        value = getattr(data, name)
        if value is None:
            raise Invalid.at(f"/{name}", "must not be null")
        if name == "question_keys":
            survey = await session.get(Survey, decision.survey_id)
            assert survey is not None
            value = await _check_keys(session, survey, value)
        setattr(decision, name, value)
    if changed:
        decision.updated_at = utcnow()
        audit.record(
            session,
            principal,
            action="decision.updated",
            object_type="decision",
            object_id=decision.id,
            details={"fields": changed},
        )
        await session.flush()
    return decision


async def decisions_for_survey(session: AsyncSession, survey_id: uuid.UUID) -> list[Decision]:
    """Every decision of a survey already scoped to its organisation, oldest first."""
    return list(
        (
            await session.scalars(
                select(Decision)
                .where(Decision.survey_id == survey_id)
                .order_by(Decision.decided_at, Decision.id)
            )
        ).all()
    )
