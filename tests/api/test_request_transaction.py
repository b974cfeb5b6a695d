"""The request's transaction commits on a 2xx answer only: a handler that writes and then
answers 4xx (returned, not raised) or raises leaves nothing behind."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar, Response, post
from litestar.params import FromPath
from litestar.testing import AsyncTestClient

from feedback.api.deps import DbSession, sessions_of
from feedback.orgs.models import Organisation


@post("/_test/write/{status:int}", status_code=200)
async def write_then_answer(db_session: DbSession, status: FromPath[int]) -> Response[Any]:
    db_session.add(Organisation(slug=f"written-{status}", name="written"))
    await db_session.flush()
    if status == 599:
        raise RuntimeError("the handler fails after writing")
    return Response(None if status == 204 else {"status": status}, status_code=status)


@pytest.fixture
def app(app: Litestar) -> Litestar:
    app.register(write_then_answer)
    return app


async def _written(app: Litestar) -> set[str]:
    async with sessions_of(app.state)() as session:
        rows = await session.scalars(
            sa.select(Organisation.slug).where(Organisation.slug.like("written-%"))
        )
        return set(rows)


async def test_commits_on_2xx_only(app: Litestar, client: AsyncTestClient[Litestar]) -> None:
    for status in (200, 201, 202, 204, 400, 404, 409, 422, 599):
        response = await client.post(f"/_test/write/{status}")
        assert response.status_code == (500 if status == 599 else status)
    assert await _written(app) == {"written-200", "written-201", "written-202", "written-204"}


async def test_a_status_never_leaks_into_the_next_request(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    """A 2xx noted for one request does not commit a later request that raises."""
    assert (await client.post("/_test/write/201")).status_code == 201
    assert (await client.post("/_test/write/599")).status_code == 500
    assert await _written(app) == {"written-201"}
