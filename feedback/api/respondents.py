"""Routes of respondents: created and segmented by campaigners, exported and erased by admins."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, delete, get, post, put
from litestar.params import FromPath, JSONBody

from feedback.api.deps import AppSettings, Caller, DbSession
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


def respondent_read(respondent: Respondent) -> RespondentRead:
    return RespondentRead.model_validate(respondent, from_attributes=True)


class RespondentController(Controller):
    path = "/respondents"
    tags = ["respondents"]

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
