"""The limit over each store, in process: Redis; and when the store fails, requests pass
(fail open) with a warning, never a 500."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from feedback.api.app import create_app
from feedback.config import Settings
from tests.builders.orgs import make_org
from tests.builders.surveys import make_survey
from tests.test_crash_safety import _free_port


async def _form_statuses(settings: Settings, count: int) -> list[int]:
    app = create_app(settings.model_copy(update={"public_rate_limit": 2}))
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        org = await make_org(client)
        await make_survey(client, org)
        got = [await client.get(f"/api/v1/public/{org.slug}/pulse/form") for _ in range(count)]
        assert all(g.status_code != 429 or 58 <= int(g.headers["retry-after"]) <= 60 for g in got)
        return [g.status_code for g in got]


async def test_redis_holds_the_limit(settings: Settings, redis_url: str) -> None:
    assert await _form_statuses(settings.model_copy(update={"redis_url": redis_url}), 3) == [
        200,
        200,
        429,
    ]


async def test_redis_down_lets_requests_pass_with_a_warning(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    nobody = f"redis://127.0.0.1:{_free_port()}/0"
    with caplog.at_level(logging.WARNING, logger="feedback.ratelimit"):
        got = await _form_statuses(settings.model_copy(update={"redis_url": nobody}), 5)
    assert got == [200] * 5
    warned = [r for r in caplog.records if r.name == "feedback.ratelimit"]
    assert len(warned) == 1  # once a minute, not once a request
    assert "pass unlimited" in warned[0].getMessage()


async def test_an_unusable_host_file_lets_requests_pass(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A directory where the file should be: SQLite cannot open it.
    with caplog.at_level(logging.WARNING, logger="feedback.ratelimit"):
        got = await _form_statuses(settings.model_copy(update={"ratelimit_file": tmp_path}), 4)
    assert got == [200] * 4
    assert any(r.name == "feedback.ratelimit" for r in caplog.records)


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "127.0.0.1:6379", ""])
def test_the_redis_url_is_checked_at_start(url: str) -> None:
    with pytest.raises(ValueError, match="is not a redis://"):
        Settings(redis_url=url)
    assert Settings(redis_url="rediss://cache.internal:6380/1").redis_url
