"""Supporters' JSON API: the form, submissions and revisions (no key; CORS by the survey)."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from litestar import Controller, Response, get, post, put
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from pydantic import BaseModel, Field

from feedback.analysis.results import Metric
from feedback.api.deps import AppSettings, DbSession, Now, Submitter, TrendRollups
from feedback.api.form_strings import preferred_locales
from feedback.api.form_view import text_direction
from feedback.api.forms import head_of
from feedback.api.links import results_url
from feedback.api.problems import LocatedError
from feedback.api.public_guard import PublicSurveyGuard
from feedback.api.results_page import RESULTS_CACHE
from feedback.errors import Invalid
from feedback.loop.public_results import PublicResults, public_results
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
AcceptLanguage = Annotated[
    str | None,
    HeaderParameter(
        name="Accept-Language",
        required=False,
        description="The reader's languages; `?locale=` wins when the survey has it.",
    ),
]
_ETAG = re.compile(r'\s*(?:W/)?"(\d{1,9})"\s*')


class PublicOptionRead(BaseModel):
    key: str
    label: str
    share: float = Field(description="Share of the wave's answers (0..1, rounded to 0.001).")


class PublicWaveRead(BaseModel):
    number: int
    label: str
    opens_at: datetime
    closed_at: datetime
    suppressed: bool = Field(
        description="Fewer answers than min_n: no figure at all, not even n, is shown."
    )
    sentence: str = Field(description="The result in plain language, in `locale`.")
    n: int | None = None
    estimate: float | None = Field(
        default=None, description="The mean, or the NPS; null for choice questions."
    )
    options: list[PublicOptionRead] = Field(
        default_factory=list, description="Choice questions: each option's share, largest first."
    )


class PublicQuestionRead(BaseModel):
    key: str
    type: str
    metric: Metric
    label: str
    range: tuple[float, float] | None = Field(
        description="Where `estimate` can lie (scale ends, -100..100 for NPS), for a bar."
    )
    summary: str = Field(description="The latest shown wave's sentence, or that none is yet.")
    waves: list[PublicWaveRead] = Field(description="The latest closed waves, oldest first.")


class PublicFindingRead(BaseModel):
    question: str
    sentence: str


class PublicDecisionRead(BaseModel):
    id: uuid.UUID
    title: str
    description: str
    status: Literal["planned", "in_progress", "done", "dropped"]
    status_text: str
    decided_at: datetime
    decided_on: date
    findings: list[PublicFindingRead] = Field(description="What supporters said that it answers.")


class PublicResultsRead(BaseModel):
    """ "You said, we did": the survey's public questions and decisions, localised."""

    org: str
    survey: str
    title: str
    locale: str
    dir: Literal["ltr", "rtl"]
    locales: list[str]
    url: str = Field(description="The results page.")
    min_n: int = Field(description="Waves with fewer answers are not shown.")
    questions: list[PublicQuestionRead]
    decisions: list[PublicDecisionRead] = Field(description="Newest first.")

    @classmethod
    def of(cls, found: PublicResults, base_url: str) -> PublicResultsRead:
        return cls.model_validate(
            {
                "org": found.org_slug,
                "survey": found.survey_slug,
                "title": found.title,
                "locale": found.locale,
                "dir": text_direction(found.locale),
                "locales": list(found.locales),
                "url": results_url(base_url, found.org_slug, found.survey_slug),
                "min_n": found.min_n,
                "questions": found.questions,
                "decisions": found.decisions,
            },
            from_attributes=True,
        )


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
        app_settings: AppSettings,
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
            results_url=results_url(app_settings.base_url, found.org_slug, found.survey_slug)
            if found.has_results
            else None,
            dir=text_direction(found.locale),
            org_name=found.framing.org_name,
            description=found.framing.description,
            intro=found.framing.intro,
            thank_you=found.framing.thank_you,
            privacy_url=found.framing.privacy_url,
            logo_url=found.framing.logo_url,
        )

    form_head = head_of(form)

    @get("/results", operation_id="GetPublicResults")
    async def results(
        self,
        db_session: DbSession,
        app_settings: AppSettings,
        now: Now,
        rollups: TrendRollups,
        org: FromPath[str],
        survey: FromPath[str],
        accept_language: AcceptLanguage = None,
        locale: Annotated[str | None, QueryParameter(max_length=35)] = None,
    ) -> Response[PublicResultsRead]:
        """ "You said, we did": the questions the organisation made public, their latest closed
        waves in plain language (never a suppressed wave's figures), and its public decisions
        with the findings they answer. 404 when the survey shows nothing publicly."""
        found = await public_results(
            db_session,
            org_slug=org,
            survey_slug=survey,
            wanted_locales=preferred_locales(locale, accept_language),
            now=now,
            rollups=rollups,
        )
        return Response(PublicResultsRead.of(found, app_settings.base_url), headers=RESULTS_CACHE)

    results_head = head_of(results)

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
            [LocatedError("/If-Match", 'must be "<revision>", e.g. "1", or *', "header")],
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
