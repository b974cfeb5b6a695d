"""Analysis off the primary: FEEDBACK_READ_DATABASE_URL against a real streaming replica.

Figures read on the replica equal the primary's once it has caught up; every read answer says
how fresh it is (`Data-As-Of`) and where it was read (`Data-Source`); a replica that lags more
than `read_max_lag`, or is down, or restarts, sends reads to the primary and breaks nothing.

The app's clock is pinned to the first instant of a month: the replica's lag is measured by the
database's own clock (the age of the commit it last replayed), and only the answer's `as_of` is
put on the request's clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pydantic import ValidationError

from feedback.analysis.rollups import Rollups
from feedback.analysis.warming import warm_splits
from feedback.api.app import create_app
from feedback.clock import fixed_clock
from feedback.config import Settings
from feedback.db import make_engine, make_sessionmaker
from feedback.read_replica import Freshness, ReadRouter
from tests import database
from tests.builders.analysis import import_lines, line
from tests.builders.orgs import Org, make_org
from tests.builders.surveys import MONTHLY, make_survey
from tests.replica.cluster import Replica, caught_up, missing_tools, set_replay, streaming_replica

Client = AsyncTestClient[Litestar]
TRENDS = "/api/v1/surveys/pulse/trends?questions=trust,nps,priority&from=2025-01-01&to=2025-06-30"


@pytest.fixture(scope="module")
def replica() -> Iterator[Replica]:
    url = database.configured_url()
    if not url or not url.startswith("postgresql"):
        pytest.skip("a streaming replica needs the PostgreSQL test database")
    why = missing_tools()
    if why:
        pytest.fail(f"cannot make a PostgreSQL replica here: {why}")
    with streaming_replica(url) as made:
        yield made


# The first instant of a month: the request's `now` for every app here.
NOW = datetime(2027, 3, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
async def clients(settings: Settings, replica: Replica) -> AsyncIterator[tuple[Client, Client]]:
    """A client of the app reading from the replica, and one of the app without a replica."""
    on_replica = settings.model_copy(update={"read_database_url": replica.url})
    async with (
        AsyncTestClient(app=create_app(on_replica, clock=fixed_clock(NOW))) as reads_replica,
        AsyncTestClient(app=create_app(settings, clock=fixed_clock(NOW))) as reads_primary,
    ):
        yield reads_replica, reads_primary


def answers(wave: int, i: int) -> dict[str, Any]:
    return {
        "trust": 1 + (i + wave) % 5,
        "nps": (3 * i + wave) % 11,
        "priority": ("climate", "housing", "health")[i % 3],
    }


async def pulse(client: Client, waves: range, size: int) -> Org:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    await import_lines(client, org, [line(w, answers(w, i)) for w in waves for i in range(size)])
    return org


def n_of(got: Any) -> list[int]:
    return [w["n"] for w in got.json()["questions"][0]["waves"]]


async def test_figures_on_a_caught_up_replica_equal_the_primarys(
    clients: tuple[Client, Client], settings: Settings, replica: Replica
) -> None:
    reads_replica, reads_primary = clients
    org = await pulse(reads_primary, range(1, 7), 12)
    for path in (
        TRENDS,
        TRENDS + "&segment=country",
        "/api/v1/surveys/pulse/panel/trust?from_wave=1&to_wave=2",
        "/api/v1/surveys/pulse/export.csv",
        "/api/v1/surveys/pulse/export.ndjson",
        "/api/v1/surveys/pulse/trends/trust/chart.png",
    ):
        # Reads write to the primary too (the rollups a trends request keeps, the splits it
        # records): caught up again before each, or on a slow machine the replica is rightly
        # a fraction of a second behind the request.
        caught_up(settings.database_url, replica.url)
        on_replica = await reads_replica.get(path, headers=org.auth("analyst"))
        on_primary = await reads_primary.get(path, headers=org.auth("analyst"))
        assert on_replica.status_code == on_primary.status_code == 200, (path, on_replica.text)
        assert on_replica.headers["data-source"] == "replica", path
        assert on_primary.headers["data-source"] == "primary", path
        assert on_replica.content == on_primary.content, path
        # Caught up: as fresh as the request.
        assert datetime.fromisoformat(on_replica.headers["data-as-of"]) == NOW
    # Writes never go to the replica: a report link is made on the primary.
    link = await reads_replica.post(
        "/api/v1/surveys/pulse/report-links", json={}, headers=org.auth("analyst")
    )
    assert link.status_code == 201, link.text
    assert "data-source" not in link.headers
    # The report it opens reads from the replica once that has the survey.
    caught_up(settings.database_url, replica.url)
    report = await reads_replica.get(link.json()["url"].split("127.0.0.1:8000")[-1])
    assert report.status_code == 200 and report.headers["data-source"] == "replica"


async def test_a_lagging_replica_is_read_only_within_the_allowed_lag(
    clients: tuple[Client, Client], settings: Settings, replica: Replica
) -> None:
    reads_replica, reads_primary = clients
    # The same replica, allowed no lag at all.
    strict = settings.model_copy(update={"read_database_url": replica.url, "read_max_lag": 0})
    org = await pulse(reads_primary, range(1, 3), 10)
    caught_up(settings.database_url, replica.url)
    set_replay(replica.url, paused=True)
    try:
        await import_lines(reads_primary, org, [line(1, answers(1, i), day=16) for i in range(5)])
        # Within the allowed lag: the replica's figures, honestly dated before the request.
        stale = await reads_replica.get(TRENDS, headers=org.auth("analyst"))
        assert stale.status_code == 200 and stale.headers["data-source"] == "replica"
        assert n_of(stale)[0] == 10
        assert datetime.fromisoformat(stale.headers["data-as-of"]) < NOW
        # Past it: the primary answers, current.
        async with AsyncTestClient(app=create_app(strict, clock=fixed_clock(NOW))) as impatient:
            fresh = await impatient.get(TRENDS, headers=org.auth("analyst"))
        assert fresh.status_code == 200 and fresh.headers["data-source"] == "primary"
        assert n_of(fresh)[0] == 15
        assert datetime.fromisoformat(fresh.headers["data-as-of"]) == NOW
    finally:
        set_replay(replica.url, paused=False)
    caught_up(settings.database_url, replica.url)
    again = await reads_replica.get(TRENDS, headers=org.auth("analyst"))
    assert again.headers["data-source"] == "replica" and n_of(again)[0] == 15


async def test_the_worker_counts_retired_rollups_on_the_replica(
    clients: tuple[Client, Client], settings: Settings, replica: Replica
) -> None:
    """Warming reads (and counts) where requests read: on a replica fresh enough. A replica
    that has not yet replayed a write finds nothing retired; the primary finds its wave."""
    _, reads_primary = clients
    org = await pulse(reads_primary, range(1, 4), 10)
    await reads_primary.get(TRENDS, headers=org.auth("analyst"))  # the split is recorded
    on_primary = make_engine(settings.database_url, pool_size=2)
    on_replica = make_engine(replica.url, pool_size=2)
    primary = make_sessionmaker(on_primary)
    rollups = Rollups(primary)
    router = ReadRouter(primary, make_sessionmaker(on_replica), max_lag=timedelta(days=1))
    try:
        assert await warm_splits(primary, rollups, now=NOW) > 0  # every question and wave
        caught_up(settings.database_url, replica.url)
        set_replay(replica.url, paused=True)
        try:
            await import_lines(reads_primary, org, [line(2, answers(2, 99))])
            assert await warm_splits(primary, rollups, now=NOW, read_router=router) == 0
            assert await warm_splits(primary, rollups, now=NOW) == 1
        finally:
            set_replay(replica.url, paused=False)
    finally:
        await on_primary.dispose()
        await on_replica.dispose()


async def test_a_replica_that_stops_and_restarts_breaks_nothing(
    clients: tuple[Client, Client], settings: Settings, replica: Replica
) -> None:
    reads_replica, reads_primary = clients
    org = await pulse(reads_primary, range(1, 4), 9)
    caught_up(settings.database_url, replica.url)
    expected = (await reads_primary.get(TRENDS, headers=org.auth("analyst"))).content
    replica.stop()
    try:
        for _ in range(3):
            down = await reads_replica.get(TRENDS, headers=org.auth("analyst"))
            assert down.status_code == 200, down.text
            assert down.headers["data-source"] == "primary"
            assert down.content == expected
    finally:
        replica.start()
    caught_up(settings.database_url, replica.url)
    # The router leaves a failed replica alone for five seconds (a duration, on the monotonic
    # clock), then tries it again.
    await asyncio.sleep(5.5)
    back = await reads_replica.get(TRENDS, headers=org.auth("analyst"))
    assert back.status_code == 200 and back.headers["data-source"] == "replica"
    assert back.content == expected


@pytest.mark.parametrize(
    ("freshness", "as_of"),
    [
        # Streaming and replayed all it received: as fresh as the request.
        (Freshness(True, timedelta(days=3), True, True), NOW),
        # Replaying behind what it received: as of its last replayed commit.
        (Freshness(True, timedelta(seconds=5), False, True), NOW - timedelta(seconds=5)),
        # Cut off from the primary: it cannot know what it misses; its last commit it can.
        (Freshness(True, timedelta(hours=2), True, False), NOW - timedelta(hours=2)),
        # A commit stamped a little ahead of the replica's clock is not from the future.
        (Freshness(True, timedelta(seconds=-1), False, True), NOW),
        # Nothing replayed yet and not streaming: it cannot say.
        (Freshness(True, None, True, False), None),
        # Not a replica at all (promoted, or the primary itself): current.
        (Freshness(False, None, True, False), NOW),
    ],
)
def test_what_a_replica_says_about_itself_dates_its_data(
    freshness: Freshness, as_of: datetime | None
) -> None:
    assert freshness.as_of(NOW) == as_of


def test_a_read_replica_is_a_postgresql_one_of_a_postgresql_primary(tmp_path: Path) -> None:
    primary = "postgresql://postgres@127.0.0.1:5432/app"
    made = Settings(database_url=primary, read_database_url="postgresql://r.internal/app")
    assert made.read_database_url == "postgresql+asyncpg://r.internal/app"
    assert Settings(database_url=primary, read_database_url=" ").read_database_url is None
    with pytest.raises(ValidationError, match="must be a PostgreSQL URL"):
        Settings(database_url=primary, read_database_url=f"sqlite:///{tmp_path}/r.db")
    with pytest.raises(ValidationError, match="needs a PostgreSQL database_url"):
        Settings(database_url=f"sqlite:///{tmp_path}/a.db", read_database_url=primary)
