"""Routes of respondents: created and segmented by campaigners, exported and erased by admins."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, JSONBody

from feedback.api.deps import AppSettings, Caller, Cursor, DbSession, Limit
from feedback.api.pagination import PageOut, page_out
from feedback.errors import FieldError, Invalid
from feedback.pagination import DEFAULT_LIMIT
from feedback.responses import respondents
from feedback.responses.models import Respondent
from feedback.responses.schemas import (
    ErasedRead,
    RespondentCreate,
    RespondentCreated,
    RespondentRead,
    RespondentUpdate,
)

RespondentId = FromPath[uuid.UUID]
ATTRIBUTE_PREFIX = "attribute."
PAGING = frozenset({"limit", "cursor"})


def respondent_read(respondent: Respondent) -> RespondentRead:
    return RespondentRead.model_validate(respondent, from_attributes=True)


def attribute_filters(request: Request[Any, Any, Any]) -> dict[str, str]:
    """`attribute.NAME=VALUE` query parameters as {NAME: VALUE}; any other parameter than
    these and the paging ones, or one given twice, is reported under its own name."""
    filters: dict[str, str] = {}
    errors: list[FieldError] = []
    for name, value in request.query_params.multi_items():
        if name in PAGING:
            continue
        if not name.startswith(ATTRIBUTE_PREFIX):
            errors.append(FieldError(f"/{name}", "is not a parameter of this route"))
        elif name[len(ATTRIBUTE_PREFIX) :] in filters:
            errors.append(FieldError(f"/{name}", "is given more than once"))
        else:
            filters[name[len(ATTRIBUTE_PREFIX) :]] = value
    if errors:
        raise Invalid(errors, "Respondents are filtered by attribute.NAME=VALUE only.")
    return filters


class RespondentController(Controller):
    path = "/respondents"
    tags = ["respondents"]

    @get(
        opt={"role": "admin"},
        operation_id="ListRespondents",
        description="Respondents with their attributes, oldest first. Filter by attributes with "
        "`attribute.NAME=VALUE` query parameters (as many as needed, all must hold; values "
        "compared as text: `true`, `42`, `NL`).",
    )
    async def list_all(
        self,
        db_session: DbSession,
        principal: Caller,
        request: Request[Any, Any, Any],
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> PageOut[RespondentRead]:
        page = await respondents.list_respondents(
            db_session,
            principal=principal,
            attributes=attribute_filters(request),
            limit=limit,
            cursor=cursor,
        )
        return page_out(page, respondent_read)

    @post(opt={"role": "campaigner"}, operation_id="CreateRespondent")
    async def create(
        self,
        db_session: DbSession,
        principal: Caller,
        app_settings: AppSettings,
        data: JSONBody[RespondentCreate],
    ) -> RespondentCreated:
        respondent, token = await respondents.create_respondent(
            db_session,
            principal=principal,
            secret=app_settings.resolved_secret_key(),
            external_ref=data.external_ref,
            attributes=data.attributes,
        )
        return RespondentCreated(id=respondent.id, token=token)

    @get("/{respondent_id:uuid}", opt={"role": "campaigner"}, operation_id="GetRespondent")
    async def read(
        self, db_session: DbSession, principal: Caller, respondent_id: RespondentId
    ) -> RespondentRead:
        found = await respondents.get_respondent(
            db_session, principal=principal, respondent_id=respondent_id
        )
        return respondent_read(found)

    @put("/{respondent_id:uuid}", opt={"role": "campaigner"}, operation_id="UpdateRespondent")
    async def update(
        self,
        db_session: DbSession,
        principal: Caller,
        respondent_id: RespondentId,
        data: JSONBody[RespondentUpdate],
    ) -> RespondentRead:
        updated = await respondents.update_respondent(
            db_session, principal=principal, respondent_id=respondent_id, attributes=data.attributes
        )
        return respondent_read(updated)

    @get("/{respondent_id:uuid}/export", opt={"role": "admin"}, operation_id="ExportRespondent")
    async def export(
        self, db_session: DbSession, principal: Caller, respondent_id: RespondentId
    ) -> dict[str, Any]:
        return await respondents.export_respondent(
            db_session, principal=principal, respondent_id=respondent_id
        )

    @delete(
        "/{respondent_id:uuid}",
        opt={"role": "admin"},
        operation_id="EraseRespondent",
        status_code=200,
    )
    async def erase(
        self, db_session: DbSession, principal: Caller, respondent_id: RespondentId
    ) -> ErasedRead:
        erased = await respondents.erase_respondent(
            db_session, principal=principal, respondent_id=respondent_id
        )
        return ErasedRead(responses=erased.responses, answers=erased.answers)
