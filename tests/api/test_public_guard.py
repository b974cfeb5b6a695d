"""Abuse limits and CORS on the public routes: 429, 413, and origins from the survey."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.api.app import create_app
from feedback.api.rate_limit import PublicRateLimit
from feedback.api.ratelimit_store import SQLiteStorage
from feedback.config import Settings
from tests.builders.orgs import make_org
from tests.builders.responses import responses_url, scalar, submission, submit
from tests.builders.surveys import make_survey

Client = AsyncTestClient[Litestar]
SITE = "https://campaign.example.org"


@pytest.fixture
async def limited(settings: Settings) -> AsyncIterator[Client]:
    app = create_app(settings.model_copy(update={"public_rate_limit": 3}))
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield client


async def test_public_routes_are_rate_limited_per_client_and_survey(limited: Client) -> None:
    org = await make_org(limited)
    await make_survey(limited, org)
    await make_survey(limited, org, slug="other")
    answers = [await submit(limited, org, submission()) for _ in range(4)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    refused = answers[-1]
    assert refused.headers["content-type"].startswith("application/problem+json")
    # A slot frees when the first of the three is a minute old.
    assert 55 <= int(refused.headers["retry-after"]) <= 60
    form = await limited.get(f"/api/v1/public/{org.slug}/pulse/form")
    assert form.status_code == 429 and "access-control-allow-origin" not in form.headers
    # From a page, the refusal is readable there (it says only "wait"), so an embed can tell
    # "slow down" from "this site is not allowed".
    embedded = await limited.get(f"/api/v1/public/{org.slug}/pulse/form", headers={"Origin": SITE})
    assert embedded.status_code == 429
    assert embedded.headers["access-control-allow-origin"] == SITE
    assert "retry-after" in embedded.headers["access-control-expose-headers"].lower()
    # Another survey has its own budget, and the authenticated API none of this.
    assert (await submit(limited, org, submission(), survey="other")).status_code == 201
    listed = await limited.get("/api/v1/surveys/pulse/responses", headers=org.auth("analyst"))
    assert listed.status_code == 200 and len(listed.json()["items"]) == 3


async def test_the_window_moves_with_time(tmp_path: Path) -> None:
    now = [1000.0]
    storage = SQLiteStorage(tmp_path / "limits.sqlite3", clock=lambda: now[0])
    limit = PublicRateLimit(3, storage, clock=lambda: now[0])
    try:
        for second in (0.0, 10.0, 20.0):
            now[0] = 1000.0 + second
            assert await limit.hit("a", "org", "s") == 0
        now[0] = 1030.0
        # Full: a slot frees when the first hit is a minute old, 30 s from now.
        assert await limit.hit("a", "org", "s") == 30
        assert await limit.hit("b", "org", "s") == 0  # another client
        assert await limit.hit("a", "org", "t") == 0  # another survey
        now[0] = 1060.5
        assert await limit.hit("a", "org", "s") == 0
        assert await limit.hit("a", "org", "s") == 10  # the refused hit took no slot
        now[0] = 1200.0
        assert [await limit.hit("a", "org", "s") for _ in range(4)] == [0, 0, 0, 60]
    finally:
        await limit.close()


async def test_a_limit_of_zero_is_no_limit(tmp_path: Path) -> None:
    """FEEDBACK_PUBLIC_RATE_LIMIT=0 (a proxy in front limits): nothing refused, nothing stored."""
    storage = SQLiteStorage(tmp_path / "limits.sqlite3")
    limit = PublicRateLimit(0, storage)
    try:
        assert [await limit.hit("a", "org", "s") for _ in range(50)] == [0] * 50
        assert await storage.reset() == 0
    finally:
        await limit.close()


async def test_a_body_over_the_cap_is_413(client: Client, settings: Settings) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    big = submission(answers={"comment": "x" * (settings.max_body_bytes + 1)})
    got = await submit(client, org, big)
    assert got.status_code == 413
    assert got.headers["content-type"].startswith("application/problem+json")
    assert await scalar(settings.database_url, "SELECT count(*) FROM response") == 0


async def test_an_allowed_origin_gets_cors_headers(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org, settings={"allowed_origins": [SITE]})
    got = await submit(client, org, submission(), headers={"Origin": SITE})
    assert got.status_code == 201
    assert got.headers["access-control-allow-origin"] == SITE
    assert "ETag" in got.headers["access-control-expose-headers"]
    assert "Origin" in got.headers["vary"]
    # Errors reach the page too, so the form can show them.
    bad = await submit(client, org, submission(version=9), headers={"Origin": SITE})
    assert bad.status_code == 422 and bad.headers["access-control-allow-origin"] == SITE
    form = await client.get(f"/api/v1/public/{org.slug}/pulse/form", headers={"Origin": SITE})
    assert form.headers["access-control-allow-origin"] == SITE


async def test_a_preflight_is_answered_from_the_survey_settings(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org, settings={"allowed_origins": [SITE]})
    preflight = {"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x"}
    ok = await client.options(
        f"{responses_url(org)}/6f1c0e4a-0000-4000-8000-000000000000",
        headers={"Origin": SITE, **preflight},
    )
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == SITE
    assert "PUT" in ok.headers["access-control-allow-methods"]
    assert "X-Edit-Token" in ok.headers["access-control-allow-headers"]
    assert "If-Match" in ok.headers["access-control-allow-headers"]
    other = await client.options(
        responses_url(org), headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in other.headers
    assert "Origin" in other.headers["vary"]


async def test_a_disallowed_origin_gets_no_cors_and_cannot_submit(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await make_survey(client, org, settings={"allowed_origins": [SITE]})
    evil = {"Origin": "https://evil.example"}
    got = await submit(client, org, submission(), headers=evil)
    assert got.status_code == 403
    assert got.headers["content-type"].startswith("application/problem+json")
    assert "access-control-allow-origin" not in got.headers
    form = await client.get(f"/api/v1/public/{org.slug}/pulse/form", headers=evil)
    assert form.status_code == 200 and "access-control-allow-origin" not in form.headers
    assert await scalar(settings.database_url, "SELECT count(*) FROM response") == 0
    # Without an Origin (a script, a same-origin page) the route works as usual.
    assert (await submit(client, org, submission())).status_code == 201
