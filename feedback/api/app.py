"""The Litestar application: routes, guards, error mapping, OpenAPI, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Router
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import StoplightRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ControllerRouterHandler

from feedback import __version__
from feedback.api import (
    analysis,
    decisions,
    embed,
    forms,
    health,
    orgs,
    public,
    respondents,
    responses,
    surveys,
)
from feedback.api.auth import api_guard, route_access_declared
from feedback.api.deps import (
    provide_db_session,
    provide_principal,
    provide_settings,
    provide_submissions,
)
from feedback.api.problems import EXCEPTION_HANDLERS
from feedback.config import Settings, get_settings
from feedback.db import make_engine, make_sessionmaker
from feedback.responses.submissions import Submissions
from feedback.responses.writer import store_for

API_V1: Sequence[ControllerRouterHandler] = [
    orgs.OrgController,
    orgs.KeyController,
    orgs.AuditController,
    surveys.SurveyController,
    decisions.DecisionController,
    public.PublicController,
    responses.ResponseController,
    respondents.RespondentController,
    analysis.AnalysisController,
]


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        app.state.engine = engine
        app.state.sessions = make_sessionmaker(engine)
        app.state.submissions = Submissions(
            app.state.sessions,
            store_for(settings.database_url, engine),
            secret=settings.resolved_secret_key(),
        )
        try:
            yield
        finally:
            await app.state.submissions.close()
            await engine.dispose()

    api = Router(path="/api/v1", route_handlers=list(API_V1), guards=[api_guard])
    app = Litestar(
        route_handlers=[
            api,
            health.health,
            health.ready,
            forms.HostedFormController,
            analysis.ReportPageController,
            embed.embed_js,
            embed.form_css,
        ],
        dependencies={
            "db_session": Provide(provide_db_session),
            "principal": Provide(provide_principal, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
            "submissions": Provide(provide_submissions, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="feedback",
            version=__version__,
            description="Recurring supporter surveys, embedded forms and honest trends.",
            path="/schema",
            render_plugins=[
                SwaggerRenderPlugin(path="/swagger"),
                StoplightRenderPlugin(path="/elements"),
            ],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", description="API key")
                }
            ),
            security=[{"bearer": []}],
        ),
        debug=False,
    )
    app.state.settings = settings
    _check_access_declared(app)
    return app


def _check_access_declared(app: Litestar) -> None:
    """Refuse to start with an /api/v1 route that says nothing about who may call it."""
    for route in app.routes:
        if not route.path.startswith("/api/v1"):
            continue
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler) and "OPTIONS" not in handler.http_methods:
                opt: dict[str, Any] = handler.opt
                if not route_access_declared(opt):
                    raise RuntimeError(f"{route.path} declares no access rule (role/public)")
