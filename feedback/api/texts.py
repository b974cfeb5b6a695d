"""GET /surveys/{slug}/questions/{key}/texts: a text question's answers in a wave and the terms
that distinguish the wave from the previous one (analysts only; never public)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import FromPath, QueryParameter

from feedback.analysis import texts
from feedback.analysis.text_schemas import WaveTextsRead, wave_texts_read
from feedback.api.channel_filter import ChannelFilter, channels_of
from feedback.api.deps import READS, Caller, Cursor, DbSession, Limit
from feedback.api.query_guard import known_query_parameters
from feedback.pagination import DEFAULT_LIMIT
from feedback.validation import INT_MAX

Wave = Annotated[int, QueryParameter(ge=1, le=INT_MAX, description="A wave number.")]
Segment = Annotated[
    str | None,
    QueryParameter(
        description="A respondent attribute (or `channel`); with `segment_value`, only the "
        "answers of respondents whose attribute has that value."
    ),
]
SegmentValue = Annotated[
    str | None,
    QueryParameter(
        max_length=500,
        description="The value `segment` must have; `null` (or empty) for the segment `null`, "
        "respondents without it and answers of no respondent.",
    ),
]


class TextsController(Controller):
    path = "/surveys/{slug:str}/questions/{key:str}/texts"
    tags = ["analysis"]
    opt = {"role": "analyst"}
    dependencies = READS
    guards = [known_query_parameters]

    @get(operation_id="ListTextAnswers")
    async def list_texts(
        self,
        db_session: DbSession,
        principal: Caller,
        slug: FromPath[str],
        key: FromPath[str],
        wave: Wave,
        channel: ChannelFilter = None,
        segment: Segment = None,
        segment_value: SegmentValue = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> WaveTextsRead:
        result = await texts.wave_texts(
            db_session,
            org_id=principal.org_id,
            slug=slug,
            key=key,
            wave=wave,
            channels=channels_of(channel),
            segment=segment,
            segment_value=segment_value,
            limit=limit,
            cursor=cursor,
        )
        return wave_texts_read(result)
