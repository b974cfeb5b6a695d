"""Use cases of a survey's draft: saving it, discarding it and publishing it as a version.

A campaigner sees what a draft would change before it is published: saving a draft answers its
changes against the latest published version, and publishing a change that breaks a question's
series must be confirmed. Publishing a draft that equals the latest version is refused, so no
empty version is minted. Services flush, never commit (feedback/surveys/service.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.errors import Conflict, NotFound
from feedback.loop.outbox import emit
from feedback.orgs import audit
from feedback.orgs.principal import Principal
from feedback.surveys import queries
from feedback.surveys.changes import QuestionChange, diff_definitions
from feedback.surveys.definition import Definition, parse_definition
from feedback.surveys.models import Survey, SurveyVersion, VersionChange
from feedback.surveys.service import definition_of, get_survey, survey_settings
from feedback.surveys.settings import public_question_errors


@dataclass(frozen=True, slots=True)
class DraftSaved:
    """The saved draft and what publishing it would change."""

    draft: SurveyVersion
    changes: list[QuestionChange]


async def put_draft(
    session: AsyncSession,
    *,
    principal: Principal,
    slug: str,
    definition: dict[str, Any],
    note: str | None,
) -> DraftSaved:
    """Create or replace the survey's draft."""
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    _require_not_archived(survey)
    settings = survey_settings(survey)
    parsed = parse_definition(
        definition, locales=settings.locales, default_locale=survey.default_locale
    )
    # Locked as publish locks it: a publish committing between this read and the write below
    # would otherwise have the write land on the version it just froze (PostgreSQL's trigger
    # refuses it, a 500). Locked, the read waits and then finds no draft: this makes the next.
    draft = await session.scalar(queries.draft_of(survey.id).with_for_update())
    if draft is None:
        latest = await session.scalar(
            select(func.max(SurveyVersion.number)).where(SurveyVersion.survey_id == survey.id)
        )
        draft = SurveyVersion(survey_id=survey.id, number=(latest or 0) + 1)
        session.add(draft)
    draft.definition = parsed.to_json()
    draft.note = note
    audit.record(
        session,
        principal,
        action="draft.saved",
        object_type="survey_version",
        object_id=f"{survey.slug}/{draft.number}",
    )
    try:
        await session.flush()
    except IntegrityError as exc:  # another request created the draft at the same moment
        raise Conflict("The draft changed concurrently; retry.") from exc
    published = await _published(session, survey)
    return DraftSaved(draft, _changes(survey, published, parsed))


async def pending_changes(
    session: AsyncSession, *, principal: Principal, slug: str
) -> list[QuestionChange]:
    """What publishing the survey's draft would change now (none without a draft)."""
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    draft = await session.scalar(queries.draft_of(survey.id))
    if draft is None:
        return []
    return _changes(survey, await _published(session, survey), definition_of(draft))


async def discard_draft(session: AsyncSession, *, principal: Principal, slug: str) -> None:
    """Delete the survey's draft; the published versions stay as they are."""
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    _require_not_archived(survey)
    draft = await session.scalar(queries.draft_of(survey.id).with_for_update())
    if draft is None:
        raise NotFound(f"Survey '{slug}' has no draft.")
    published = [definition_of(v) for v in await _published(session, survey)]
    # The results page may already list a question that only the draft asks.
    settings = survey_settings(survey)
    if public_question_errors(settings, published):
        asked = {key for definition in published for key in definition.questions_by_key}
        raise Conflict(
            "settings.public_questions names questions that only the draft asks; "
            "remove them from the settings first.",
            questions=[key for key in settings.public_questions if key not in asked],
        )
    await session.delete(draft)
    audit.record(
        session,
        principal,
        action="draft.discarded",
        object_type="survey_version",
        object_id=f"{survey.slug}/{draft.number}",
    )
    await session.flush()


async def publish(
    session: AsyncSession,
    *,
    principal: Principal,
    slug: str,
    note: str | None,
    now: datetime,
    confirm_breaks: bool = False,
) -> tuple[SurveyVersion, list[QuestionChange]]:
    """Freeze the draft as the next version. Refused when there is no draft, when it equals
    the latest published version, or when it breaks a series and `confirm_breaks` is false."""
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    _require_not_archived(survey)
    draft = await session.scalar(queries.draft_of(survey.id).with_for_update())
    if draft is None:
        raise Conflict("There is no draft to publish; PUT a draft first.")
    published = await _published(session, survey)
    if published and published[-1].definition == draft.definition:
        raise Conflict(
            f"The draft is identical to version {published[-1].number}; there is nothing to "
            "publish. Change the draft or discard it."
        )
    changes = _changes(survey, published, definition_of(draft))
    breaking = [c for c in changes if c.breaks_series]
    if breaking and not confirm_breaks:
        raise Conflict(
            f"Publishing breaks the series of {len({c.key for c in breaking})} question(s); "
            'send `"confirm_breaks": true` to publish anyway.',
            changes=[change_json(c) for c in breaking],
        )
    draft.published_at = now
    if note is not None:
        draft.note = note
    draft.changes = [change_json(c) for c in changes]
    for change in changes:
        session.add(
            VersionChange(
                survey_id=survey.id,
                version=draft.number,
                question_key=change.key,
                kind=change.kind,
                breaks_series=change.breaks_series,
                detail=change.detail,
            )
        )
    audit.record(
        session,
        principal,
        action="version.published",
        object_type="survey_version",
        object_id=f"{survey.slug}/{draft.number}",
        details={"changes": len(changes), "breaks_confirmed": bool(breaking)},
    )
    await emit(
        session,
        org_id=survey.org_id,
        event_type="version.published",
        data={
            "survey": survey.slug,
            "version": draft.number,
            "note": draft.note,
            "changes": draft.changes,
        },
        now=now,
    )
    await session.flush()
    return draft, changes


def change_json(change: QuestionChange) -> dict[str, Any]:
    return {
        "key": change.key,
        "kind": change.kind,
        "breaks_series": change.breaks_series,
        "detail": change.detail,
    }


async def _published(session: AsyncSession, survey: Survey) -> Sequence[SurveyVersion]:
    return (
        await session.scalars(
            queries.published_versions_of(survey.id).order_by(SurveyVersion.number)
        )
    ).all()


def _changes(
    survey: Survey, published: Sequence[SurveyVersion], definition: Definition
) -> list[QuestionChange]:
    """What `definition` changes against the latest of the `published` versions."""
    history = [definition_of(v) for v in published]
    return diff_definitions(
        history[-1] if history else None,
        definition,
        history=history,
        default_locale=survey.default_locale,
    )


def _require_not_archived(survey: Survey) -> None:
    if survey.archived_at is not None:
        raise Conflict(f"Survey '{survey.slug}' is archived.")
