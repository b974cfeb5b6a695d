"""Group commit and the statements under it, on the real database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from feedback.config import Settings
from feedback.db import make_engine, utcnow
from feedback.responses.group_commit import EngineStore, GroupCommit, WriteStore, store_for
from feedback.responses.models import Answer
from feedback.responses.store_statements import NewResponse, Stored, store_responses
from feedback.surveys.answers import AnswerValue
from tests.builders.orgs import make_org
from tests.builders.surveys import make_survey

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(settings.database_url, pool_size=3)
    yield engine
    await engine.dispose()


@pytest.fixture
async def store(settings: Settings, engine: AsyncEngine) -> AsyncIterator[WriteStore]:
    store = store_for(settings.database_url, engine)
    yield store
    await store.close()


@pytest.fixture
async def survey_ids(client: Client, engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID]:
    org = await make_org(client)
    await make_survey(client, org)
    async with engine.connect() as conn:
        row = (await conn.execute(sa.text("SELECT org_id, id FROM survey"))).one()
    return uuid.UUID(str(row[0])), uuid.UUID(str(row[1]))


def new_response(
    ids: tuple[uuid.UUID, uuid.UUID], response_id: uuid.UUID, trust: int
) -> NewResponse:
    now = utcnow()
    return NewResponse(
        org_id=ids[0],
        survey_id=ids[1],
        response_id=response_id,
        pk=uuid.uuid4(),
        version=1,
        document={"answers": {"trust": trust}},
        body_hash=f"hash-{trust}",
        values=[AnswerValue("trust", float(trust), None, None, True)],
        submitted_at=now,
        received_at=now,
        channel="api",
        locale=None,
    )


async def test_concurrent_items_share_transactions(store: WriteStore) -> None:
    batches: list[int] = []

    def work(conn: Connection, items: Sequence[int]) -> list[int]:
        batches.append(len(items))
        conn.execute(sa.text("SELECT 1"))
        return [item * 10 for item in items]

    writer: GroupCommit[int, int] = GroupCommit(store, work, max_batch=64)
    results = await asyncio.gather(*(writer.submit(i) for i in range(200)))
    await writer.close()
    assert results == [i * 10 for i in range(200)]
    assert sum(batches) == 200
    assert len(batches) < 20 and max(batches) == 64


async def test_a_failing_batch_is_retried_item_by_item(store: WriteStore) -> None:
    calls: list[list[str]] = []

    def work(conn: Connection, items: Sequence[str]) -> list[str]:
        calls.append(list(items))
        if "poison" in items:
            raise RuntimeError("this item breaks any transaction it is in")
        return [item.upper() for item in items]

    writer: GroupCommit[str, str] = GroupCommit(store, work)
    outcomes = await asyncio.gather(
        *(writer.submit(item) for item in ("a", "poison", "b")), return_exceptions=True
    )
    await writer.close()
    assert outcomes[0] == "A" and outcomes[2] == "B"
    assert isinstance(outcomes[1], RuntimeError)
    assert calls[0] == ["a", "poison", "b"] and sorted(map(tuple, calls[1:])) == [
        ("a",),
        ("b",),
        ("poison",),
    ]


async def test_nothing_is_acknowledged_before_its_commit(
    store: WriteStore, engine: AsyncEngine, survey_ids: tuple[uuid.UUID, uuid.UUID]
) -> None:
    writer = GroupCommit(store, store_responses)
    items = [new_response(survey_ids, uuid.uuid4(), t) for t in (1, 2, 3)]

    async def submit_and_look(item: NewResponse) -> int:
        await writer.submit(item)
        # Another connection sees it the moment the submitter hears back.
        async with engine.connect() as conn:
            found = await conn.execute(
                sa.text("SELECT count(*) FROM response WHERE id = :id"),
                {"id": item.pk.hex if engine.dialect.name == "sqlite" else item.pk},
            )
            return int(found.scalar_one())

    assert await asyncio.gather(*(submit_and_look(i) for i in items)) == [1, 1, 1]
    await writer.close()


async def test_duplicates_in_one_batch_meet_on_the_unique_constraint(
    store: WriteStore, survey_ids: tuple[uuid.UUID, uuid.UUID]
) -> None:
    same = uuid.uuid4()
    items = [new_response(survey_ids, same, 4), new_response(survey_ids, same, 4)]
    items.append(new_response(survey_ids, same, 5))  # the same id with another body
    outcomes = await store.run(lambda conn: store_responses(conn, items))
    first, replay, conflict = outcomes
    assert isinstance(first, Stored) and first.created and first.pk == items[0].pk
    assert isinstance(replay, Stored) and not replay.created and replay.pk == items[0].pk
    assert not isinstance(conflict, Stored) and "response_id" in conflict.detail


async def test_only_the_items_inserted_make_respondents(
    store: WriteStore, survey_ids: tuple[uuid.UUID, uuid.UUID], engine: AsyncEngine
) -> None:
    """A batch-mate refused as a duplicate (a replay, or the same response_id with another
    body) makes no respondent, anonymous (as group commit writes them, in autocommit) or by
    ref (as imports do, in a transaction)."""
    same = uuid.uuid4()
    browser, stranger = uuid.uuid4(), uuid.uuid4()
    items = [new_response(survey_ids, same, 4), new_response(survey_ids, same, 4)]
    items.append(new_response(survey_ids, same, 5))
    for item, respondent in zip(items, (browser, browser, stranger), strict=True):
        item.anonymous_respondent_id = respondent
    outcomes = await store.run(lambda conn: store_responses(conn, items), autocommit=True)
    assert [isinstance(o, Stored) and o.created for o in outcomes] == [True, False, False]
    by_ref = [new_response(survey_ids, uuid.uuid4(), 3), new_response(survey_ids, same, 6)]
    by_ref[0].ref_hash, by_ref[1].ref_hash = "ref-stored", "ref-refused"
    outcomes = await store.run(lambda conn: store_responses(conn, by_ref))
    assert [isinstance(o, Stored) and o.created for o in outcomes] == [True, False]
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT id, kind, ref_hash FROM respondent"))).all()
    assert sorted((r.kind, r.ref_hash) for r in rows) == [
        ("anonymous", None),
        ("known", "ref-stored"),
    ]
    assert uuid.UUID(str(next(r.id for r in rows if r.kind == "anonymous"))) == browser


async def test_duplicates_in_racing_transactions_store_one(
    engine: AsyncEngine, survey_ids: tuple[uuid.UUID, uuid.UUID]
) -> None:
    """Two processes' writers with the same response_id: the second transaction waits on the
    first's unique-index entry (PostgreSQL) or write lock (SQLite), then finds its row."""
    same = uuid.uuid4()
    a_item, b_item = new_response(survey_ids, same, 3), new_response(survey_ids, same, 3)
    immediate: dict[str, Any] = {"sqlite_begin": "IMMEDIATE"}
    async with engine.connect() as a, engine.connect() as b:
        await a.execution_options(**immediate)
        await a.begin()
        [a_outcome] = await a.run_sync(lambda conn: store_responses(conn, [a_item]))

        async def second() -> Any:
            await b.execution_options(**immediate)
            await b.begin()
            outcomes = await b.run_sync(lambda conn: store_responses(conn, [b_item]))
            await b.commit()
            return outcomes[0]

        racing = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        assert not racing.done()  # held until the first commits
        await a.commit()
        b_outcome = await racing
    assert isinstance(a_outcome, Stored) and a_outcome.created
    assert isinstance(b_outcome, Stored) and not b_outcome.created
    assert b_outcome.pk == a_item.pk
    async with engine.connect() as conn:
        count = await conn.scalar(sa.text("SELECT count(*) FROM response"))
    assert count == 1


async def test_analysis_queries_use_the_partial_covering_index(
    engine: AsyncEngine, store: WriteStore, survey_ids: tuple[uuid.UUID, uuid.UUID]
) -> None:
    items = [new_response(survey_ids, uuid.uuid4(), t) for t in (1, 2, 2, 5)]
    await store.run(lambda conn: store_responses(conn, items))
    counts = (
        sa.select(Answer.wave_number, Answer.value_num, sa.func.count())
        .where(Answer.survey_id == survey_ids[1], Answer.question_key == "trust", Answer.is_current)
        .group_by(Answer.wave_number, Answer.value_num)
    )
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            compiled = counts.compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
            plan = (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")).all()
            assert "COVERING INDEX ix_answer_analysis" in " ".join(str(r[-1]) for r in plan)
        else:
            await conn.exec_driver_sql("SET enable_seqscan = off")
            compiled = counts.compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
            plan = (await conn.exec_driver_sql(f"EXPLAIN {compiled}")).all()
            assert "Index Only Scan using ix_answer_analysis" in " ".join(r[0] for r in plan)
        rows = (await conn.execute(counts)).all()
    assert sorted((r[1], r[2]) for r in rows) == [(1.0, 1), (2.0, 2), (5.0, 1)]


async def test_the_writer_survives_the_server_dropping_its_connections(
    settings: Settings,
    engine: AsyncEngine,
    survey_ids: tuple[uuid.UUID, uuid.UUID],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A PostgreSQL restart ends every connection, the writer's kept ones included: the batch
    that meets a dead one is retried on fresh connections, and nothing is lost or doubled."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the SQLite writer holds a file, not a connection a server can drop")
    # The writer's own engine, named, so that only its connections are ended below.
    name = f"feedback-writer-{uuid.uuid4().hex[:8]}"
    writer_engine = create_async_engine(
        settings.database_url,
        pool_pre_ping=True,
        connect_args={"server_settings": {"application_name": name}},
    )
    store = EngineStore(writer_engine, concurrency=2)
    writer = GroupCommit(store, store_responses, autocommit=True)
    before = [new_response(survey_ids, uuid.uuid4(), t) for t in (1, 2, 3)]
    assert all(isinstance(o, Stored) for o in await asyncio.gather(*map(writer.submit, before)))

    async with engine.connect() as conn:
        ended = await conn.scalar(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name"
            ),
            {"name": name},
        )
    assert ended and ended >= 1

    after = [new_response(survey_ids, uuid.uuid4(), t) for t in (4, 5, 6)]
    outcomes = await asyncio.gather(*map(writer.submit, after))
    await writer.close()
    await store.close()
    await writer_engine.dispose()
    assert all(isinstance(o, Stored) and o.created for o in outcomes)
    assert "a writer connection failed" in caplog.text  # the dead connection was met
    async with engine.connect() as conn:
        responses = await conn.scalar(sa.text("SELECT count(*) FROM response"))
        answers = await conn.scalar(sa.text("SELECT count(*) FROM answer"))
    assert (responses, answers) == (6, 6)


async def test_a_transaction_rolled_back_by_a_deadlock_runs_again(
    settings: Settings, engine: AsyncEngine
) -> None:
    """Two transactions lock two rows in opposite orders: PostgreSQL breaks the deadlock by
    rolling one back, and the store runs that one again instead of failing it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: it cannot deadlock")
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE IF NOT EXISTS lock_pair (id int PRIMARY KEY)"))
        await conn.execute(sa.text("DELETE FROM lock_pair"))
        await conn.execute(sa.text("INSERT INTO lock_pair VALUES (1), (2)"))
    store = EngineStore(engine, concurrency=2)
    runs: list[int] = []

    def locking(first: int, second: int) -> Any:
        def work(conn: Connection) -> int:
            runs.append(first)
            conn.execute(sa.text(f"SELECT id FROM lock_pair WHERE id = {first} FOR UPDATE"))
            if runs.count(first) == 1:  # the first runs overlap: each holds one row, then asks
                conn.execute(sa.text("SELECT pg_sleep(0.3)"))
            conn.execute(sa.text(f"SELECT id FROM lock_pair WHERE id = {second} FOR UPDATE"))
            return first

        return work

    try:
        done = await asyncio.gather(store.run(locking(1, 2)), store.run(locking(2, 1)))
        assert sorted(done) == [1, 2]
        assert len(runs) == 3  # one of the two ran again after the deadlock broke it
    finally:
        await store.close()
        async with engine.begin() as conn:
            await conn.execute(sa.text("DROP TABLE lock_pair"))
