"""Supporters' JSON API: the form, submissions and revisions (no key; CORS by the survey)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from litestar import Controller, Response, get, post, put
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from feedback.api.deps import DbSession, Now, Submitter
from feedback.api.public_guard import PublicSurveyGuard
from feedback.errors import FieldError, Invalid
from feedback.responses.schemas import (
    FormRead,
    RevisionCreate,
    SubmissionCreate,
    SubmissionRead,
    WaveWindowRead,
)
from feedback.responses.submissions import SubmissionResult, public_form

EditToken = Annotated[
    str, HeaderParameter(name="X-Edit-Token", description="The edit_token the submission returned.")
]
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match", description='`"<revision it replaces>"`; a stale one answers 412.'
    ),
]
_ETAG = re.compile(r'\s*(?:W/)?"(\d{1,9})"\s*')


class PublicController(Controller):
    path = "/public/{org:str}/{survey:str}"
    tags = ["supporters"]
    opt = {"public": True}
    middleware = [PublicSurveyGuard()]

    @get("/form", operation_id="GetPublicForm")
    async def form(
        self,
        db_session: DbSession,
        org: FromPath[str],
        survey: FromPath[str],
        now: Now,
        locale: Annotated[str | None, QueryParameter(max_length=35)] = None,
        token: Annotated[str | None, QueryParameter(max_length=128)] = None,
    ) -> FormRead:
        found = await public_form(
            db_session, org_slug=org, survey_slug=survey, locale=locale, token=token, now=now
        )
        wave = found.wave
        return FormRead(
            org=found.org_slug,
            survey=found.survey_slug,
            title=found.title,
            version=found.version,
            locale=found.locale,
            locales=found.locales,
            questions=found.questions,
            wave=WaveWindowRead(
                number=wave.number,
                label=wave.label,
                opens_at=wave.opens_at,
                closes_at=wave.closes_at,
            ),
            allow_edits=found.allow_edits,
            respondent=found.respondent,
        )

    @post("/responses", operation_id="SubmitResponse")
    async def submit(
        self,
        submissions: Submitter,
        now: Now,
        org: FromPath[str],
        survey: FromPath[str],
        data: JSONBody[SubmissionCreate],
    ) -> Response[SubmissionRead]:
        result = await submissions.submit(
            org_slug=org, survey_slug=survey, submission=data, received_at=now
        )
        return _answer(result, 201 if result.created else 200)

    @put("/responses/{response_id:uuid}", operation_id="ReviseResponse")
    async def revise(
        self,
        submissions: Submitter,
        now: Now,
        org: FromPath[str],
        survey: FromPath[str],
        response_id: FromPath[uuid.UUID],
        data: JSONBody[RevisionCreate],
        edit_token: EditToken,
        if_match: IfMatch = None,
    ) -> Response[SubmissionRead]:
        result = await submissions.revise(
            org_slug=org,
            survey_slug=survey,
            response_id=response_id,
            edit_token=edit_token,
            if_match=parse_if_match(if_match),
            revision=data,
            received_at=now,
        )
        return _answer(result, 200)


def parse_if_match(header: str | None) -> frozenset[int] | None:
    """`"3"` or `"2", "3"` → the revisions named; `*` or no header → None (any)."""
    if header is None or header.strip() == "*":
        return None
    tags = header.split(",")
    matches = [_ETAG.fullmatch(tag) for tag in tags]
    if not all(matches):
        raise Invalid(
            [FieldError("/If-Match", 'must be "<revision>", e.g. "1", or *', "header")],
            "The If-Match header is invalid.",
        )
    return frozenset(int(m.group(1)) for m in matches if m)


def _answer(result: SubmissionResult, status: int) -> Response[SubmissionRead]:
    return Response(
        SubmissionRead(
            response_id=result.response_id,
            revision=result.revision,
            wave=result.wave,
            edit_token=result.edit_token,
        ),
        status_code=status,
        headers={"ETag": f'"{result.revision}"'},
    )
