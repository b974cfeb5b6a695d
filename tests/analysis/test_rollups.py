"""Rollups of segment splits (feedback/analysis/rollups.py), over the real app on both
databases: a split is kept per question and wave, served from what was kept, and every write
recounts exactly the waves it touched (an attribute change: every wave of a split by that
attribute),
so a kept split always equals the split counted afresh."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.clock import Clock, fixed_clock
from feedback.db import make_engine, make_sessionmaker
from feedback.responses import change_log
from tests.builders.analysis import import_lines, line
from tests.builders.responses import (
    concurrent_client,
    database,
    execute,
    make_respondent,
    pulse_answers,
    scalar,
    submitted,
)
from tests.builders.rollups import (
    BY_CHANNEL,
    BY_REGION,
    NOW,
    counted_afresh,
    history,
    ns,
    pieces,
    place,
    tamper,
    trends,
    wave,
)
from tests.builders.wire import same

Client = AsyncTestClient[Litestar]


@pytest.fixture
def clock() -> Clock:
    return fixed_clock(NOW)


async def test_a_split_is_kept_per_question_and_wave_and_served_from_it(
    client: Client, database_url: str
) -> None:
    org, _ = await history(client)
    first = await trends(client, org)
    # Three questions, four waves opened by now (the open fourth has no answers yet).
    assert await pieces(database_url) == 12
    assert ns(first) == [[16, 16, 16, 0], [12, 12, 12, 0], [16, 16, 16, 0]]
    assert same(await trends(client, org), first)
    await tamper(database_url)
    assert ns(await trends(client, org)) == [[0, 0, 0, 0]] * 3
    # A piece that does not read as rows is counted again, and rewritten.
    await execute(database_url, "UPDATE trend_rollup SET rows = '[[1]]'")
    assert same(await trends(client, org), first)
    assert same(await trends(client, org), first)
    assert same(await counted_afresh(client, org, database_url, BY_REGION), first)
    # A split by channel, and a channel filter, are kept apart from it.
    by_channel = await trends(client, org, BY_CHANNEL)
    filtered = await trends(client, org, f"{BY_REGION}&channel=event")
    assert await pieces(database_url) == 36
    assert ns(filtered) == [[6, 6, 6, 0], [6, 6, 6, 0], [6, 6, 6, 0]]
    assert same(await counted_afresh(client, org, database_url, BY_CHANNEL), by_channel)
    fresh = await counted_afresh(client, org, database_url, f"{BY_REGION}&channel=event")
    assert same(fresh, filtered)


async def test_an_import_into_a_closed_wave_recounts_that_wave_only(
    client: Client, database_url: str
) -> None:
    org, _ = await history(client)
    await trends(client, org)
    await tamper(database_url)
    await import_lines(client, org, [line(2, {"trust": 5, "hours": 2.5})])
    kept = await trends(client, org)
    assert ns(kept) == [[0, 17, 0, 0], [0, 12, 0, 0], [0, 17, 0, 0]]
    fresh = await counted_afresh(client, org, database_url, BY_REGION)
    assert same(wave(kept, 2), wave(fresh, 2))
    assert same(await trends(client, org), fresh)


async def test_a_revision_recounts_its_wave(client: Client, database_url: str) -> None:
    org, _ = await history(client)
    created = await submitted(client, org)
    assert created["wave"] == 4
    await trends(client, org)
    await tamper(database_url)
    revised = await client.put(
        f"/api/v1/public/{org.slug}/pulse/responses/{created['response_id']}",
        json={"version": 1, "answers": pulse_answers(trust=1, hours=7.25)},
        headers={"X-Edit-Token": created["edit_token"], "If-Match": '"1"'},
    )
    assert revised.status_code == 200, revised.text
    kept = await trends(client, org)
    assert ns(kept) == [[0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 1]]
    fresh = await counted_afresh(client, org, database_url, BY_REGION)
    assert same(wave(kept, 4), wave(fresh, 4))


async def test_an_attribute_change_recounts_splits_by_attribute_not_by_channel(
    client: Client, database_url: str
) -> None:
    org, people = await history(client)
    await trends(client, org)
    await trends(client, org, BY_CHANNEL)
    await tamper(database_url)
    changes = "SELECT count(*) FROM attribute_change"
    person = people[0]
    await place(client, org, person, "north")
    # The same attributes again change nothing: what was kept stays in use.
    assert await scalar(database_url, changes) == 0
    assert ns(await trends(client, org)) == [[0, 0, 0, 0]] * 3
    # Another attribute added, then changed, then removed: splits by region stay kept.
    await place(client, org, person, "north", last_gift="2025-03-01")
    await place(client, org, person, "north", last_gift="2025-04-01")
    await place(client, org, person, "north")
    assert await scalar(database_url, changes) == 3
    assert ns(await trends(client, org)) == [[0, 0, 0, 0]] * 3
    await place(client, org, person, "south")
    assert await scalar(database_url, changes) == 4
    kept = await trends(client, org)
    assert kept["questions"][0]["segments"]["south"]["waves"][0]["n"] == 5
    assert ns(await trends(client, org, BY_CHANNEL)) == [[0, 0, 0, 0]] * 3
    assert same(await counted_afresh(client, org, database_url, BY_REGION), kept)


async def test_values_equal_in_python_but_not_as_segments_are_a_change(
    client: Client, database_url: str
) -> None:
    org, people = await history(client)
    person = people[0]
    await place(client, org, person, 1)
    await trends(client, org)
    await tamper(database_url)
    # 1 == 1.0 == True in Python, but a segment reads "1", "1.0" and "true".
    await place(client, org, person, True)
    kept = await trends(client, org)
    assert kept["questions"][0]["segments"]["true"]["waves"][0]["n"] == 1
    assert same(await counted_afresh(client, org, database_url, BY_REGION), kept)


async def test_an_erasure_recounts_and_leaves_no_rollup_of_their_waves_behind(
    client: Client, database_url: str
) -> None:
    org, people = await history(client)
    await trends(client, org)
    assert await pieces(database_url) == 12
    erased = await client.delete(f"/api/v1/respondents/{people[1]['id']}", headers=org.auth())
    assert erased.status_code == 200, erased.text
    # They answered waves 1-3: those pieces are gone; the open wave's, which never held them,
    # stay.
    assert await scalar(database_url, "SELECT max(wave_number) FROM trend_rollup") == 4
    assert await pieces(database_url) == 3
    kept = await trends(client, org)
    assert ns(kept) == [[15, 15, 15, 0], [11, 11, 11, 0], [15, 15, 15, 0]]
    assert same(await counted_afresh(client, org, database_url, BY_REGION), kept)


async def test_an_erasure_leaves_the_waves_they_did_not_answer_kept(
    client: Client, database_url: str
) -> None:
    org, _ = await history(client)
    once = await make_respondent(client, org, external_ref="once", region="north")
    await import_lines(client, org, [line(2, {"trust": 5, "hours": 2.5}, respondent="once")])
    before = await trends(client, org)
    await tamper(database_url)
    erased = await client.delete(f"/api/v1/respondents/{once['id']}", headers=org.auth())
    assert erased.status_code == 200, erased.text
    after = await trends(client, org)
    # Waves 1, 3 and 4 are still served from their (tampered) pieces; wave 2 was recounted
    # without them.
    assert ns(after) == [[0, 16, 0, 0], [0, 12, 0, 0], [0, 16, 0, 0]]
    assert ns(before)[0][1] == 17
    fresh = await counted_afresh(client, org, database_url, BY_REGION)
    assert same(wave(after, 2), wave(fresh, 2))


async def test_a_rejected_write_changes_no_rollup(client: Client, database_url: str) -> None:
    org, _ = await history(client)
    first = await trends(client, org)
    changes = "SELECT count(*) FROM answer_change"
    before = await scalar(database_url, changes)
    refused = await client.post(
        "/api/v1/surveys/pulse/responses/import",
        content=b'{"answers": {"trust": 9}, "submitted_at": "2025-02-15T12:00:00Z"}\n',
        headers={**org.auth("campaigner"), "Content-Type": "application/x-ndjson"},
    )
    assert refused.status_code == 200 and refused.json()["imported"] == 0, refused.text
    assert await scalar(database_url, changes) == before
    assert same(await trends(client, org), first)


async def test_merging_change_rows_keeps_their_sums_and_what_was_kept(
    client: Client, database_url: str
) -> None:
    org, _ = await history(client)
    survey_id = await scalar(database_url, "SELECT id FROM survey WHERE slug = 'pulse'")
    org_id = await scalar(database_url, "SELECT org_id FROM survey WHERE slug = 'pulse'")
    async with database(database_url) as conn:
        # 100 more batches written to wave 2, 70 attribute changes: as many rows.
        await conn.execute(
            sa.text("INSERT INTO answer_change (survey_id, wave_number) VALUES (:s, 2)"),
            [{"s": survey_id}] * 100,
        )
        await conn.execute(
            sa.text("INSERT INTO attribute_change (org_id, attribute) VALUES (:o, 'region')"),
            [{"o": org_id}] * 70,
        )
        await conn.commit()
    sums = (
        "SELECT count(*), sum(weight) FROM answer_change WHERE wave_number = 2 "
        "UNION ALL SELECT count(*), sum(weight) FROM attribute_change"
    )
    async with database(database_url) as conn:
        before = [tuple(r) for r in await conn.execute(sa.text(sums))]
    assert before == [(101, 101), (70, 70)]
    first = await trends(client, org)
    await tamper(database_url)
    engine = make_engine(database_url, pool_size=2)
    try:
        assert await change_log.merge(make_sessionmaker(engine)) == 100 + 69
        assert await change_log.merge(make_sessionmaker(engine)) == 0
    finally:
        await engine.dispose()
    async with database(database_url) as conn:
        after = [tuple(r) for r in await conn.execute(sa.text(sums))]
    assert after == [(1, 101), (1, 70)]
    # Still the same sums: every kept piece is still served.
    assert ns(await trends(client, org)) == [[0, 0, 0, 0]] * 3
    assert same(await counted_afresh(client, org, database_url, BY_REGION), first)


async def test_requests_at_once_never_wait_for_the_connections_they_hold(app: Litestar) -> None:
    """Each request reads on a pooled connection, then keeps rollups on another: were those
    from the same pool (5 here), a dozen cold requests at once would each hold one and wait for
    another until the pool's 60 s timeout."""
    async with concurrent_client(app) as client:
        org, _ = await history(client)
        urls = [BY_REGION, BY_CHANNEL, f"{BY_REGION}&channel=event", f"{BY_CHANNEL}&min_n=3"] * 3
        answers = await asyncio.wait_for(
            asyncio.gather(*(client.get(u, headers=org.auth("analyst")) for u in urls)), 40
        )
    assert [a.status_code for a in answers] == [200] * len(urls)
