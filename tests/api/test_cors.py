"""CORS on the keyed API from FEEDBACK_CORS_ALLOW_ORIGINS; the public routes keep theirs."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pydantic import ValidationError

from feedback.api.app import create_app
from feedback.config import Settings
from tests.builders.orgs import make_org
from tests.builders.surveys import make_survey

Client = AsyncTestClient[Litestar]
APP = "https://dashboard.example.org"
EVIL = "https://evil.example"
PREFLIGHT = {"Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "x"}


@pytest.fixture
async def cors(settings: Settings) -> AsyncIterator[Client]:
    app = create_app(settings.model_copy(update={"cors_allow_origins": [APP]}))
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield client


async def test_a_preflight_from_an_allowed_origin(cors: Client) -> None:
    for path in ("/api/v1/surveys", "/api/v1/surveys/pulse", "/api/v1/orgs"):
        got = await cors.options(path, headers={"Origin": APP, **PREFLIGHT})
        assert got.status_code == 204, path
        assert got.headers["access-control-allow-origin"] == APP
        assert "PATCH" in got.headers["access-control-allow-methods"]
        allowed = got.headers["access-control-allow-headers"]
        assert all(h in allowed for h in ("Authorization", "Content-Type", "If-Match"))
        assert int(got.headers["access-control-max-age"]) > 0
        assert "Origin" in got.headers["vary"]
        assert "access-control-allow-credentials" not in got.headers


async def test_a_preflight_from_another_origin_gets_no_cors(cors: Client) -> None:
    got = await cors.options("/api/v1/surveys", headers={"Origin": EVIL, **PREFLIGHT})
    assert got.status_code < 500
    assert not [h for h in got.headers if h.startswith("access-control-")]
    assert "Origin" in got.headers["vary"]


async def test_requests_from_an_allowed_origin_get_allow_and_expose(cors: Client) -> None:
    org = await make_org(cors)
    await make_survey(cors, org)
    got = await cors.get("/api/v1/surveys/pulse", headers={"Origin": APP, **org.auth("analyst")})
    assert got.status_code == 200
    assert got.headers["access-control-allow-origin"] == APP
    assert "ETag" in got.headers["access-control-expose-headers"]
    assert "Origin" in got.headers["vary"]
    # Errors too (a 401 from the guard), so the page can show them.
    refused = await cors.get("/api/v1/surveys", headers={"Origin": APP})
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == APP
    evil = await cors.get("/api/v1/surveys", headers={"Origin": EVIL, **org.auth("analyst")})
    assert evil.status_code == 200 and "access-control-allow-origin" not in evil.headers


async def test_public_routes_keep_the_survey_origins(cors: Client) -> None:
    org = await make_org(cors)
    site = "https://campaign.example.org"
    await make_survey(cors, org, settings={"allowed_origins": [site]})
    form = f"/api/v1/public/{org.slug}/pulse/form"
    # The API's origin is not the survey's: nothing for it on the public routes.
    assert (
        "access-control-allow-origin" not in (await cors.get(form, headers={"Origin": APP})).headers
    )
    got = await cors.get(form, headers={"Origin": site})
    assert got.headers.get_list("access-control-allow-origin") == [site]


async def test_without_the_setting_there_is_no_cors(client: Client) -> None:
    got = await client.options("/api/v1/surveys", headers={"Origin": APP, **PREFLIGHT})
    assert got.status_code < 500 and "access-control-allow-origin" not in got.headers


async def test_options_on_every_keyed_route_is_never_a_500(cors: Client, app: Litestar) -> None:
    paths = {
        re.sub(r"\{[^}]*\}", "x", route.path)
        for route in app.routes
        if route.path.startswith("/api/v1") and not route.path.startswith("/api/v1/public")
    }
    assert len(paths) > 10
    for path in sorted(paths):
        for headers in ({}, {"Origin": EVIL, **PREFLIGHT}, {"Origin": APP, **PREFLIGHT}):
            got = await cors.options(path, headers=headers)
            assert got.status_code < 500, (path, headers, got.text)


@pytest.mark.parametrize("origin", ["*", "https://a.example/path", "a.example", "ftp://a"])
def test_the_setting_takes_origins_only(origin: str) -> None:
    with pytest.raises(ValidationError, match="is not an origin"):
        Settings(cors_allow_origins=[origin])
    assert Settings(cors_allow_origins=[APP + "/"]).cors_allow_origins == [APP]
