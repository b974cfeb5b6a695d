"""Routes of responses for analysts (lists, details, exports, the codebook) and the import."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream

from feedback.api.deps import (
    READS,
    AppSettings,
    Caller,
    Cursor,
    DbSession,
    Limit,
    Now,
    Submitter,
    clock_of,
    read_target_of,
    sessions_of,
)
from feedback.api.pagination import PageOut
from feedback.api.query_guard import known_query_parameters
from feedback.pagination import DEFAULT_LIMIT
from feedback.responses import exports, imports, service
from feedback.responses.models import Response, ResponseRevision
from feedback.responses.schemas import (
    CodebookQuestion,
    CodebookRead,
    ImportRead,
    RejectedLine,
    ResponseDetail,
    ResponseRead,
    RevisionRead,
)
from feedback.validation import INT_MAX

Slug = FromPath[str]
WaveFilter = Annotated[int | None, QueryParameter(description="Only this wave.", ge=1, le=INT_MAX)]
Since = Annotated[
    datetime | None,
    QueryParameter(description="Only responses submitted or revised at or after this instant."),
]
CsvLayout = Annotated[
    Literal["long", "wide"],
    QueryParameter(description="long: a row per answer; wide: a row per response."),
]


def response_read(response: Response, current: ResponseRevision) -> ResponseRead:
    return ResponseRead(
        response_id=response.response_id,
        wave=response.wave_number,
        version=response.version,
        revision=response.revision,
        submitted_at=response.submitted_at,
        revised_at=response.revised_at,
        channel=response.channel,
        locale=response.locale,
        respondent_id=response.respondent_id,
        answers=_answers(current.document),
    )


def _answers(document: dict[str, Any]) -> dict[str, Any]:
    answers: dict[str, Any] = document.get("answers", {})
    return answers


async def _close(chunks: AsyncGenerator[bytes, None]) -> None:
    # A coroutine function: Litestar would run the bare method `aclose` in a thread.
    await chunks.aclose()


def _stream(export: exports.Export) -> Stream:
    return Stream(
        export.chunks,
        # Run after the body, also when the client went away mid-stream (Litestar then stops
        # iterating but does not close the iterator): its statement ends and its connection
        # returns to the pool now, not when the garbage collector gets to it.
        background=BackgroundTask(_close, export.chunks),
        media_type=export.media_type,
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )


class ResponseController(Controller):
    path = "/surveys/{slug:str}"
    tags = ["responses"]
    opt = {"role": "analyst"}
    # A misspelt or repeated filter (`wav=2`, `wave=1&wave=2`) would be ignored, or one of its
    # values used, and the list or export would look filtered when it is not.
    guards = [known_query_parameters]

    @get("/responses", operation_id="ListResponses")
    async def list_current(
        self,
        db_session: DbSession,
        principal: Caller,
        slug: Slug,
        wave: WaveFilter = None,
        since: Since = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> PageOut[ResponseRead]:
        page = await service.list_responses(
            db_session,
            principal=principal,
            slug=slug,
            wave=wave,
            since=since,
            limit=limit,
            cursor=cursor,
        )
        return PageOut[ResponseRead](
            items=[response_read(r.response, r.current) for r in page.items],
            next_cursor=page.next_cursor,
        )

    @get("/responses/{response_id:uuid}", operation_id="GetResponse")
    async def detail(
        self, db_session: DbSession, principal: Caller, slug: Slug, response_id: FromPath[uuid.UUID]
    ) -> ResponseDetail:
        found = await service.get_response(
            db_session, principal=principal, slug=slug, response_id=response_id
        )
        return ResponseDetail(
            **response_read(found.response, found.current).model_dump(),
            revisions=[
                RevisionRead(
                    revision=r.revision,
                    version=r.version,
                    submitted_at=r.submitted_at,
                    answers=_answers(r.document),
                    locale=r.document.get("locale"),
                )
                for r in found.revisions
            ],
        )

    @get("/export.csv", operation_id="ExportCsv", media_type="text/csv", dependencies=READS)
    async def export_csv(
        self,
        db_session: DbSession,
        principal: Caller,
        request: Request[Any, Any, Any],
        slug: Slug,
        layout: CsvLayout = "long",
    ) -> Stream:
        export = await exports.export(
            db_session,
            read_target_of(request).sessions,
            principal=principal,
            slug=slug,
            layout=layout,
        )
        return _stream(export)

    @get(
        "/export.ndjson",
        operation_id="ExportNdjson",
        media_type="application/x-ndjson",
        dependencies=READS,
    )
    async def export_ndjson(
        self, db_session: DbSession, principal: Caller, request: Request[Any, Any, Any], slug: Slug
    ) -> Stream:
        export = await exports.export(
            db_session,
            read_target_of(request).sessions,
            principal=principal,
            slug=slug,
            layout="ndjson",
        )
        return _stream(export)

    @get("/codebook", operation_id="GetCodebook")
    async def codebook(self, db_session: DbSession, principal: Caller, slug: Slug) -> CodebookRead:
        book = await service.codebook(db_session, principal=principal, slug=slug)
        return CodebookRead(
            survey=book.survey,
            versions=book.versions,
            columns=book.columns,
            questions=[
                CodebookQuestion(
                    key=q.key, type=q.type, versions=q.versions, definitions=q.definitions
                )
                for q in book.questions
            ],
        )

    @post(
        "/responses/import",
        opt={"role": "campaigner"},
        operation_id="ImportResponses",
        status_code=200,
        # Imports are larger than any submission and streamed; imports.py enforces their cap.
        request_max_body_size=None,
    )
    async def import_responses(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        submissions: Submitter,
        app_settings: AppSettings,
        now: Now,
        slug: Slug,
    ) -> ImportRead:
        summary = await imports.import_responses(
            sessions_of(request.app.state),
            submissions,
            principal=principal,
            slug=slug,
            media_type=request.headers.get("content-type", ""),
            chunks=request.stream(),
            max_bytes=app_settings.import_max_bytes,
            now=now,
            clock=clock_of(request.app.state),
        )
        return ImportRead(
            imported=summary.imported,
            duplicates=summary.duplicates,
            rejected=[
                RejectedLine(line=r.line, pointer=r.pointer, message=r.message)
                for r in summary.rejected
            ],
        )
