"""Routes of findings ("you said"): list a survey's findings, dismiss or reopen one."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, get, patch
from litestar.params import FromPath, JSONBody, QueryParameter

from feedback.api.deps import Caller, Cursor, DbSession, Limit, Now
from feedback.api.pagination import PageOut, page_out
from feedback.loop import service
from feedback.loop.schemas import FindingRead, FindingUpdate
from feedback.loop.service import FindingRecord
from feedback.pagination import DEFAULT_LIMIT
from feedback.surveys.definition import match_locale
from feedback.surveys.models import Survey

State = Annotated[
    Literal["open", "answered", "dismissed"] | None,
    # `state` is Litestar's reserved name for the app state: the parameter is renamed.
    QueryParameter(name="state", description="Only findings in this state."),
]
QuestionKey = Annotated[
    str | None, QueryParameter(description="Only findings about this question key.")
]
LocaleTag = Annotated[
    str | None,
    QueryParameter(
        description="The locale of `sentence` (default: the survey's default locale).",
        max_length=35,
    ),
]


def finding_read(record: FindingRecord, survey: Survey, locale: str | None) -> FindingRead:
    finding = record.finding
    texts = finding.sentences
    chosen = next(
        (
            found
            for wanted in (locale, survey.default_locale)
            if wanted and (found := match_locale(wanted, texts)) is not None
        ),
        next(iter(texts), None),
    )
    return FindingRead(
        id=finding.id,
        question=finding.question_key,
        option=finding.option_key or None,
        kind=finding.kind,
        wave=finding.wave_number,
        direction=finding.direction,
        figures=finding.figures,
        sentence="" if chosen is None else texts[chosen],
        sentences=texts,
        state=finding.state,
        reason=finding.state_reason,
        opened_at=finding.opened_at,
        state_changed_at=finding.state_changed_at,
        decision_ids=record.decision_ids,
    )


class FindingController(Controller):
    path = "/surveys/{slug:str}/findings"
    tags = ["findings"]

    @get(opt={"role": "analyst"}, operation_id="ListFindings")
    async def list_findings(
        self,
        db_session: DbSession,
        principal: Caller,
        slug: FromPath[str],
        finding_state: State = None,
        question: QuestionKey = None,
        locale: LocaleTag = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> PageOut[FindingRead]:
        survey, page = await service.list_findings(
            db_session,
            principal=principal,
            slug=slug,
            state=finding_state,
            question=question,
            limit=limit,
            cursor=cursor,
        )
        return page_out(page, lambda record: finding_read(record, survey, locale))

    @patch("/{finding_id:uuid}", opt={"role": "campaigner"}, operation_id="UpdateFinding")
    async def update_finding(
        self,
        db_session: DbSession,
        principal: Caller,
        slug: FromPath[str],
        finding_id: FromPath[uuid.UUID],
        data: JSONBody[FindingUpdate],
        now: Now,
    ) -> FindingRead:
        survey, record = await service.update_finding(
            db_session,
            principal=principal,
            slug=slug,
            finding_id=finding_id,
            data=data,
            now=now,
        )
        return finding_read(record, survey, None)
