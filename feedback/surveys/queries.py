"""Statements over survey tables, each scoped by organisation or by a survey already scoped."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, or_, select

from feedback.orgs.models import Organisation
from feedback.surveys.models import Survey, SurveyVersion, VersionChange, Wave


def surveys_of(org_id: uuid.UUID) -> Select[Survey]:
    return select(Survey).where(Survey.org_id == org_id)


def survey_by_slug(org_id: uuid.UUID, slug: str) -> Select[Survey]:
    return surveys_of(org_id).where(Survey.slug == slug)


def public_survey(org_slug: str, survey_slug: str) -> Select[Organisation, Survey]:
    return (
        select(Organisation, Survey)
        .join(Survey, Survey.org_id == Organisation.id)
        .where(Organisation.slug == org_slug, Survey.slug == survey_slug)
    )


def versions_of(survey_id: uuid.UUID) -> Select[SurveyVersion]:
    return select(SurveyVersion).where(SurveyVersion.survey_id == survey_id)


def published_versions_of(survey_id: uuid.UUID) -> Select[SurveyVersion]:
    return versions_of(survey_id).where(SurveyVersion.published_at.is_not(None))


def draft_of(survey_id: uuid.UUID) -> Select[SurveyVersion]:
    return versions_of(survey_id).where(SurveyVersion.published_at.is_(None))


def changes_of(survey_id: uuid.UUID) -> Select[VersionChange]:
    return select(VersionChange).where(VersionChange.survey_id == survey_id)


def waves_of(survey_id: uuid.UUID) -> Select[Wave]:
    return select(Wave).where(Wave.survey_id == survey_id)


def stored_wave_at(
    survey_id: uuid.UUID, instant: datetime
) -> Select[int, str, datetime, datetime | None]:
    """The stored wave whose window holds `instant` (number, label, opens_at, closes_at): the
    one wave query of both the async services and the group commit's blocking statements."""
    return (
        select(Wave.number, Wave.label, Wave.opens_at, Wave.closes_at)
        .where(
            Wave.survey_id == survey_id,
            Wave.opens_at <= instant,
            or_(Wave.closes_at.is_(None), Wave.closes_at > instant),
        )
        .order_by(Wave.number.desc())
        .limit(1)
    )
