"""Use cases of surveys: definitions, drafts and immutable versions, schedules and waves.

Services flush, never commit: the caller's transaction (one per request) commits on success.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.clock import utc_text
from feedback.errors import Conflict, FieldError, Invalid, NotFound, pointer
from feedback.orgs import audit
from feedback.orgs.models import Organisation
from feedback.orgs.principal import Principal
from feedback.orgs.schemas import SLUG_PATTERN
from feedback.pagination import Page, paginate
from feedback.surveys import queries
from feedback.surveys.definition import Definition, label_errors, label_text, parse_definition
from feedback.surveys.models import Survey, SurveyVersion, VersionChange, Wave
from feedback.surveys.schedule import (
    WaveWindow,
    always_open,
    next_opening,
    numbered,
    survey_schedule,
    wave_accepting,
    wave_at,
    wave_status,
    waves_between,
)
from feedback.surveys.schemas import SurveyCreate, SurveyUpdate
from feedback.surveys.settings import (
    Schedule,
    SurveySettings,
    locale_errors,
    parse_schedule,
    parse_settings,
    public_question_errors,
    supporter_text_errors,
)
from feedback.surveys.xlsform import FILE_POINTER, UnsupportedRow, parse_xlsform
from feedback.validation import RANGE_TEXT, date_in_range, safe_text

SLUG = re.compile(SLUG_PATTERN)
MAX_LISTED_WAVES = 5000


# --- reading --------------------------------------------------------------------------------


async def get_survey(session: AsyncSession, *, org_id: uuid.UUID, slug: str) -> Survey:
    survey = await session.scalar(queries.survey_by_slug(org_id, slug))
    if survey is None:
        raise NotFound(f"Survey '{slug}' not found.")
    return survey


async def get_public_survey(
    session: AsyncSession, *, org_slug: str, survey_slug: str
) -> tuple[Organisation, Survey]:
    row = (await session.execute(queries.public_survey(org_slug, survey_slug))).first()
    if row is None:
        raise NotFound(f"Survey '{org_slug}/{survey_slug}' not found.")
    return row[0], row[1]


async def list_surveys(
    session: AsyncSession, *, principal: Principal, limit: int, cursor: str | None
) -> Page[Survey]:
    stmt = queries.surveys_of(principal.org_id)
    return await paginate(session, stmt, (Survey.slug,), limit=limit, cursor=cursor)


def survey_settings(survey: Survey) -> SurveySettings:
    return SurveySettings.model_validate(survey.settings)


def definition_of(version: SurveyVersion) -> Definition:
    return Definition.model_validate(version.definition)


async def current_version(session: AsyncSession, survey: Survey) -> SurveyVersion | None:
    """The latest published version: what a new form is rendered from."""
    return await session.scalar(
        queries.published_versions_of(survey.id).order_by(SurveyVersion.number.desc()).limit(1)
    )


async def draft_version(session: AsyncSession, survey: Survey) -> SurveyVersion | None:
    return await session.scalar(queries.draft_of(survey.id))


async def published_version(session: AsyncSession, survey: Survey, number: int) -> SurveyVersion:
    """A published version by number; a draft or unknown number is the submitter's mistake."""
    version = await session.scalar(
        queries.published_versions_of(survey.id).where(SurveyVersion.number == number)
    )
    if version is None:
        raise Invalid.at("/version", f"is not a published version of this survey ({number})")
    return version


async def get_version(
    session: AsyncSession, *, principal: Principal, slug: str, number: int
) -> SurveyVersion:
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    version = await session.scalar(
        queries.versions_of(survey.id).where(SurveyVersion.number == number)
    )
    if version is None:
        raise NotFound(f"Survey '{slug}' has no version {number}.")
    return version


async def list_versions(
    session: AsyncSession, *, principal: Principal, slug: str
) -> list[SurveyVersion]:
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    return list(
        (await session.scalars(queries.versions_of(survey.id).order_by(SurveyVersion.number))).all()
    )


async def series_breaks(session: AsyncSession, survey_id: uuid.UUID) -> dict[str, list[int]]:
    """Per question key, the versions at which its series breaks (ascending)."""
    rows = await session.execute(
        select(VersionChange.question_key, VersionChange.version)
        .where(VersionChange.survey_id == survey_id, VersionChange.breaks_series.is_(True))
        .distinct()
        .order_by(VersionChange.question_key, VersionChange.version)
    )
    out: dict[str, list[int]] = {}
    for key, version in rows:
        out.setdefault(key, []).append(version)
    return out


# --- creating and changing -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Parsed:
    settings: SurveySettings
    schedule: Schedule | None
    definition: Definition | None


def _parse_parts(
    *,
    settings: dict[str, Any] | None,
    schedule: dict[str, Any] | None,
    definition: dict[str, Any] | None,
    default_locale: str,
    schedule_given: bool = True,
    texts: dict[str, str | dict[str, str] | None] | None = None,
) -> _Parsed:
    """Validate settings, schedule, definition and the survey's own texts (title, description)
    together so every problem is reported."""
    errors: list[FieldError] = []
    parsed_settings = SurveySettings()
    parsed_schedule: Schedule | None = None
    parsed_definition: Definition | None = None
    try:
        parsed_settings = parse_settings(settings or {}, at="/settings")
    except Invalid as exc:
        errors += exc.errors
    if schedule_given and schedule is not None:
        try:
            parsed_schedule = parse_schedule(schedule, at="/schedule")
        except Invalid as exc:
            errors += exc.errors
    if definition is not None:
        try:
            parsed_definition = parse_definition(
                definition, locales=parsed_settings.locales, default_locale=default_locale
            )
        except Invalid as exc:
            errors += exc.errors
    errors += locale_errors(parsed_settings, default_locale)
    errors += supporter_text_errors(parsed_settings, default_locale)
    locales = parsed_settings.declared_locales(default_locale)
    for name, text in (texts or {}).items():
        if text is not None:
            errors += label_errors(text, pointer(name), locales)
    if parsed_definition is not None:
        errors += public_question_errors(parsed_settings, [parsed_definition])
    if errors:
        raise Invalid(errors, "The survey is invalid.")
    return _Parsed(parsed_settings, parsed_schedule, parsed_definition)


def title_text(title: str | dict[str, str], default_locale: str) -> str:
    """The title in the survey's default locale: what campaigners' views and reports show."""
    return label_text(title, default_locale, default_locale)[:300]


def _dump(model: Any) -> dict[str, Any]:
    out: dict[str, Any] = model.model_dump(mode="json")
    return out


async def create_survey(
    session: AsyncSession, *, principal: Principal, data: SurveyCreate, now: datetime
) -> Survey:
    """A new survey with draft 1; created at `now`, when an always-open survey's wave opens."""
    parsed = _parse_parts(
        settings=data.settings,
        schedule=data.schedule,
        definition=data.definition,
        default_locale=data.default_locale,
        texts={"title": data.title, "description": data.description},
    )
    assert parsed.definition is not None
    if await session.scalar(queries.survey_by_slug(principal.org_id, data.slug)):
        raise Conflict(f"A survey with slug '{data.slug}' already exists.")
    survey = Survey(
        org_id=principal.org_id,
        slug=data.slug,
        title=title_text(data.title, data.default_locale),
        title_texts=data.title if isinstance(data.title, dict) else None,
        description=data.description,
        default_locale=data.default_locale,
        schedule=None if parsed.schedule is None else _dump(parsed.schedule),
        settings=_dump(parsed.settings),
        wave_offset=0,
        created_at=now,
        updated_at=now,
    )
    session.add(survey)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"A survey with slug '{data.slug}' already exists.") from exc
    session.add(
        SurveyVersion(survey_id=survey.id, number=1, definition=parsed.definition.to_json())
    )
    audit.record(
        session,
        principal,
        action="survey.created",
        object_type="survey",
        object_id=survey.slug,
        details={"title": survey.title},
    )
    await session.flush()
    return survey


async def update_survey(
    session: AsyncSession, *, principal: Principal, slug: str, data: SurveyUpdate, now: datetime
) -> Survey:
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    schedule_given = "schedule" in data.model_fields_set
    texts = {"title": data.title, "description": data.description}
    if data.settings is not None:
        # Other locales must be met by the title and description the survey keeps, too.
        if data.title is None:
            texts["title"] = survey.title_texts
        if "description" not in data.model_fields_set:
            texts["description"] = survey.description
    parsed = _parse_parts(
        settings=data.settings if data.settings is not None else survey.settings,
        schedule=data.schedule,
        definition=None,
        default_locale=survey.default_locale,
        schedule_given=schedule_given,
        texts=texts,
    )
    changed: list[str] = []
    if data.title is not None and data.title != (survey.title_texts or survey.title):
        survey.title = title_text(data.title, survey.default_locale)
        survey.title_texts = data.title if isinstance(data.title, dict) else None
        changed.append("title")
    if "description" in data.model_fields_set and data.description != survey.description:
        survey.description = data.description
        changed.append("description")
    if data.settings is not None:
        await _check_locales_still_served(session, survey, parsed.settings)
        await _check_public_questions(session, survey, parsed.settings)
        survey.settings = _dump(parsed.settings)
        changed.append("settings")
    if schedule_given:
        await _change_schedule(session, survey, parsed.schedule, now=now)
        changed.append("schedule")
    if changed:
        audit.record(
            session,
            principal,
            action="survey.updated",
            object_type="survey",
            object_id=survey.slug,
            details={"fields": changed},
        )
        await session.flush()
    return survey


async def _check_locales_still_served(
    session: AsyncSession, survey: Survey, settings: SurveySettings
) -> None:
    """Declaring a new locale must not leave the current draft's labels incomplete."""
    draft = await draft_version(session, survey)
    if draft is None:
        return
    try:
        parse_definition(
            draft.definition, locales=settings.locales, default_locale=survey.default_locale
        )
    except Invalid as exc:
        raise Invalid(
            [
                FieldError("/settings/locales", "the current draft has no labels for: " + e.pointer)
                for e in exc.errors
            ],
            "The draft does not match these locales; update the draft first.",
        ) from exc


async def _check_public_questions(
    session: AsyncSession, survey: Survey, settings: SurveySettings
) -> None:
    """Public questions must be questions of the survey's versions (the draft included)."""
    if not settings.public_questions:
        return
    versions = (
        await session.scalars(
            select(SurveyVersion.definition)
            .where(SurveyVersion.survey_id == survey.id)
            .order_by(SurveyVersion.number)
        )
    ).all()
    errors = public_question_errors(settings, [Definition.model_validate(d) for d in versions])
    if errors:
        raise Invalid(errors, "The settings are invalid.")


async def _change_schedule(
    session: AsyncSession, survey: Survey, schedule: Schedule | None, *, now: datetime
) -> None:
    """A new schedule takes effect from its start; waves already numbered keep their windows.

    It must start no earlier than the last materialised wave ends, so no answered wave is
    redrawn, and its waves continue the numbering.
    """
    last = await session.scalar(queries.waves_of(survey.id).order_by(Wave.number.desc()).limit(1))
    if last is not None:
        if schedule is None:
            raise Conflict(
                "Waves have already run on the current schedule; an always-open schedule "
                "can only be set before the first wave."
            )
        if last.closes_at is None:  # the always-open wave ends where the new schedule begins
            if schedule.starts_at < now:
                raise Invalid.at("/schedule/starts_at", "must not be in the past")
            last.closes_at = schedule.starts_at
        elif schedule.starts_at < last.closes_at:
            raise Invalid.at(
                "/schedule/starts_at",
                f"must not be before the end of wave {last.number} ({utc_text(last.closes_at)})",
            )
        survey.wave_offset = last.number
    survey.schedule = None if schedule is None else _dump(schedule)


async def import_xlsform(
    session: AsyncSession,
    *,
    principal: Principal,
    slug: str,
    content: bytes,
    filename: str,
    now: datetime,
) -> tuple[Survey, list[UnsupportedRow]]:
    """An XLSForm becomes a new survey whose draft holds the questions feedback can represent;
    what it cannot is returned row by row, never dropped silently."""
    errors = []
    if not SLUG.fullmatch(slug):
        errors.append(FieldError("/slug", "must match ^[a-z0-9][a-z0-9-]{0,62}$"))
    if not safe_text(filename):
        # The name is stored (the audit log; the title when the form has none): as text.
        errors.append(
            FieldError(
                FILE_POINTER, "must have a name without NUL characters or unpaired surrogates"
            )
        )
    try:
        imported = parse_xlsform(content, filename)
    except Invalid as exc:
        raise Invalid(errors + exc.errors, exc.detail) from exc
    if errors:
        raise Invalid(errors)
    data = SurveyCreate(
        slug=slug,
        title=imported.title[:300],
        default_locale=imported.default_locale,
        settings={"locales": imported.locales},
        definition=imported.definition.to_json(),
    )
    survey = await create_survey(session, principal=principal, data=data, now=now)
    audit.record(
        session,
        principal,
        action="survey.imported",
        object_type="survey",
        object_id=slug,
        details={"filename": filename, "unsupported_rows": len(imported.unsupported)},
    )
    return survey, imported.unsupported


async def archive(
    session: AsyncSession, *, principal: Principal, slug: str, now: datetime
) -> Survey:
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    if survey.archived_at is None:
        survey.archived_at = now
        audit.record(
            session,
            principal,
            action="survey.archived",
            object_type="survey",
            object_id=survey.slug,
        )
        await session.flush()
    return survey


# --- waves -----------------------------------------------------------------------------------


async def wave_accepting_at(session: AsyncSession, survey: Survey, at: datetime) -> WaveWindow:
    """The wave that takes an answer given at `at` (`schedule.wave_accepting`); Conflict when
    archived or between waves. Reads only: the group commit creates the wave row."""
    row = (await session.execute(queries.stored_wave_at(survey.id, at))).first()
    stored = None if row is None else WaveWindow(*row)
    wave = wave_accepting(survey, at, stored)
    if isinstance(wave, Conflict):
        raise wave
    return wave


@dataclass(frozen=True, slots=True)
class WaveInfo:
    number: int
    label: str
    opens_at: datetime
    closes_at: datetime | None
    status: str
    responses: int


async def waves_in_range(
    session: AsyncSession,
    survey: Survey,
    start: date | None,
    end: date | None,
    response_counts: dict[int, int],
    *,
    now: datetime,
) -> list[WaveInfo]:
    """Waves opening between `start` and `end` (dates in the schedule's time zone, inclusive);
    without `end`, up to `now` plus the next wave to come."""
    out_of_range = [
        FieldError(f"/{name}", RANGE_TEXT)
        for name, value in (("from", start), ("to", end))
        if value is not None and not date_in_range(value)
    ]
    if out_of_range:
        raise Invalid(out_of_range, "The dates are out of range.")
    if start and end and start > end:
        raise Invalid([FieldError("/from", "must not be after `to`")])
    schedule = survey_schedule(survey)
    zone = schedule.zone if schedule else UTC
    lo = datetime.combine(start, time.min, tzinfo=zone) if start else None
    hi = datetime.combine(end, time.max, tzinfo=zone) if end else now

    def wanted(window: WaveWindow) -> bool:
        return (lo is None or window.opens_at >= lo) and window.opens_at <= hi

    windows: dict[int, WaveWindow] = {}
    if schedule is None:
        windows[1 + survey.wave_offset] = always_open(survey)
    else:
        computed = waves_between(
            schedule,
            max(lo or schedule.starts_at, schedule.starts_at),
            # Through `hi` itself (`wanted` is inclusive; waves_between's end is not): at the
            # instant a wave opens, it is open, and `next_opening` names the one after it.
            hi + timedelta(microseconds=1),
            limit=MAX_LISTED_WAVES + 1,
        )
        if len(computed) > MAX_LISTED_WAVES:
            raise Invalid([FieldError("/from", f"the range holds over {MAX_LISTED_WAVES} waves")])
        for window in computed:
            shifted = numbered(window, survey.wave_offset)
            windows[shifted.number] = shifted
        upcoming = next_opening(schedule, now) if end is None else None
        following = wave_at(schedule, upcoming) if upcoming else None
        if following is not None:
            shifted = numbered(following, survey.wave_offset)
            windows[shifted.number] = shifted
    # Stored rows are the record (they keep windows across schedule changes): they win.
    for wave in (await session.scalars(queries.waves_of(survey.id))).all():
        windows[wave.number] = WaveWindow(
            number=wave.number, label=wave.label, opens_at=wave.opens_at, closes_at=wave.closes_at
        )
    return [
        WaveInfo(
            number=w.number,
            label=w.label,
            opens_at=w.opens_at,
            closes_at=w.closes_at,
            status=wave_status(w, now),
            responses=response_counts.get(w.number, 0),
        )
        for w in sorted(windows.values(), key=lambda w: w.number)
        if wanted(w) or (end is None and w.opens_at > now)
    ]
