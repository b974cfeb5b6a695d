"""The public limit holds across the workers of `feedback serve --workers 2`, with the
host-local store and with Redis, and forged `X-Forwarded-For` headers do not multiply it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from feedback.config import Settings
from tests.builders.surveys import pulse_definition
from tests.conftest import ADMIN_TOKEN
from tests.test_crash_safety import Server, _free_port

LIMIT = 20
CONCURRENCY = 8


@contextmanager
def serving(settings: Settings, workdir: Path, **env: str) -> Iterator[Server]:
    """`feedback serve --workers 2` with the public limit LIMIT and `env`."""
    running = Server(settings, _free_port(), workdir)
    running.env |= {"FEEDBACK_PUBLIC_RATE_LIMIT": str(LIMIT), **env}
    running.start()
    try:
        yield running
    finally:
        running.stop()


async def _publish_survey(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        made = await client.post(
            "/api/v1/orgs",
            json={"slug": "acme", "name": "Acme"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        auth = {"Authorization": f"Bearer {made.json()['admin_key']}"}
        survey = {"slug": "pulse", "title": "P", "definition": pulse_definition()}
        assert (await client.post("/api/v1/surveys", json=survey, headers=auth)).is_success
        assert (await client.post("/api/v1/surveys/pulse/publish", headers=auth)).is_success


async def _statuses(url: str, headers: list[dict[str, str]]) -> list[int]:
    """GET the public form once per entry of `headers`, CONCURRENCY at a time, each on a new
    connection so that both workers answer."""
    gate = asyncio.Semaphore(CONCURRENCY)
    no_reuse = httpx.Limits(max_keepalive_connections=0)

    async def one(client: httpx.AsyncClient, extra: dict[str, str]) -> int:
        async with gate:
            got = await client.get("/api/v1/public/acme/pulse/form", headers=extra)
            assert got.status_code in (200, 429), got.text
            if got.status_code == 429:
                assert 1 <= int(got.headers["retry-after"]) <= 60
            return got.status_code

    async with httpx.AsyncClient(base_url=url, timeout=10, limits=no_reuse) as client:
        return list(await asyncio.gather(*(one(client, extra) for extra in headers)))


def _forged(count: int) -> list[dict[str, str]]:
    return [{"X-Forwarded-For": f"198.51.100.{i % 250}, 10.0.{i}.1"} for i in range(count)]


async def test_the_limit_holds_across_workers_on_the_host_store(
    settings: Settings, tmp_path: Path
) -> None:
    with serving(settings, tmp_path) as server:
        await _publish_survey(server.url)
        got = await _statuses(server.url, _forged(3 * LIMIT))
    # Every request came from 127.0.0.1, which is no trusted proxy: one client, one limit.
    assert got.count(200) == LIMIT and got.count(429) == 2 * LIMIT
    assert (tmp_path / ".feedback-ratelimit.sqlite3").exists()


async def test_a_trusted_proxy_separates_its_clients(settings: Settings, tmp_path: Path) -> None:
    trusted = '["127.0.0.1/32", "10.0.0.0/8"]'
    with serving(settings, tmp_path, FEEDBACK_TRUSTED_PROXIES=trusted) as server:
        await _publish_survey(server.url)
        clients = ["203.0.113.1", "203.0.113.2, 10.0.0.7", "2001:db8::5"]
        requests = [{"X-Forwarded-For": xff} for xff in clients for _ in range(LIMIT + 5)]
        got = await _statuses(server.url, requests)
        # A forgery left of what the proxy appended is still the same client.
        forged = await _statuses(server.url, [{"X-Forwarded-For": "1.2.3.4, 203.0.113.1"}])
    per_client = [got[i : i + LIMIT + 5].count(200) for i in range(0, len(got), LIMIT + 5)]
    assert per_client == [LIMIT] * len(clients)
    assert forged == [429]


async def test_the_limit_holds_across_workers_on_redis(
    settings: Settings, tmp_path: Path, redis_url: str
) -> None:
    with serving(settings, tmp_path, FEEDBACK_REDIS_URL=redis_url) as server:
        await _publish_survey(server.url)
        got = await _statuses(server.url, _forged(3 * LIMIT))
    assert got.count(200) == LIMIT and got.count(429) == 2 * LIMIT
    assert not (tmp_path / ".feedback-ratelimit.sqlite3").exists()  # Redis held it
