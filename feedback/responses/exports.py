"""Streamed exports of a survey's current answers: CSV (long or wide) and NDJSON.

Rows come from the database through a server-side cursor in partitions of `PARTITION` and leave
as encoded chunks, so memory stays the same whatever the number of responses. The stream opens
its own session: the request's session is gone once the handler has returned the response.
Every row carries its wave, version, revision and channel.

- long: one row per stored answer value (a multi-choice answer gives one row per option), read
  from the normalised `answer` rows;
- wide: one row per response, one column per question key of every version (multi-choice
  options joined by `;`), read from the current revision's document;
- ndjson: one object per response, its current answers as submitted.

Text that a spreadsheet would run as a formula (starting with = + - @, tab or CR) is exported
with a leading `'`, the usual guard against CSV injection.

The long CSV and NDJSON are written by the database itself, Python only passing the lines on
(10x and more the rate of formatting each row here): PostgreSQL through COPY (export_copy.py),
SQLite by lines built in SQL (export_sqlite.py). `long_csv` and `ndjson` below are the Python
spelling of the same output, which the tests hold those two to (the long CSV byte for byte).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import msgspec
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.orgs.principal import Principal
from feedback.responses import export_copy, export_sqlite, queries
from feedback.responses.export_session import export_session
from feedback.responses.models import Answer, Respondent, Response, ResponseRevision
from feedback.responses.service import (
    ATTRIBUTE_PREFIX,
    WIDE_FIXED_COLUMNS,
    attribute_columns,
    published_definitions,
    question_keys,
)
from feedback.surveys.service import get_survey

Layout = Literal["long", "wide", "ndjson"]
PARTITION = 1000
LONG_COLUMNS = (
    "response_id",
    "revision",
    "wave",
    "version",
    "channel",
    "submitted_at",
    "respondent_id",
    "question_key",
    "value",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Export:
    filename: str
    media_type: str
    chunks: AsyncGenerator[bytes, None]


async def export(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    *,
    principal: Principal,
    slug: str,
    layout: Layout,
) -> Export:
    """Check access now (NotFound before any byte is sent), stream later."""
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    # `sessions` reads from the same kind of database as the request's session (a replica of
    # PostgreSQL is PostgreSQL). The database writes the long CSV's and NDJSON's lines itself.
    dialect = session.get_bind().dialect.name
    if layout == "long":
        long = {"postgresql": long_copy, "sqlite": long_sqlite}.get(dialect, long_csv)
        return Export(f"{slug}-long.csv", "text/csv", long(sessions, survey.id))
    if layout == "wide":
        keys = question_keys(await published_definitions(session, principal=principal, slug=slug))
        return Export(
            f"{slug}-wide.csv", "text/csv", _wide(sessions, survey.org_id, survey.id, keys)
        )
    lines = {"postgresql": ndjson_copy, "sqlite": export_sqlite.ndjson_lines}.get(dialect, ndjson)
    return Export(f"{slug}.ndjson", "application/x-ndjson", lines(sessions, survey.id))


async def long_copy(
    sessions: async_sessionmaker[AsyncSession], survey_id: uuid.UUID
) -> AsyncGenerator[bytes, None]:
    """PostgreSQL: `long_csv`'s bytes, formatted by the database."""
    yield _csv_chunk([LONG_COLUMNS])
    lines = export_copy.CsvLines()
    copy = export_copy.copy_out(
        sessions, export_copy.LONG_SQL, survey_id, format="csv", translate=lines
    )
    # Closed now when the client goes away (not when collected): that cancels the COPY and
    # returns its connection.
    async with aclosing(copy):
        async for chunk in copy:
            yield chunk


async def long_sqlite(
    sessions: async_sessionmaker[AsyncSession], survey_id: uuid.UUID
) -> AsyncGenerator[bytes, None]:
    """SQLite: `long_csv`'s bytes, the lines written by the database (numbers it cannot
    write as Python does by `_cell`)."""
    yield _csv_chunk([LONG_COLUMNS])
    lines = export_sqlite.long_lines(sessions, survey_id, _cell)
    async with aclosing(lines):
        async for chunk in lines:
            yield chunk


def ndjson_copy(
    sessions: async_sessionmaker[AsyncSession], survey_id: uuid.UUID
) -> AsyncGenerator[bytes, None]:
    """PostgreSQL: `ndjson`'s lines (the same values), written by the database."""
    return export_copy.copy_out(
        sessions,
        export_copy.NDJSON_SQL,
        survey_id,
        format="text",
        translate=export_copy.TextLines(),
    )


@asynccontextmanager
async def _rows(
    sessions: async_sessionmaker[AsyncSession], stmt: Select[*tuple[Any, ...]]
) -> AsyncIterator[AsyncIterator[Sequence[Any]]]:
    """The partitions of `stmt`'s rows; its session is closed on leaving, even when the client
    went away mid-stream (an async for alone would leave that to the garbage collector)."""
    async with export_session(sessions) as session:
        result = await session.stream(stmt.execution_options(yield_per=PARTITION))
        yield result.partitions()


def _csv_chunk(rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


async def long_csv(
    sessions: async_sessionmaker[AsyncSession], survey_id: uuid.UUID
) -> AsyncGenerator[bytes, None]:
    yield _csv_chunk([LONG_COLUMNS])
    stmt = (
        select(
            Response.response_id,
            Answer.revision,
            Answer.wave_number,
            Answer.version,
            Response.channel,
            Response.submitted_at,
            Answer.respondent_id,
            Answer.question_key,
            Answer.value_num,
            Answer.option_key,
            Answer.value_text,
        )
        # From the survey's responses to their current revision's rows (is_current, said as
        # the join): on SQLite the filter `answer.is_current` chose the partial analysis index,
        # whose order sends every row fetch somewhere else in the table (twice the time of this
        # plan at 1M rows); PostgreSQL plans both as the same hash join.
        .select_from(Response)
        .join(
            Answer,
            (Answer.response_id == Response.id) & (Answer.revision == Response.revision),
        )
        .where(Response.survey_id == survey_id)
        .order_by(Response.submitted_at, Response.id, Answer.id)
    )
    # A response's rows come together: its id, instant and respondent are written once.
    last: Any = None
    texts: tuple[str, str, str] = ("", "", "")
    async with _rows(sessions, stmt) as partitions:
        async for partition in partitions:
            rows = []
            for rid, revision, wave, version, channel, at, who, key, num, option, text in partition:
                if rid != last:
                    last, texts = rid, (str(rid), _instant(at), "" if who is None else str(who))
                value = option if option is not None else text if text is not None else num
                rows.append((texts[0], revision, wave, version, channel, texts[1], texts[2], key,
                             _cell(value)))  # fmt: skip
            yield _csv_chunk(rows)


def _current(survey_id: uuid.UUID) -> Select[*tuple[Any, ...]]:
    return (
        queries.current_revisions_of(survey_id)
        .with_only_columns(
            Response.response_id,
            Response.revision,
            Response.wave_number,
            Response.version,
            Response.channel,
            Response.submitted_at,
            Response.revised_at,
            Response.respondent_id,
            Response.locale,
            ResponseRevision.document,
        )
        .order_by(Response.submitted_at, Response.id)
    )


async def _wide(
    sessions: async_sessionmaker[AsyncSession],
    org_id: uuid.UUID,
    survey_id: uuid.UUID,
    keys: list[str],
) -> AsyncGenerator[bytes, None]:
    # Ids, not the survey: the request's session (and its objects) is gone by now.
    async with sessions() as session:
        columns = await attribute_columns(session, org_id, survey_id)
    names = [c.removeprefix(ATTRIBUTE_PREFIX) for c in columns]
    yield _csv_chunk([(*WIDE_FIXED_COLUMNS, *keys, *columns)])
    stmt = (
        _current(survey_id)
        .outerjoin(Respondent, Respondent.id == Response.respondent_id)
        .add_columns(Respondent.attributes)
    )
    async with _rows(sessions, stmt) as partitions:
        async for partition in partitions:
            rows = []
            for r in partition:
                answers: dict[str, Any] = r.document.get("answers", {})
                attributes: dict[str, Any] = r.attributes or {}
                rows.append(
                    (
                        r.response_id,
                        r.revision,
                        r.wave_number,
                        r.version,
                        r.channel,
                        _instant(r.submitted_at),
                        _instant(r.revised_at),
                        r.respondent_id or "",
                        r.locale or "",
                        *(_cell(answers.get(key)) for key in keys),
                        *(_attribute_cell(attributes.get(name)) for name in names),
                    )
                )
            yield _csv_chunk(rows)


async def ndjson(
    sessions: async_sessionmaker[AsyncSession], survey_id: uuid.UUID
) -> AsyncGenerator[bytes, None]:
    # msgspec writes what json.dumps(ensure_ascii=False, separators=(",", ":")) would, in C.
    encode = msgspec.json.Encoder().encode
    async with _rows(sessions, _current(survey_id)) as partitions:
        async for partition in partitions:
            yield b"".join(
                encode(
                    {
                        "response_id": str(r.response_id),
                        "revision": r.revision,
                        "wave": r.wave_number,
                        "version": r.version,
                        "channel": r.channel,
                        "submitted_at": _instant(r.submitted_at),
                        "revised_at": _instant(r.revised_at),
                        "respondent_id": None if r.respondent_id is None else str(r.respondent_id),
                        "locale": r.locale,
                        "answers": r.document.get("answers", {}),
                    }
                )
                + b"\n"
                for r in partition
            )


def _instant(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _attribute_cell(value: Any) -> Any:
    """Booleans as segments spell them (`true`, `false`); the rest as any cell."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _cell(value)


def _cell(value: Any) -> Any:
    """A value as a CSV cell: whole numbers without `.0`, lists joined by `;`, formulas
    defused, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
