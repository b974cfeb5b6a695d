"""Warming trends rollups ahead of readers (feedback/analysis/warming.py), over the real app
on both databases: each split a reader asks for is recorded (at most once a day); the worker
counts and keeps the waves a write retired, of the splits used in the last week, so that the
next reader is served from the rollups, with what a count of its own would have given."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update

from feedback.analysis import splits as split_records
from feedback.analysis.models import TrendSplit
from feedback.analysis.rollups import Rollups
from feedback.analysis.warming import WARM_FOR, warm_splits
from feedback.clock import Clock, fixed_clock
from feedback.config import Settings
from feedback.db import make_engine, make_sessionmaker
from feedback.loop.worker import run_worker
from feedback.surveys.models import Survey
from tests.builders.analysis import import_lines, line, session_on
from tests.builders.orgs import make_org
from tests.builders.responses import execute, scalar, submitted
from tests.builders.rollups import (
    BY_CHANNEL,
    BY_REGION,
    NOW,
    QUESTIONS,
    counted_afresh,
    history,
    ns,
    place,
    tamper,
    trends,
)
from tests.builders.surveys import MONTHLY, make_survey
from tests.builders.wire import same

Client = AsyncTestClient[Litestar]
FILTERED = f"{BY_REGION}&channel=paper,event"
UNSPLIT = f"/api/v1/surveys/pulse/trends?{QUESTIONS}"
# Pieces stamped with the current sum of their wave's changes: the ones a reader would use
# (every split here is by channel or by region, whose attribute sum no test changes unawares).
CURRENT = (
    "SELECT count(*) FROM trend_rollup r WHERE r.answers_seen = (SELECT coalesce(sum(weight), 0)"
    " FROM answer_change c WHERE c.survey_id = r.survey_id AND c.wave_number = r.wave_number)"
)


@pytest.fixture
def clock() -> Clock:
    return fixed_clock(NOW)


async def warm(database_url: str, now: datetime = NOW, **options: int) -> int:
    engine = make_engine(database_url, pool_size=2)
    try:
        sessions = make_sessionmaker(engine)
        return await warm_splits(sessions, Rollups(sessions), now=now, **options)
    finally:
        await engine.dispose()


async def splits(settings: Settings) -> list[tuple[str | None, list[str] | None, datetime]]:
    async with session_on(settings) as session:
        rows = await session.execute(
            select(TrendSplit.segment, TrendSplit.channels, TrendSplit.used_at)
        )
        return sorted(((s, c, u) for s, c, u in rows), key=lambda r: (str(r[0]), str(r[1])))


async def set_used_at(settings: Settings, at: datetime) -> None:
    async with session_on(settings) as session:
        await session.execute(update(TrendSplit).values(used_at=at))
        await session.commit()


async def set_lease(settings: Settings, until: datetime) -> None:
    """As if another worker were counting every split until `until`."""
    async with session_on(settings) as session:
        await session.execute(update(TrendSplit).values(warming_until=until))
        await session.commit()


async def test_a_split_is_recorded_when_asked_for_and_again_once_a_day_has_passed(
    client: Client, settings: Settings
) -> None:
    org, _ = await history(client)
    for url in (BY_REGION, BY_CHANNEL, FILTERED, BY_REGION, f"{FILTERED}&min_n=3"):
        await trends(client, org, url)
    # One row a split (segment and channels): min_n and the order of channels are not a split.
    assert await splits(settings) == [
        ("channel", None, NOW),
        ("region", None, NOW),
        ("region", ["event", "paper"], NOW),
    ]
    # Asked for again within a day: nothing written.
    await set_used_at(settings, NOW - timedelta(hours=23))
    await trends(client, org)
    assert {u for _, _, u in await splits(settings)} == {NOW - timedelta(hours=23)}
    # A day later: written again, for the split asked for only.
    await set_used_at(settings, NOW - timedelta(hours=25))
    await trends(client, org)
    assert [u for _, _, u in await splits(settings)] == [
        NOW - timedelta(hours=25),
        NOW,
        NOW - timedelta(hours=25),
    ]


async def test_the_waves_a_write_retired_are_counted_ahead_of_the_reader(
    client: Client, database_url: str
) -> None:
    org, _ = await history(client)
    for url in (BY_REGION, BY_CHANNEL, FILTERED):
        await trends(client, org, url)
    # The survey's other three questions, which these readers did not ask for: the worker keeps
    # every question of a split, so that a reader asking for any of them is served.
    assert await warm(database_url) == 3 * 4
    assert await warm(database_url) == 0
    await import_lines(client, org, [line(2, {"trust": 5, "hours": 2.5})])
    # Wave 2 of each of the three splits, once.
    assert await warm(database_url) == 3
    assert await warm(database_url) == 0
    # What the worker kept is what a reader counting afresh gets.
    for url in (BY_REGION, BY_CHANNEL, FILTERED):
        kept = await trends(client, org, url)
        # The new answer came through neither paper nor event.
        assert ns(kept)[0] == ([12, 12, 12, 0] if url == FILTERED else [16, 17, 16, 0])
        assert same(kept, await counted_afresh(client, org, database_url, url))
    # And the reader after the worker counts nothing: every piece it reads is served as kept.
    await warm(database_url)  # the pieces of the questions counted_afresh deleted
    await import_lines(client, org, [line(3, {"trust": 1, "hours": 0.5})])
    assert await warm(database_url) == 3
    await tamper(database_url)
    for url in (BY_REGION, BY_CHANNEL, FILTERED):
        assert ns(await trends(client, org, url)) == [[0, 0, 0, 0]] * 3


async def test_a_write_to_the_open_wave_alone_is_left_to_the_reader(
    client: Client, database_url: str
) -> None:
    """Every submission retires the open wave: counted ahead, it would be counted all day."""
    org, _ = await history(client)
    await trends(client, org)
    assert await warm(database_url) == 4  # its other questions
    created = await submitted(client, org)
    assert created["wave"] == 4
    assert await warm(database_url) == 0
    assert ns(await trends(client, org)) == [[16, 16, 16, 1], [12, 12, 12, 1], [16, 16, 16, 1]]
    # With a closed wave retired too, the open one is counted with it.
    await import_lines(client, org, [line(1, {"trust": 2})])
    await submitted(client, org)
    assert await warm(database_url) == 2


# The instant wave 4 closes and wave 5 opens: 01:00 on 1 May where the survey runs
# (Europe/Amsterdam, summer time; its schedule starts at 01:00 there), still 30 April in UTC;
# and the first of May in UTC, an hour later.
MAY_FIRST = (datetime(2025, 4, 30, 23, 0, tzinfo=UTC), datetime(2025, 5, 1, 0, 0, tzinfo=UTC))


@pytest.mark.parametrize("clock", [fixed_clock(at) for at in MAY_FIRST], ids=["local", "utc"])
async def test_on_the_first_of_a_month_the_wave_just_closed_is_counted_ahead(
    client: Client, database_url: str, clock: Clock
) -> None:
    now = clock()
    org, _ = await history(client)
    await trends(client, org)  # waves 1-4 (to 30 April)
    # Its other questions' waves 1-4, and every question's wave 5, opened at the first instant.
    assert await warm(database_url, now) == 5
    created = await submitted(client, org)
    assert created["wave"] == 5
    assert await warm(database_url, now) == 0  # the open wave alone
    await import_lines(client, org, [line(4, {"trust": 2})])
    assert await warm(database_url, now) == 2  # wave 4, closed at that instant, and wave 5


async def test_an_attribute_change_is_counted_for_the_splits_by_it(
    client: Client, database_url: str
) -> None:
    org, people = await history(client)
    for url in (BY_REGION, BY_CHANNEL):
        await trends(client, org, url)
    assert await warm(database_url) == 2 * 4  # their other questions
    await place(client, org, people[0], "east")
    # Every wave opened by NOW (1-4) of the split by region; the split by channel holds.
    assert await warm(database_url) == 4
    await tamper(database_url)
    moved = await trends(client, org)
    assert ns(moved) == [[0, 0, 0, 0]] * 3
    assert ns(await trends(client, org, BY_CHANNEL)) == [[0, 0, 0, 0]] * 3


async def test_a_split_no_reader_asked_for_in_a_week_is_left_to_its_next_reader(
    client: Client, database_url: str
) -> None:
    org, _ = await history(client)
    await trends(client, org)
    assert await warm(database_url) == 4  # its other questions
    await import_lines(client, org, [line(1, {"trust": 2})])
    assert await warm(database_url, NOW + timedelta(days=7, seconds=1)) == 0
    assert await warm(database_url, NOW + timedelta(days=6)) == 1


async def test_a_split_another_worker_is_counting_is_left_to_it_until_its_lease_ends(
    client: Client, database_url: str, settings: Settings
) -> None:
    org, _ = await history(client)
    await trends(client, org)
    assert await warm(database_url) == 4  # its other questions
    await import_lines(client, org, [line(2, {"trust": 2})])
    await set_lease(settings, NOW + timedelta(minutes=1))
    assert await warm(database_url) == 0
    await set_lease(settings, NOW)  # ended: taken over
    assert await warm(database_url) == 1
    # Released once counted.
    async with session_on(settings) as session:
        assert list(await session.scalars(select(TrendSplit.warming_until))) == [None]


async def test_only_the_splits_of_a_survey_used_last_are_warmed(
    client: Client, database_url: str, settings: Settings
) -> None:
    org, _ = await history(client)
    for url in (BY_REGION, BY_CHANNEL, FILTERED):
        await trends(client, org, url)
    async with session_on(settings) as session:
        await session.execute(
            update(TrendSplit)
            .where(TrendSplit.segment == "channel")
            .values(used_at=NOW - timedelta(hours=1))
        )
        await session.commit()
    # The two used last: by region, with and without the channel filter.
    assert await warm(database_url, per_survey=2) == 2 * 4
    await import_lines(client, org, [line(2, {"trust": 2})])
    assert await warm(database_url, per_survey=2) == 2


async def test_the_worker_warms_while_no_request_is_served(
    client: Client, database_url: str, settings: Settings
) -> None:
    org, _ = await history(client)
    for url in (BY_REGION, BY_CHANNEL):
        await trends(client, org, url)
    assert await warm(database_url) == 2 * 4  # their other questions
    await import_lines(client, org, [line(2, {"trust": 5}), line(3, {"trust": 4})])
    pieces = await scalar(database_url, "SELECT count(*) FROM trend_rollup")
    # Waves 2 and 3 of the six questions of two splits are retired.
    assert await scalar(database_url, CURRENT) == pieces - 2 * 6 * 2
    engine = make_engine(database_url, pool_size=3)
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(
            make_sessionmaker(engine),
            settings,
            stop,
            clock=fixed_clock(NOW),
            poll_seconds=0.05,
            warm_every_seconds=0.05,
        )
    )
    try:
        for _ in range(600):  # 30 s at most
            if await scalar(database_url, CURRENT) == pieces:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await worker
        await engine.dispose()
    await tamper(database_url)
    assert ns(await trends(client, org)) == [[0, 0, 0, 0]] * 3


async def adopt(database_url: str, now: datetime = NOW) -> int:
    engine = make_engine(database_url, pool_size=2)
    try:
        rollups = Rollups(make_sessionmaker(engine))
        return await split_records.adopt_org_splits(rollups, since=now - WARM_FOR)
    finally:
        await engine.dispose()


def of(slug: str, url: str) -> str:
    return url.replace("/surveys/pulse/", f"/surveys/{slug}/")


async def records(settings: Settings) -> set[tuple[str, str, str | None, str | None, datetime]]:
    """(organisation, survey, segment, channels, used_at) of every split recorded."""
    async with session_on(settings) as session:
        rows = await session.execute(
            select(
                Survey.org_id,
                Survey.slug,
                TrendSplit.segment,
                TrendSplit.channels,
                TrendSplit.used_at,
            ).join(Survey, Survey.id == TrendSplit.survey_id)
        )
        return {(str(o), s, g, None if c is None else ",".join(c), u) for o, s, g, c, u in rows}


async def test_a_survey_being_read_adopts_its_organisations_splits_and_the_split_by_channel(
    client: Client, database_url: str, settings: Settings
) -> None:
    """So that an analyst's first split of a survey is served from rollups the worker counted:
    the splits their organisation reads elsewhere, and the split every survey has."""
    org, _ = await history(client)
    await make_survey(client, org, slug="pulse-2", schedule=MONTHLY)
    await import_lines(
        client,
        org,
        [line(w, {"trust": 1 + w, "hours": 0.1 * w}, respondent=f"p{w}") for w in (1, 2, 3)],
        slug="pulse-2",
    )
    await make_survey(client, org, slug="quiet", schedule=MONTHLY)
    other = await make_org(client, "other")
    await make_survey(client, other, schedule=MONTHLY)
    for url in (BY_REGION, FILTERED):
        await trends(client, org, url)
    await trends(client, org, of("pulse-2", UNSPLIT))
    await trends(client, other, UNSPLIT)
    before = await records(settings)
    # pulse-2, read: the split by region (a channel filter is not adopted) and by channel.
    # The other organisation's survey: by channel only. Not `quiet`, which nobody reads, nor
    # `pulse`, read only by region here.
    assert await adopt(database_url) == 3
    org_id = next(o for o, s, *_ in before if s == "pulse-2")
    other_id = next(o for o, *_ in before if o != org_id)
    assert await records(settings) - before == {
        (org_id, "pulse-2", "region", None, NOW),
        (org_id, "pulse-2", "channel", None, NOW),
        (other_id, "pulse", "channel", None, NOW),
    }
    assert await adopt(database_url) == 0  # every record holds: nothing written
    # The worker counts them as it does the splits readers asked for, so the analyst's first
    # split of pulse-2 is served from its pieces (tampered: every n 0) ...
    await warm(database_url)
    await tamper(database_url)
    for url in (BY_REGION, BY_CHANNEL):
        assert ns(await trends(client, org, of("pulse-2", url))) == [[0, 0, 0, 0]] * 3
    # ... which hold what a count of its own gives.
    await execute(database_url, "DELETE FROM trend_rollup")
    await warm(database_url)
    assert same(
        await trends(client, org, of("pulse-2", BY_REGION)),
        await counted_afresh(client, org, database_url, of("pulse-2", BY_REGION)),
    )


async def test_an_adopted_split_follows_its_latest_use_in_the_organisation(
    client: Client, database_url: str, settings: Settings
) -> None:
    org, _ = await history(client)
    await make_survey(client, org, slug="pulse-2", schedule=MONTHLY)
    await trends(client, org, BY_REGION)
    await trends(client, org, of("pulse-2", UNSPLIT))
    assert await adopt(database_url) == 2
    # pulse is read by region again two days later: pulse-2's record of it moves too, and
    # pulse-2 stays in view as long as its own trends were read within the week.
    later = NOW + timedelta(days=2)
    async with session_on(settings) as session:
        await session.execute(
            update(TrendSplit).where(TrendSplit.segment == "region").values(used_at=later)
        )
        await session.commit()
    assert await adopt(database_url, later) == 0  # both records already say `later`
    async with session_on(settings) as session:
        await session.execute(
            update(TrendSplit)
            .where(TrendSplit.segment == "region", TrendSplit.used_at == later)
            .values(used_at=NOW)
        )
        await session.execute(
            update(TrendSplit)
            .where(
                TrendSplit.survey_id
                == select(Survey.id).where(Survey.slug == "pulse").scalar_subquery(),
                TrendSplit.segment == "region",
            )
            .values(used_at=later)
        )
        await session.commit()
    assert await adopt(database_url, later) == 1
    assert ("pulse-2", "region", later) in {(s, g, u) for _, s, g, _, u in await records(settings)}
    # A week after pulse-2 was last read, nothing is adopted for it any more.
    assert await adopt(database_url, NOW + WARM_FOR + timedelta(seconds=1)) == 0
