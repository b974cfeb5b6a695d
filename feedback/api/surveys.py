"""Routes of surveys, versions and waves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, delete, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.api.deps import Caller, Cursor, DbSession, Limit, Now
from feedback.api.pagination import PageOut
from feedback.api.query_dates import FromDate, ToDate, query_dates
from feedback.api.query_guard import known_query_parameters
from feedback.pagination import DEFAULT_LIMIT
from feedback.responses.service import counts_by_wave
from feedback.surveys import drafts, schedule, service
from feedback.surveys.changes import QuestionChange
from feedback.surveys.models import Survey, SurveyVersion
from feedback.surveys.schemas import (
    ChangeRead,
    DraftPut,
    PublishedRead,
    PublishIn,
    SurveyCreate,
    SurveyRead,
    SurveyUpdate,
    UnsupportedRowRead,
    VersionRead,
    WaveRead,
    XlsformImported,
)
from feedback.validation import INT_MAX

Slug = FromPath[str]


@dataclass
class XlsformUpload:
    """multipart/form-data: the workbook and the new survey's slug."""

    file: UploadFile
    slug: str


async def survey_read(session: AsyncSession, survey: Survey, now: datetime) -> SurveyRead:
    current = await service.current_version(session, survey)
    draft = await service.draft_version(session, survey)
    window = None if survey.archived_at else schedule.window_at(survey, now)
    wave = None
    if window is not None:
        counts = await counts_by_wave(session, survey.id, numbers=[window.number])
        wave = WaveRead(
            number=window.number,
            label=window.label,
            opens_at=window.opens_at,
            closes_at=window.closes_at,
            status="open",
            responses=counts.get(window.number, 0),
        )
    return SurveyRead(
        slug=survey.slug,
        title=survey.title_texts or survey.title,
        description=survey.description,
        default_locale=survey.default_locale,
        schedule=survey.schedule,
        settings=survey.settings,
        created_at=survey.created_at,
        archived_at=survey.archived_at,
        current_version=current.number if current else None,
        draft_version=draft.number if draft else None,
        current_wave=wave,
        next_opens_at=None if survey.archived_at else schedule.next_opens_at(survey, now),
    )


def _changes(changes: list[dict[str, Any]] | list[QuestionChange]) -> list[ChangeRead]:
    return [ChangeRead.model_validate(c, from_attributes=True) for c in changes]


def version_read(
    version: SurveyVersion, draft_changes: list[QuestionChange] | None = None
) -> VersionRead:
    """A version as stored; a draft's changes (not stored until it is published) when given."""
    return VersionRead(
        version=version.number,
        status="draft" if version.published_at is None else "published",
        definition=version.definition,
        note=version.note,
        created_at=version.created_at,
        published_at=version.published_at,
        changes=_changes(version.changes if draft_changes is None else draft_changes),
    )


class SurveyController(Controller):
    path = "/surveys"
    tags = ["surveys"]

    @post(opt={"role": "campaigner"}, operation_id="CreateSurvey")
    async def create_survey(
        self, db_session: DbSession, principal: Caller, now: Now, data: JSONBody[SurveyCreate]
    ) -> SurveyRead:
        survey = await service.create_survey(db_session, principal=principal, data=data, now=now)
        return await survey_read(db_session, survey, now)

    @get(opt={"role": "analyst"}, operation_id="ListSurveys")
    async def list_surveys(
        self,
        db_session: DbSession,
        principal: Caller,
        now: Now,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> PageOut[SurveyRead]:
        page = await service.list_surveys(
            db_session, principal=principal, limit=limit, cursor=cursor
        )
        items = [await survey_read(db_session, s, now) for s in page.items]
        return PageOut[SurveyRead](items=items, next_cursor=page.next_cursor)

    @get("/{slug:str}", opt={"role": "analyst"}, operation_id="GetSurvey")
    async def get_survey(
        self, db_session: DbSession, principal: Caller, now: Now, slug: Slug
    ) -> SurveyRead:
        survey = await service.get_survey(db_session, org_id=principal.org_id, slug=slug)
        return await survey_read(db_session, survey, now)

    @patch("/{slug:str}", opt={"role": "campaigner"}, operation_id="UpdateSurvey")
    async def update_survey(
        self,
        db_session: DbSession,
        principal: Caller,
        now: Now,
        slug: Slug,
        data: JSONBody[SurveyUpdate],
    ) -> SurveyRead:
        survey = await service.update_survey(
            db_session, principal=principal, slug=slug, data=data, now=now
        )
        return await survey_read(db_session, survey, now)

    @put("/{slug:str}/draft", opt={"role": "campaigner"}, operation_id="PutDraft")
    async def put_draft(
        self, db_session: DbSession, principal: Caller, slug: Slug, data: JSONBody[DraftPut]
    ) -> VersionRead:
        saved = await drafts.put_draft(
            db_session, principal=principal, slug=slug, definition=data.definition, note=data.note
        )
        return version_read(saved.draft, saved.changes)

    @delete("/{slug:str}/draft", opt={"role": "campaigner"}, operation_id="DiscardDraft")
    async def discard_draft(self, db_session: DbSession, principal: Caller, slug: Slug) -> None:
        await drafts.discard_draft(db_session, principal=principal, slug=slug)

    @post("/{slug:str}/publish", opt={"role": "campaigner"}, operation_id="Publish")
    async def publish_draft(
        self,
        db_session: DbSession,
        principal: Caller,
        now: Now,
        slug: Slug,
        data: JSONBody[PublishIn | None] = None,
    ) -> PublishedRead:
        version, changes = await drafts.publish(
            db_session,
            principal=principal,
            slug=slug,
            note=data.note if data else None,
            confirm_breaks=data.confirm_breaks if data else False,
            now=now,
        )
        assert version.published_at is not None
        return PublishedRead(
            version=version.number, published_at=version.published_at, changes=_changes(changes)
        )

    @get("/{slug:str}/versions", opt={"role": "analyst"}, operation_id="ListVersions")
    async def list_versions(
        self, db_session: DbSession, principal: Caller, slug: Slug
    ) -> list[VersionRead]:
        versions = await service.list_versions(db_session, principal=principal, slug=slug)
        if any(v.published_at is None for v in versions):
            pending = await drafts.pending_changes(db_session, principal=principal, slug=slug)
            return [version_read(v, pending if v.published_at is None else None) for v in versions]
        return [version_read(v) for v in versions]

    @get("/{slug:str}/versions/{number:int}", opt={"role": "analyst"}, operation_id="GetVersion")
    async def get_version(
        self,
        db_session: DbSession,
        principal: Caller,
        slug: Slug,
        number: Annotated[int, Parameter(ge=1, le=INT_MAX)],
    ) -> VersionRead:
        version = await service.get_version(
            db_session, principal=principal, slug=slug, number=number
        )
        if version.published_at is None:
            pending = await drafts.pending_changes(db_session, principal=principal, slug=slug)
            return version_read(version, pending)
        return version_read(version)

    @get(
        "/{slug:str}/waves",
        opt={"role": "analyst"},
        operation_id="ListWaves",
        guards=[known_query_parameters],
    )
    async def list_waves(
        self,
        db_session: DbSession,
        principal: Caller,
        now: Now,
        slug: Slug,
        start: FromDate = None,
        end: ToDate = None,
    ) -> list[WaveRead]:
        first, last = query_dates(**{"from": start, "to": end})
        survey = await service.get_survey(db_session, org_id=principal.org_id, slug=slug)
        counts = await counts_by_wave(db_session, survey.id)
        waves = await service.waves_in_range(db_session, survey, first, last, counts, now=now)
        return [WaveRead.model_validate(w, from_attributes=True) for w in waves]

    @post(
        "/{slug:str}/archive", opt={"role": "campaigner"}, operation_id="Archive", status_code=200
    )
    async def archive_survey(
        self, db_session: DbSession, principal: Caller, now: Now, slug: Slug
    ) -> SurveyRead:
        survey = await service.archive(db_session, principal=principal, slug=slug, now=now)
        return await survey_read(db_session, survey, now)

    @post(
        "/import/xlsform",
        opt={"role": "campaigner"},
        operation_id="ImportXlsform",
        request_max_body_size=10 * 1024 * 1024,
    )
    async def import_xlsform(
        self,
        db_session: DbSession,
        principal: Caller,
        now: Now,
        data: Annotated[XlsformUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> XlsformImported:
        content = await data.file.read()
        survey, unsupported = await service.import_xlsform(
            db_session,
            principal=principal,
            slug=data.slug,
            content=content,
            filename=data.file.filename or "form.xlsx",
            now=now,
        )
        return XlsformImported(
            survey=await survey_read(db_session, survey, now),
            unsupported=[
                UnsupportedRowRead.model_validate(u, from_attributes=True) for u in unsupported
            ],
        )
