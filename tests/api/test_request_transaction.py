"""The request's transaction commits on a 2xx answer only: a handler that writes and then
answers 4xx (returned, not raised) or raises leaves nothing behind."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar, Response, post
from litestar.params import FromPath
from litestar.testing import AsyncTestClient

from feedback.api.deps import DbSession
from feedback.config import Settings
from feedback.orgs.models import Organisation
from tests import database


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


def _written(settings: Settings) -> set[str]:
    """Read on a connection of the test's own: the app's pool belongs to the client's loop."""
    engine = sa.create_engine(database.sync_url(settings.database_url))
    try:
        with engine.connect() as conn:
            query = sa.select(Organisation.slug).where(Organisation.slug.like("written-%"))
            return set(conn.scalars(query))
    finally:
        engine.dispose()


async def test_commits_on_2xx_only(settings: Settings, client: AsyncTestClient[Litestar]) -> None:
    for status in (200, 201, 202, 204, 400, 404, 409, 422, 599):
        response = await client.post(f"/_test/write/{status}")
        assert response.status_code == (500 if status == 599 else status)
    assert _written(settings) == {"written-200", "written-201", "written-202", "written-204"}


async def test_a_status_never_leaks_into_the_next_request(
    settings: Settings, client: AsyncTestClient[Litestar]
) -> None:
    """A 2xx noted for one request does not commit a later request that raises."""
    assert (await client.post("/_test/write/201")).status_code == 201
    assert (await client.post("/_test/write/599")).status_code == 500
    assert _written(settings) == {"written-201"}
