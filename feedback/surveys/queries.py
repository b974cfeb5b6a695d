"""Statements over survey tables, each scoped by organisation or by a survey already scoped."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select

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
