"""Routes of analysis: trends, trend charts, panels, report links, and the report page.

The report page and its charts live outside /api/v1 and take no API key: the signed token in
their path is the credential (feedback.analysis.report), so a link can be opened in a browser
or shared without ever putting a key in a URL.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from litestar import Controller, MediaType, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.analysis import report, schemas, service
from feedback.analysis.charts import ChartFormat
from feedback.analysis.folding import SmallGroups
from feedback.analysis.rollups import Rollups
from feedback.analysis.service import TrendsQuery
from feedback.analysis.trends_csv import trends_csv
from feedback.api.channel_filter import ChannelFilter, channels_of
from feedback.api.deps import READS, WRITES, AppSettings, Caller, DbSession, Now, TrendRollups
from feedback.api.form_strings import preferred_locales
from feedback.api.links import report_url
from feedback.api.public import AcceptLanguage
from feedback.api.query_dates import FromDate, ToDate, query_dates
from feedback.api.query_guard import known_query_parameters
from feedback.api.templating import TEMPLATES
from feedback.errors import NotFound
from feedback.orgs.principal import Principal
from feedback.validation import INT_MAX

Slug = FromPath[str]
Question = FromPath[str]
Questions = Annotated[
    str | None,
    QueryParameter(description="Comma-separated question keys (default: every question)."),
]
Segment = Annotated[
    str | None,
    QueryParameter(
        description="A respondent attribute, or `channel`: repeat every figure per its value."
    ),
]
SmallGroupsParam = Annotated[
    SmallGroups,
    QueryParameter(
        description="With `segment`: `suppress` hides small cells (and one more where needed to "
        "protect them); `fold` folds each wave's small values together into `other` first, so "
        'that large groups stay visible (docs/statistics.md "Segments").'
    ),
]
MinN = Annotated[
    int | None,
    QueryParameter(
        ge=1,
        le=1_000_000,
        description="Raise the suppression threshold; below the survey's `min_n` the survey's "
        "applies (a request never lowers it). The answer says which was used.",
    ),
]
Impact = Annotated[
    uuid.UUID | None,
    QueryParameter(
        description="A decision of the survey: draw its fitted pre and post lines "
        '(docs/statistics.md "Decision impact"), or say in the subtitle why there are none.'
    ),
]
SummaryLocale = Annotated[
    str | None,
    QueryParameter(
        name="locale",
        max_length=35,
        description="The language of the plain sentences (`summary`), when the survey has it; "
        "else Accept-Language's first the survey has, else the survey's default locale.",
    ),
]
# Required, so the OpenAPI document says so (a missing one is a 422 naming it).
Wave = Annotated[int, QueryParameter(ge=1, le=INT_MAX, description="A wave number.")]


MEDIA_TYPES: dict[ChartFormat, str] = {"png": "image/png", "svg": "image/svg+xml"}
# The token in the path is a credential: never cached by shared caches, never sent on as a
# referrer, never indexed; the page runs no script and loads only its own charts.
REPORT_HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}
REPORT_CSP = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


class ReportLinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expires_in: int = Field(
        default=int(report.DEFAULT_EXPIRES_IN.total_seconds()),
        ge=int(report.MIN_EXPIRES_IN.total_seconds()),
        le=int(report.MAX_EXPIRES_IN.total_seconds()),
        description="Seconds until the link stops working (default 7 days, at most 90).",
    )
    channel: str | None = Field(
        default=None,
        max_length=1000,
        description="Report only responses through this channel, or a comma-separated list.",
    )


class ReportLinkRead(BaseModel):
    url: str
    expires_at: datetime


def trends_query(
    questions: str | None,
    start: str | None,
    end: str | None,
    segment: str | None,
    min_n: int | None,
    channel: str | None,
    small_groups: SmallGroups = "suppress",
    locales: list[str] | None = None,
) -> TrendsQuery:
    keys = [k.strip() for k in questions.split(",") if k.strip()] if questions else []
    first, last = query_dates(**{"from": start, "to": end})
    return TrendsQuery(
        keys or None,
        first,
        last,
        segment,
        min_n,
        channels_of(channel),
        small_groups,
        tuple(locales or ()),
    )


def _chart(content: bytes, fmt: ChartFormat) -> Response[bytes]:
    return Response(content, media_type=MEDIA_TYPES[fmt], headers={"Cache-Control": "no-store"})


async def _trend_chart(
    session: AsyncSession,
    principal: Principal,
    slug: str,
    question: str,
    query: TrendsQuery,
    fmt: ChartFormat,
    *,
    now: datetime,
    impact: uuid.UUID | None,
    rollups: Rollups,
) -> Response[bytes]:
    """The PNG and SVG routes differ only in their format; one body serves both."""
    content = await service.chart(
        session,
        org_id=principal.org_id,
        slug=slug,
        key=question,
        query=query,
        fmt=fmt,
        now=now,
        impact=impact,
        rollups=rollups,
    )
    return _chart(content, fmt)


class AnalysisController(Controller):
    """Trends, charts, panels: reads, from the read replica when one is configured."""

    path = "/surveys/{slug:str}"
    tags = ["analysis"]
    opt = {"role": "analyst"}
    dependencies = READS
    guards = [known_query_parameters]

    @get("/trends", operation_id="GetTrends")
    async def get_trends(
        self,
        db_session: DbSession,
        principal: Caller,
        now: Now,
        rollups: TrendRollups,
        slug: Slug,
        questions: Questions = None,
        start: FromDate = None,
        end: ToDate = None,
        segment: Segment = None,
        min_n: MinN = None,
        channel: ChannelFilter = None,
        small_groups: SmallGroupsParam = "suppress",
        locale: SummaryLocale = None,
        accept_language: AcceptLanguage = None,
    ) -> schemas.TrendsRead:
        languages = preferred_locales(locale, accept_language)
        query = trends_query(
            questions, start, end, segment, min_n, channel, small_groups, languages
        )
        result = await service.trends(
            db_session, org_id=principal.org_id, slug=slug, query=query, now=now, rollups=rollups
        )
        return schemas.trends_read(result)

    @get("/trends.csv", operation_id="GetTrendsCsv", media_type="text/csv")
    async def get_trends_csv(
        self,
        db_session: DbSession,
        principal: Caller,
        now: Now,
        rollups: TrendRollups,
        slug: Slug,
        questions: Questions = None,
        start: FromDate = None,
        end: ToDate = None,
        segment: Segment = None,
        min_n: MinN = None,
        channel: ChannelFilter = None,
        small_groups: SmallGroupsParam = "suppress",
    ) -> Response[str]:
        """The trends as CSV, one row per question, wave, segment and option."""
        query = trends_query(questions, start, end, segment, min_n, channel, small_groups)
        result = await service.trends(
            db_session, org_id=principal.org_id, slug=slug, query=query, now=now, rollups=rollups
        )
        disposition = f'attachment; filename="{slug}-trends.csv"'
        return Response(
            trends_csv(result),
            media_type="text/csv",  # Litestar adds the response's charset (utf-8) once
            headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
        )

    @get(
        "/trends/{question:str}/chart.png", operation_id="GetTrendChartPng", media_type="image/png"
    )
    async def get_chart_png(
        self,
        db_session: DbSession,
        principal: Caller,
        now: Now,
        rollups: TrendRollups,
        slug: Slug,
        question: Question,
        start: FromDate = None,
        end: ToDate = None,
        segment: Segment = None,
        min_n: MinN = None,
        impact: Impact = None,
        channel: ChannelFilter = None,
        small_groups: SmallGroupsParam = "suppress",
        locale: SummaryLocale = None,
        accept_language: AcceptLanguage = None,
    ) -> Response[bytes]:
        languages = preferred_locales(locale, accept_language)
        query = trends_query(None, start, end, segment, min_n, channel, small_groups, languages)
        return await _trend_chart(
            db_session,
            principal,
            slug,
            question,
            query,
            "png",
            now=now,
            impact=impact,
            rollups=rollups,
        )

    @get(
        "/trends/{question:str}/chart.svg",
        operation_id="GetTrendChartSvg",
        media_type="image/svg+xml",
    )
    async def get_chart_svg(
        self,
        db_session: DbSession,
        principal: Caller,
        now: Now,
        rollups: TrendRollups,
        slug: Slug,
        question: Question,
        start: FromDate = None,
        end: ToDate = None,
        segment: Segment = None,
        min_n: MinN = None,
        impact: Impact = None,
        channel: ChannelFilter = None,
        small_groups: SmallGroupsParam = "suppress",
        locale: SummaryLocale = None,
        accept_language: AcceptLanguage = None,
    ) -> Response[bytes]:
        languages = preferred_locales(locale, accept_language)
        query = trends_query(None, start, end, segment, min_n, channel, small_groups, languages)
        return await _trend_chart(
            db_session,
            principal,
            slug,
            question,
            query,
            "svg",
            now=now,
            impact=impact,
            rollups=rollups,
        )

    @get("/panel/{question:str}", operation_id="GetPanel")
    async def get_panel(
        self,
        db_session: DbSession,
        principal: Caller,
        slug: Slug,
        question: Question,
        from_wave: Wave,
        to_wave: Wave,
        min_n: MinN = None,
        channel: ChannelFilter = None,
    ) -> schemas.PanelRead:
        result = await service.panel(
            db_session,
            org_id=principal.org_id,
            slug=slug,
            key=question,
            from_wave=from_wave,
            to_wave=to_wave,
            min_n=min_n,
            channels=channels_of(channel),
        )
        return schemas.panel_read(result)

    @post("/report-links", operation_id="CreateReportLink", status_code=201, dependencies=WRITES)
    async def create_report_link(
        self,
        db_session: DbSession,
        principal: Caller,
        app_settings: AppSettings,
        now: Now,
        slug: Slug,
        data: JSONBody[ReportLinkCreate | None] = None,
    ) -> ReportLinkRead:
        body = data or ReportLinkCreate()
        link = await report.create_link(
            db_session,
            principal=principal,
            slug=slug,
            expires_in=timedelta(seconds=body.expires_in),
            channels=channels_of(body.channel, "body"),
            secret=app_settings.resolved_secret_key(),
            now=now,
        )
        url = report_url(app_settings.base_url, link.token)
        return ReportLinkRead(url=url, expires_at=link.expires_at)


class ReportPageController(Controller):
    """GET /reports/{token}: the HTML report; /reports/{token}/charts/{key}.svg|png its charts."""

    path = "/reports/{token:str}"
    tags = ["analysis"]
    include_in_schema = False
    dependencies = READS

    @get(operation_id="GetReportPage")
    async def page(
        self,
        db_session: DbSession,
        app_settings: AppSettings,
        now: Now,
        rollups: TrendRollups,
        token: FromPath[str],
    ) -> Response[str]:
        content = await report.report(
            db_session,
            secret=app_settings.resolved_secret_key(),
            token=token,
            now=now,
            rollups=rollups,
        )
        body = TEMPLATES.get_template("report.html").render(report=content, token=token)
        headers = REPORT_HEADERS | {"Content-Security-Policy": REPORT_CSP}
        return Response(body, media_type=MediaType.HTML, headers=headers)

    @get("/charts/{name:str}", operation_id="GetReportChart")
    async def chart(
        self,
        db_session: DbSession,
        app_settings: AppSettings,
        now: Now,
        rollups: TrendRollups,
        token: FromPath[str],
        name: FromPath[str],
    ) -> Response[bytes]:
        key, _, extension = name.rpartition(".")
        if extension not in MEDIA_TYPES or not key:
            raise NotFound("Charts are named <question>.svg or <question>.png.")
        fmt: ChartFormat = "svg" if extension == "svg" else "png"
        content = await report.report_chart(
            db_session,
            secret=app_settings.resolved_secret_key(),
            token=token,
            key=key,
            fmt=fmt,
            now=now,
            rollups=rollups,
        )
        return Response(content, media_type=MEDIA_TYPES[fmt], headers=REPORT_HEADERS)
