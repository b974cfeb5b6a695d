"""The exports the databases write themselves (PostgreSQL: COPY; SQLite: lines built in SQL)
write what the Python path writes: the long CSV byte for byte, NDJSON the same values; and a
client gone mid-stream leaves the statement ended and the connection back in the pool."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from feedback.clock import Clock, fixed_clock
from feedback.config import Settings
from feedback.db import UTCDateTime
from feedback.responses import export_copy, export_sqlite, exports
from tests.builders.orgs import make_org
from tests.builders.responses import (
    concurrent_client,
    database,
    make_respondent,
    pulse_answers,
    submission,
    submitted,
)
from tests.builders.surveys import make_survey

TEXTS = [
    "plain",
    "a,b",
    'say "hi"',
    '"',
    '""',
    "line\nbreak",
    "ends with a newline\n",
    "cr\rhere",
    "crlf\r\nthere",
    "ünïcødé ✓ 日本語 😀",
    "=SUM(A1:A2)",
    "+1",
    "-2",
    "@home",
    "\ttab first",
    "\rcr first",
    "'quoted already",
    "",
    " spaced ",
    "\\.",
    "back\\slash",
    'mixed "q", comma\nand newline',
]
OPTIONS = ["-minus", "=eq", "plain", "with,comma", 'with"quote']
NUMBERS = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    2.5,
    0.1,
    1 / 3,
    0.0001,
    1e-5,
    1.5e-7,
    1e-320,
    5e-324,
    2.2250738585072014e-308,
    1e-300,
    123456.123456,
    1e15,
    -1e15,
    1e16,
    1234567890123456.5,
    -1000000000000000.1,
    9007199254740993.0,
    9.2e18,
    9.3e18,
    float(2**63),
    12345678901234567890.0,
    1e22,
    1e300,
    -1.7976931348623157e308,
]


async def _collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


def _engine(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    return engine


async def _awkward_survey(app: Litestar, settings: Settings) -> uuid.UUID:
    """A survey whose stored answers hold every awkward cell above, planted in the rows."""
    async with concurrent_client(app) as client:
        org = await make_org(client)
        await make_survey(client, org)
        await make_respondent(client, org)
        for text in TEXTS:
            # Through the API where it accepts the text, so the documents hold them too.
            await submitted(client, org, submission(answers=pulse_answers(comment=text or "x")))
    start = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    async with database(settings.database_url) as conn:
        survey_id = (await conn.execute(sa.text("SELECT id FROM survey"))).scalar_one()
        respondent = (await conn.execute(sa.text("SELECT id FROM respondent"))).scalar_one()
        responses = (await conn.execute(sa.text("SELECT id FROM response ORDER BY id"))).scalars()
        for i, response_id in enumerate(list(responses)):
            # Whole seconds, milliseconds, microseconds: `Z` with or without a fraction.
            at = start + timedelta(seconds=i, microseconds=(0, 120000, 7)[i % 3])
            await conn.execute(
                # Typed, so that SQLite stores it as the app does.
                sa.text("UPDATE response SET submitted_at = :at WHERE id = :id").bindparams(
                    sa.bindparam("at", type_=UTCDateTime)
                ),
                {"at": at, "id": response_id},
            )
            if i % 3 == 0:  # some responses have a respondent, the others none
                await conn.execute(
                    sa.text("UPDATE answer SET respondent_id = :who WHERE response_id = :id"),
                    {"who": respondent, "id": response_id},
                )
        rows = list(await conn.execute(sa.text("SELECT id, question_key FROM answer ORDER BY id")))
        texts = iter(TEXTS * 2)
        options = iter(OPTIONS * 20)
        numbers = iter(NUMBERS * 5)
        for answer_id, key in rows:
            if key == "comment":
                change: dict[str, Any] = {"value_text": next(texts)}
            elif key in ("actions", "priority"):
                change = {"option_key": next(options)}
            else:
                change = {"value_num": next(numbers)}
            sets = ", ".join(f"{name} = :{name}" for name in change)
            await conn.execute(
                sa.text(f"UPDATE answer SET {sets} WHERE id = :id"),
                {**change, "id": answer_id},
            )
        await conn.commit()
    return uuid.UUID(str(survey_id))  # SQLite: its 32 hex digits


Chunks = Callable[[async_sessionmaker[AsyncSession], uuid.UUID], AsyncIterator[bytes]]


def _own(settings: Settings) -> tuple[Chunks, Chunks]:
    """The database's own long CSV and NDJSON, as `exports.export` chooses them."""
    if settings.database_url.startswith("postgresql"):
        return exports.long_copy, exports.ndjson_copy
    return exports.long_sqlite, export_sqlite.ndjson_lines


async def test_the_databases_long_csv_is_the_python_long_csv_byte_for_byte(
    app: Litestar, settings: Settings
) -> None:
    survey_id = await _awkward_survey(app, settings)
    sessions = app.state.sessions
    python = await _collect(exports.long_csv(sessions, survey_id))
    copy = await _collect(_own(settings)[0](sessions, survey_id))
    assert python.count(b"\r\n") > 100  # the planted rows are there
    assert copy.splitlines(keepends=True) == python.splitlines(keepends=True)
    assert copy == python


async def test_the_databases_ndjson_has_the_python_ndjson_values(
    app: Litestar, settings: Settings
) -> None:
    survey_id = await _awkward_survey(app, settings)
    postgres = settings.database_url.startswith("postgresql")
    planted = (
        "jsonb_set(document, '{answers,hours}', '1e-320')"
        if postgres
        else "json_set(document, '$.answers.hours', json('1e-320'))"
    )
    async with database(settings.database_url) as conn:
        # Numbers beyond what validation accepts, in the documents too.
        await conn.execute(
            sa.text(
                f"UPDATE response_revision SET document = {planted} "
                "WHERE response_id IN (SELECT id FROM response ORDER BY id LIMIT 3)"
            )
        )
        await conn.commit()
    sessions = app.state.sessions
    python = await _collect(exports.ndjson(sessions, survey_id))
    copy = await _collect(_own(settings)[1](sessions, survey_id))
    assert copy.endswith(b"\n") and copy.count(b"\n") == len(TEXTS)
    decoded = [json.loads(line) for line in copy.decode().split("\n")[:-1]]
    assert decoded == [json.loads(line) for line in python.decode().split("\n")[:-1]]
    assert {o["answers"]["comment"] for o in decoded} == {t or "x" for t in TEXTS}


# The app's clock for tests that import lines dated "now" (the survey's one wave opens when it is
# made): the first minutes of a month, and mid-month.
CLOCKS = pytest.mark.parametrize(
    "clock",
    [
        fixed_clock(datetime(2026, 3, 1, 0, 30, tzinfo=UTC)),
        fixed_clock(datetime(2026, 12, 15, 12, 0, tzinfo=UTC)),
    ],
    ids=["first-of-month", "mid-month"],
)


async def _many_responses(app: Litestar, clock: Clock, count: int) -> uuid.UUID:
    async with concurrent_client(app) as client:
        org = await make_org(client)
        await make_survey(client, org)
        # As test_exports' memory test imports them (their date does not matter here).
        lines = [
            {"submitted_at": clock().isoformat(), "answers": pulse_answers()} for _ in range(count)
        ]
        imported = await client.post(
            "/api/v1/surveys/pulse/responses/import",
            content="\n".join(json.dumps(line) for line in lines).encode(),
            headers={"Content-Type": "application/x-ndjson", **org.auth("campaigner")},
        )
        assert imported.json()["imported"] == count, imported.text[:500]
    async with app.state.sessions() as session:
        survey_id = (await session.execute(sa.text("SELECT id FROM survey"))).scalar_one()
    return uuid.UUID(str(survey_id))  # SQLite: its 32 hex digits


async def _copies_running(sessions: async_sessionmaker[AsyncSession]) -> Any:
    async with sessions() as session:
        return await session.scalar(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                "AND query LIKE 'COPY (%' AND pid <> pg_backend_pid()"
            )
        )


@CLOCKS
@pytest.mark.parametrize("layout", ["long", "ndjson"])
async def test_a_client_gone_mid_stream_ends_the_statement_and_returns_the_connection(
    app: Litestar, clock: Clock, settings: Settings, layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_sqlite, "PARTITION", 500)  # SQLite: several chunks here too
    survey_id = await _many_responses(app, clock, 4000)
    sessions = app.state.sessions
    engine = _engine(sessions)
    postgres = engine.dialect.name == "postgresql"
    whole = _own(settings)[0 if layout == "long" else 1]
    full = await _collect(whole(sessions, survey_id))
    chunks = whole(sessions, survey_id)
    got = [await anext(chunks), await anext(chunks)]
    assert sum(map(len, got)) < len(full)  # mid-stream: most of it is still to come
    assert engine.pool.checkedout() == 1
    await chunks.aclose()  # what the server does when the client goes away
    assert engine.pool.checkedout() == 0
    for _ in range(50 if postgres else 0):
        if await _copies_running(sessions) == 0:
            break
        await asyncio.sleep(0.1)
    assert not postgres or await _copies_running(sessions) == 0
    # The connections work: the next exports are whole.
    assert await _collect(whole(sessions, survey_id)) == full
    # So does a consumer cancelled while it waits for a chunk.
    chunks = whole(sessions, survey_id)
    await anext(chunks)
    waiting = asyncio.ensure_future(anext(chunks))
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await chunks.aclose()
    assert engine.pool.checkedout() == 0
    assert await _collect(whole(sessions, survey_id)) == full


def test_line_endings_are_translated_whatever_the_chunks() -> None:
    """COPY's chunks end anywhere: inside a quoted field, between the quotes of a `""`, between
    the backslashes of a pair."""
    csv_rows = b'a,"in ""quotes""\nand a newline",1\n"\r\n",\n,"x"\n'
    expected = b'a,"in ""quotes""\nand a newline",1\r\n"\r\n",\r\n,"x"\r\n'
    text_rows = b'{"a":"back\\\\\\\\slash \\\\"q\\\\""}\n{"b":1}\n'
    text_expected = b'{"a":"back\\\\slash \\"q\\""}\n{"b":1}\n'
    for cut in range(len(csv_rows) + 1):
        lines = export_copy.CsvLines()
        assert lines(csv_rows[:cut]) + lines(csv_rows[cut:]) == expected, cut
    for cut in range(len(text_rows) + 1):
        text = export_copy.TextLines()
        assert text(text_rows[:cut]) + text(text_rows[cut:]) == text_expected, cut


@CLOCKS
@pytest.mark.parametrize("path", ["export.csv", "export.ndjson"])
async def test_a_client_that_hangs_up_mid_export_leaves_the_app_healthy(
    app: Litestar, clock: Clock, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the ASGI app, as a server runs it: the client says `http.disconnect` after the
    first chunk of the body; the export stops, its connection goes back to the pool, and the
    next export is whole."""
    monkeypatch.setattr(export_sqlite, "PARTITION", 500)
    async with concurrent_client(app) as client:
        org = await make_org(client)
        await make_survey(client, org)
        lines = [
            {"submitted_at": clock().isoformat(), "answers": pulse_answers()} for _ in range(4000)
        ]
        imported = await client.post(
            "/api/v1/surveys/pulse/responses/import",
            content="\n".join(json.dumps(line) for line in lines).encode(),
            headers={"Content-Type": "application/x-ndjson", **org.auth("campaigner")},
        )
        assert imported.json()["imported"] == 4000
        url = f"/api/v1/surveys/pulse/{path}"
        whole = await client.get(url, headers=org.auth("analyst"))
        assert whole.status_code == 200
        token = org.auth("analyst")["Authorization"].encode()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": url,
            "raw_path": url.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver"), (b"authorization", token)],
            "client": ("203.0.113.7", 40000),
            "server": ("testserver", 80),
            "state": {},
        }
        gone = asyncio.Event()
        bodies: list[bytes] = []
        requested = False

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                bodies.append(message["body"])
                gone.set()
                await asyncio.sleep(0)  # the server notices the client gone while sending

        await asyncio.wait_for(app(scope, receive, send), timeout=30)  # type: ignore[arg-type]
        assert 0 < sum(map(len, bodies)) < len(whole.content)
        assert _engine(app.state.sessions).pool.checkedout() == 0
        again = await client.get(url, headers=org.auth("analyst"))
        assert again.status_code == 200 and again.content == whole.content
