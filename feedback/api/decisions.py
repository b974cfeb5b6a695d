"""Routes of decisions recorded against a survey."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from feedback.analysis import service as analysis
from feedback.analysis.schemas import DecisionImpactRead, decision_impact_read
from feedback.api.channel_filter import ChannelFilter, channels_of
from feedback.api.deps import READS, Caller, Cursor, DbSession, Limit, Now, TrendRollups
from feedback.api.pagination import PageOut, page_out
from feedback.api.query_guard import known_query_parameters
from feedback.loop import service
from feedback.loop.schemas import DecisionCreate, DecisionRead, DecisionUpdate
from feedback.loop.service import decision_read
from feedback.pagination import DEFAULT_LIMIT

ImpactQuestion = Annotated[
    str | None,
    QueryParameter(
        description="The question key (may be left out when the decision names exactly one)."
    ),
]
ImpactSegment = Annotated[
    str | None,
    QueryParameter(
        description="A respondent attribute, or `channel`: the impact per its value as well."
    ),
]


class DecisionController(Controller):
    path = "/surveys/{slug:str}/decisions"
    tags = ["decisions"]

    @post(opt={"role": "campaigner"}, operation_id="CreateDecision")
    async def create_decision(
        self,
        db_session: DbSession,
        principal: Caller,
        slug: FromPath[str],
        data: JSONBody[DecisionCreate],
        now: Now,
    ) -> DecisionRead:
        record = await service.create_decision(
            db_session, principal=principal, slug=slug, data=data, now=now
        )
        return decision_read(record)

    @get(opt={"role": "analyst"}, operation_id="ListDecisions")
    async def list_decisions(
        self,
        db_session: DbSession,
        principal: Caller,
        slug: FromPath[str],
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> PageOut[DecisionRead]:
        page = await service.list_decisions(
            db_session, principal=principal, slug=slug, limit=limit, cursor=cursor
        )
        return page_out(page, decision_read)

    @get("/{decision_id:uuid}", opt={"role": "analyst"}, operation_id="GetDecision")
    async def get_decision(
        self,
        db_session: DbSession,
        principal: Caller,
        slug: FromPath[str],
        decision_id: FromPath[uuid.UUID],
    ) -> DecisionRead:
        record = await service.get_decision_record(
            db_session, principal=principal, slug=slug, decision_id=decision_id
        )
        return decision_read(record)

    @patch("/{decision_id:uuid}", opt={"role": "campaigner"}, operation_id="UpdateDecision")
    async def update_decision(
        self,
        db_session: DbSession,
        principal: Caller,
        slug: FromPath[str],
        decision_id: FromPath[uuid.UUID],
        data: JSONBody[DecisionUpdate],
        now: Now,
    ) -> DecisionRead:
        record = await service.update_decision(
            db_session,
            principal=principal,
            slug=slug,
            decision_id=decision_id,
            data=data,
            now=now,
        )
        return decision_read(record)

    @get(
        "/{decision_id:uuid}/impact",
        opt={"role": "analyst"},
        operation_id="GetDecisionImpact",
        dependencies=READS,
        guards=[known_query_parameters],
    )
    async def get_decision_impact(
        self,
        db_session: DbSession,
        principal: Caller,
        now: Now,
        slug: FromPath[str],
        decision_id: FromPath[uuid.UUID],
        rollups: TrendRollups,
        question: ImpactQuestion = None,
        segment: ImpactSegment = None,
        channel: ChannelFilter = None,
    ) -> DecisionImpactRead:
        """Did the question's metric change after the decision: an interrupted time series over
        the closed waves (docs/statistics.md "Decision impact")."""
        impact = await analysis.decision_impact(
            db_session,
            org_id=principal.org_id,
            slug=slug,
            decision_id=decision_id,
            key=question,
            segment=segment,
            now=now,
            channels=channels_of(channel),
            rollups=rollups,
        )
        return decision_impact_read(impact)
