"""The Litestar application: routes, guards, error mapping, OpenAPI, lifespan."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from litestar import Litestar, Router
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ASGIApp, ControllerRouterHandler, Message, Scope

from feedback import __version__
from feedback.analysis.rollups import Rollups
from feedback.api import (
    analysis,
    decisions,
    embed,
    findings,
    forms,
    health,
    orgs,
    public,
    respondents,
    responses,
    results_page,
    surveys,
    texts,
    webhooks,
)
from feedback.api.access_log import AccessLog
from feedback.api.api_browser import browser_assets, elements_plugin, swagger_plugin
from feedback.api.auth import api_guard, route_access_declared
from feedback.api.client_address import ClientAddress
from feedback.api.cors import KeyedApiCors
from feedback.api.deps import (
    note_status,
    provide_db_session,
    provide_now,
    provide_principal,
    provide_rollups,
    provide_settings,
    provide_submissions,
    stamp_freshness,
)
from feedback.api.hygiene import check_request
from feedback.api.openapi import schema_router
from feedback.api.problems import app_exception_handlers
from feedback.api.rate_limit import public_rate_limit
from feedback.clock import Clock, system_clock
from feedback.config import Settings, get_settings
from feedback.db import make_engine, make_sessionmaker
from feedback.loop.worker import run_worker
from feedback.read_replica import ReadRouter
from feedback.responses.group_commit import store_for
from feedback.responses.submissions import Submissions

# The supporters' routes: no key, CORS and a rate limit per survey (PublicSurveyGuard). Apart
# from the keyed routes so that no per-request guard runs for them at all: Litestar copies the
# route handler for every guard call, which was ~4 % of a submission's CPU.
API_V1_PUBLIC: Sequence[ControllerRouterHandler] = [public.PublicController]
# Every other /api/v1 route: `api_guard` checks each request's key against the route's role.
API_V1: Sequence[ControllerRouterHandler] = [
    orgs.OrgController,
    orgs.KeyController,
    orgs.AuditController,
    surveys.SurveyController,
    decisions.DecisionController,
    findings.FindingController,
    responses.ResponseController,
    respondents.RespondentController,
    analysis.AnalysisController,
    texts.TextsController,
    webhooks.WebhookController,
]


def create_served_app() -> ASGIApp:
    """The app as `feedback serve` runs it, in a process of its own for its whole life, with
    its access log when asked (FEEDBACK_ACCESS_LOG)."""
    settings = get_settings()
    app = create_app(settings, own_process=True)
    return AccessLog(app) if settings.access_log else app


def create_app(
    settings: Settings | None = None, *, own_process: bool = False, clock: Clock = system_clock
) -> Litestar:
    """The application. `own_process`: the app owns the interpreter (a server, not a test),
    so what exists once it has started can be frozen out of the garbage collector's walks.
    `clock` is read once per request that needs the time (dependency `now`)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        app.state.engine = engine
        app.state.sessions = make_sessionmaker(engine)
        read_engine = (
            make_engine(settings.read_database_url, pool_size=settings.db_pool_size)
            if settings.read_database_url
            else None
        )
        # Trends rollups are written on connections of their own: a request that already holds
        # one to read must never wait for the pool it holds (20 concurrent chart requests would
        # hold every connection and wait for one more). Writes queue here instead.
        rollup_engine = make_engine(settings.database_url, pool_size=1)
        app.state.rollups = Rollups(make_sessionmaker(rollup_engine))
        app.state.read_router = ReadRouter(
            app.state.sessions,
            make_sessionmaker(read_engine) if read_engine is not None else None,
            max_lag=timedelta(seconds=settings.read_max_lag),
        )
        app.state.submissions = Submissions(
            app.state.sessions,
            store_for(settings.database_url, engine, concurrency=settings.write_concurrency),
            secret=settings.resolved_secret_key(),
        )
        app.state.public_rate_limit = public_rate_limit(settings)
        if own_process:
            # Everything loaded so far (modules, routes, schemas) lives as long as the process:
            # kept out of the collector's sight, a full collection no longer walks it, which
            # took pauses of up to ~130 ms under load (BENCHMARKS.md, "Submissions").
            gc.collect()
            gc.freeze()
        # The embedded webhook delivery and findings worker (feedback.loop.worker); tests and
        # deployments running `feedback worker` go without.
        stop_worker = asyncio.Event()
        worker = (
            asyncio.create_task(
                run_worker(
                    app.state.sessions,
                    settings,
                    stop_worker,
                    clock=clock,
                    read_router=app.state.read_router,
                )
            )
            if own_process and settings.embedded_worker
            else None
        )
        try:
            yield
        finally:
            stop_worker.set()
            if worker is not None:
                await worker
            await app.state.submissions.close()
            await app.state.public_rate_limit.close()
            await engine.dispose()
            await rollup_engine.dispose()
            if read_engine is not None:
                await read_engine.dispose()

    api = Router(
        path="/api/v1",
        route_handlers=list(API_V1),
        guards=[api_guard],
        middleware=[KeyedApiCors(settings.cors_allow_origins)]
        if settings.cors_allow_origins
        else [],
    )
    api_public = Router(path="/api/v1", route_handlers=list(API_V1_PUBLIC))
    app = Litestar(
        route_handlers=[
            api,
            api_public,
            health.health,
            health.ready,
            forms.HostedFormController,
            results_page.ResultsPageController,
            analysis.ReportPageController,
            embed.embed_js,
            embed.embed_js_head,
            embed.form_css,
            embed.form_css_head,
            *browser_assets(),
        ],
        dependencies={
            "db_session": Provide(provide_db_session),
            "principal": Provide(provide_principal, sync_to_thread=False),
            "now": Provide(provide_now, sync_to_thread=False),
            # Not named `settings`: a dependency shares its name space with body fields (Litestar
            # blames a body field named like a dependency on the server).
            "app_settings": Provide(provide_settings, sync_to_thread=False),
            "submissions": Provide(provide_submissions, sync_to_thread=False),
            "rollups": Provide(provide_rollups, sync_to_thread=False),
        },
        # problem+json, but a page on the supporters' pages, also for what the router refuses.
        exception_handlers=app_exception_handlers(forms.page_error),
        before_request=check_request,
        after_request=note_status,
        before_send=[stamp_freshness, drop_head_body],
        lifespan=[lifespan],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="feedback",
            version=__version__,
            description="Recurring supporter surveys, embedded forms and honest trends.",
            path="/schema",
            openapi_router=schema_router("/schema"),
            render_plugins=[
                swagger_plugin(),
                elements_plugin(),
            ],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", description="API key")
                }
            ),
            security=[{"bearer": []}],
        ),
        debug=False,
        # Logging is the process's (feedback.logs, set up by `feedback serve`): Litestar must not
        # put its own handler and format on the root logger.
        logging_config=None,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.client_address = ClientAddress(settings.trusted_proxies)
    _check_access_declared(app)
    return app


async def drop_head_body(message: Message, scope: Scope) -> None:
    """A HEAD answer is the GET answer without its body (RFC 9110 9.3.2): the same status and
    headers, Content-Length included. Litestar runs a HEAD route (forms.head_of) like a GET and
    sends what it returns; an error answer to a HEAD has a body too. Cut here, for all."""
    if message["type"] == "http.response.body" and scope.get("method") == "HEAD":
        message["body"] = b""


def _check_access_declared(app: Litestar) -> None:
    """Refuse to start with an /api/v1 route that says nothing about who may call it, or that
    asks for a key without `api_guard` to check it."""
    for route in app.routes:
        if not route.path.startswith("/api/v1"):
            continue
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler) and "OPTIONS" not in handler.http_methods:
                opt: dict[str, Any] = handler.opt
                if not route_access_declared(opt):
                    raise RuntimeError(f"{route.path} declares no access rule (role/public)")
                if not opt.get("public") and api_guard not in handler.resolve_guards():
                    raise RuntimeError(f"{route.path} needs a key but is not under api_guard")
