"""Fixtures: a migrated database per test, the real app, a test client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.api.app import create_app
from feedback.clock import Clock, system_clock
from feedback.config import Settings
from tests import database

ADMIN_TOKEN = "test-instance-admin-token"

# No time limit per example: Hypothesis's default deadline (200 ms) is a timed assertion, and
# on CI's two shared cores a pure property test failed on it while its property held (20,000
# examples passed alone). Speed is measured in bench/, not asserted.
settings.register_profile("feedback", deadline=None)
settings.load_profile("feedback")


@pytest.fixture(scope="session")
def _database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    url = database.configured_url()
    if url and url.startswith("postgresql"):
        database.reset_postgres(url)
        # Pre-ping: a test may end every connection to the database (test_group_commit.py does).
        engine = sa.create_engine(database.sync_url(url), pool_pre_ping=True)
        yield engine
        engine.dispose()
    else:
        yield database.make_sqlite_template(tmp_path_factory.mktemp("db"))


@pytest.fixture
def database_url(_database_template: object, tmp_path: Path) -> str:
    if isinstance(_database_template, sa.Engine):
        database.truncate_postgres(_database_template)
        url = database.configured_url()
        assert url
        return url
    assert isinstance(_database_template, Path)
    return database.copy_sqlite(_database_template, tmp_path)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        secret_key="test-secret-key-0123456789-abcdefghij",
        secret_key_file=tmp_path / "secret",
        db_pool_size=5,
    )


@pytest.fixture
def clock() -> Clock:
    """The app's clock: the wall clock, unless a test pins it (`@pytest.mark.parametrize("clock",
    [fixed_clock(...)])` or a module's own `clock` fixture) because a date matters to it."""
    return system_clock


@pytest.fixture
def app(settings: Settings, clock: Clock) -> Litestar:
    return create_app(settings, clock=clock)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield client
