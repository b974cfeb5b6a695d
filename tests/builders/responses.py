"""Build submissions and respondents through the real API, and run the app concurrently."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from tests.builders.orgs import Org

Client = AsyncTestClient[Litestar] | httpx.AsyncClient


def pulse_answers(**override: Any) -> dict[str, Any]:
    """Answers valid for tests.builders.surveys.PULSE_DEFINITION (six questions, 7 values)."""
    answers: dict[str, Any] = {
        "trust": 4,
        "nps": 9,
        "priority": "climate",
        "actions": ["petition", "march"],
        "hours": 2.5,
        "comment": "Keep going",
    }
    answers.update(override)
    return {k: v for k, v in answers.items() if v is not None}


def submission(
    version: int = 1, answers: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "response_id": str(uuid.uuid4()),
        "version": version,
        "answers": pulse_answers() if answers is None else answers,
        **extra,
    }


def responses_url(org: Org | str, survey: str = "pulse") -> str:
    slug = org if isinstance(org, str) else org.slug
    return f"/api/v1/public/{slug}/{survey}/responses"


async def submit(
    client: Client, org: Org | str, body: dict[str, Any], survey: str = "pulse", **kwargs: Any
) -> httpx.Response:
    return await client.post(responses_url(org, survey), json=body, **kwargs)


async def submitted(
    client: Client, org: Org | str, body: dict[str, Any] | None = None, survey: str = "pulse"
) -> dict[str, Any]:
    """Submit and require 201; returns the answer (response_id, revision, wave, edit_token)."""
    got = await submit(client, org, body or submission(), survey)
    assert got.status_code == 201, got.text
    out: dict[str, Any] = got.json()
    return out


async def make_respondent(
    client: Client, org: Org, *, external_ref: str | None = None, **attributes: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"attributes": attributes}
    if external_ref is not None:
        body["external_ref"] = external_ref
    got = await client.post("/api/v1/respondents", json=body, headers=org.auth("campaigner"))
    assert got.status_code == 201, got.text
    out: dict[str, Any] = got.json()
    return out


class AppClient(httpx.AsyncClient):
    """An httpx client over an app in this event loop, knowing its app (as AsyncTestClient
    does: the builders pin the app's clock through it)."""

    def __init__(self, app: Litestar, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.app = app


@asynccontextmanager
async def concurrent_client(app: Litestar) -> AsyncIterator[AppClient]:
    """A client whose requests run concurrently on the app, in this event loop.

    Litestar's AsyncTestClient hands each request to a portal thread and blocks until it is
    answered, so `asyncio.gather` over it runs requests one after another. Here the app's
    lifespan and every request share the test's loop, as under a real server.
    """
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, outbox.put)  # type: ignore[arg-type]
    )
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    try:
        async with AppClient(app, transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await lifespan


@asynccontextmanager
async def database(url: str) -> AsyncIterator[AsyncConnection]:
    """A connection of its own to the test database, to look at what the app stored."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            yield conn
    finally:
        await engine.dispose()


async def scalar(url: str, sql: str, **params: Any) -> Any:
    async with database(url) as conn:
        return (await conn.execute(sa.text(sql), params)).scalar()


async def execute(url: str, sql: str) -> None:
    """Run one statement on the test database behind the app's back, and commit it."""
    async with database(url) as conn:
        await conn.execute(sa.text(sql))
        await conn.commit()


async def all_text(url: str, *, exclude: frozenset[str] = frozenset()) -> str:
    """Every value of every table as one string: what "nothing left behind" is checked on."""
    async with database(url) as conn:
        names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        parts = []
        for name in set(names) - exclude:
            rows = (await conn.execute(sa.text(f'SELECT * FROM "{name}"'))).all()
            parts += [str(value) for row in rows for value in row]
    return "\n".join(parts)
