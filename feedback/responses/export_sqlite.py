"""SQLite: the long CSV and NDJSON lines written by the database, fetched through aiosqlite's
own cursor.

SQLite builds each line in C (its string functions), so Python only joins them; the rows skip
SQLAlchemy's result processing. The bytes are those of the Python path in exports.py (`long`:
byte for byte; NDJSON: the same values), which reads what SQLAlchemy stores on SQLite: ids as 32
lowercase hex digits, instants as `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC, documents as JSON text.

One number SQLite cannot write as Python does: a float whose shortest round-trip form has more
than 15 digits (`0.1 + 0.2`), or a fractional one from 1e15 up (SQLite's `%g` turns to an
exponent sooner than Python's repr), or beyond int64. Its line comes back in two parts, the
number for Python to write.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.responses.export_session import export_session, shielded

# Rows a fetch: each fetch is a round trip to aiosqlite's thread.
PARTITION = 5000


def _uuid(column: str) -> str:
    """32 hex digits as `str(uuid.UUID(...))`: 8-4-4-4-12."""
    return (
        f"(substr({column}, 1, 8) || '-' || substr({column}, 9, 4) || '-' || "
        f"substr({column}, 13, 4) || '-' || substr({column}, 17, 4) || '-' || "
        f"substr({column}, 21))"
    )


def _instant(column: str) -> str:
    """`exports._instant`: ISO 8601 with `T` and `Z`, microseconds only when not zero."""
    return (
        f"(substr({column}, 1, 10) || 'T' || substr({column}, 12, 8) || "
        f"CASE WHEN substr({column}, 21, 6) IN ('', '000000') THEN '' "
        f"ELSE '.' || substr({column}, 21, 6) END || 'Z')"
    )


def _quoted(expr: str, raw: str) -> str:
    """A CSV field as the csv module writes it (QUOTE_MINIMAL, lines ending CRLF): `expr`,
    quoted when `raw` (the same text, maybe without a leading `'`) holds a special."""
    return (
        f"CASE WHEN instr({raw}, '\"') OR instr({raw}, ',') OR instr({raw}, char(10)) "
        f"OR instr({raw}, char(13)) THEN '\"' || replace({expr}, '\"', '\"\"') || '\"' "
        f"ELSE {expr} END"
    )


def _cell(text: str, number: str) -> str:
    """`exports._cell` of the value: a text (option, else text) defused if a formula; a number
    whole as an integer, otherwise SQLite's 15 significant digits when they read back as the
    same float (then they are Python's repr: the shortest such digits, as no two numbers of
    15 digits read back as the same normal float; a subnormal one has fewer bits); else NULL,
    for Python to write."""
    defused = (
        f"CASE WHEN substr({text}, 1, 1) IN ('=', '+', '-', '@', char(9), char(13)) "
        f"THEN '''' || {text} ELSE {text} END"
    )
    return f"""CASE
  WHEN {text} IS NOT NULL THEN {_quoted(defused, text)}
  WHEN {number} IS NULL THEN ''
  WHEN {number} = CAST({number} AS INTEGER) AND abs({number}) < 9e18
    THEN CAST(CAST({number} AS INTEGER) AS TEXT)
  WHEN abs({number}) BETWEEN 1e-307 AND 1e15
    AND CAST(printf('%.15g', {number}) AS REAL) = {number}
    THEN printf('%.15g', {number})
END"""


def _head(response: str, answer: str) -> str:
    """The long CSV's row up to its value: the response id, instant and channel from
    `response`, revision, wave, version and respondent from `answer` (channel and question
    key need no quotes: a channel is one of `Channel`'s words, a key matches KEY_PATTERN)."""
    return (
        f"{_uuid(f'{response}.response_id')} || ',' || {answer}.revision || ',' "
        f"|| {answer}.wave_number || ',' || {answer}.version || ',' || {response}.channel "
        f"|| ',' || {_instant(f'{response}.submitted_at')} || ',' "
        f"|| coalesce({_uuid(f'{answer}.respondent_id')}, '') || ','"
    )


_VALUE = _cell("coalesce(a.option_key, a.value_text)", "a.value_num")
# A response's part of the row (id, instant and respondent: most of the formatting) is written
# once for its answers: `LIMIT -1` keeps SQLite from flattening the subquery into the join,
# which would write it again for every answer row (1.7x the time at 1M rows). An answer row
# whose wave, version or respondent differ from its response's has its own written.
LONG_SQL = f"""
SELECT CASE WHEN a.respondent_id IS r.respondent_id AND a.wave_number = r.wave_number
                 AND a.version = r.version THEN r.head
            ELSE {_head("r", "a")} END || a.question_key || ',',
       {_VALUE},
       a.value_num
FROM (
  SELECT id, response_id, revision, wave_number, version, channel, submitted_at, respondent_id,
         {_head("response", "response")} AS head
  FROM response WHERE survey_id = ? LIMIT -1
) r
JOIN answer a ON a.response_id = r.id AND a.revision = r.revision
ORDER BY r.submitted_at, r.id, a.id"""  # noqa: S608 (no input in it: the survey is a parameter)

# One NDJSON line a row, the `answers` of the revision's document as SQLite writes JSON (the
# same values, without the spaces Python's json.dumps stored).
NDJSON_SQL = f"""
SELECT '{{"response_id":"' || {_uuid("r.response_id")} || '","revision":' || r.revision
    || ',"wave":' || r.wave_number || ',"version":' || r.version
    || ',"channel":' || json_quote(r.channel)
    || ',"submitted_at":"' || {_instant("r.submitted_at")}
    || '","revised_at":"' || {_instant("r.revised_at")}
    || '","respondent_id":' || coalesce('"' || {_uuid("r.respondent_id")} || '"', 'null')
    || ',"locale":' || json_quote(r.locale)
    || ',"answers":' || coalesce(v.document -> '$.answers', '{{}}') || '}}'
FROM response r JOIN response_revision v ON v.response_id = r.id AND v.revision = r.revision
WHERE r.survey_id = ?
ORDER BY r.submitted_at, r.id"""  # noqa: S608 (no input in it: the survey is a parameter)


async def _partitions(
    sessions: async_sessionmaker[AsyncSession], sql: str, survey_id: uuid.UUID
) -> AsyncGenerator[list[Any], None]:
    async with export_session(sessions) as session:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        cursor = await driver.execute(sql, (survey_id.hex,))
        try:
            while rows := await cursor.fetchmany(PARTITION):
                yield rows
        finally:
            await shielded(cursor.close)


async def long_lines(
    sessions: async_sessionmaker[AsyncSession],
    survey_id: uuid.UUID,
    number: Callable[[float], Any],
) -> AsyncGenerator[bytes, None]:
    """The long CSV's rows (no header); `number` writes the floats SQLite cannot."""
    async with aclosing(_partitions(sessions, LONG_SQL, survey_id)) as partitions:
        async for rows in partitions:
            lines = [
                head + (cell if cell is not None else str(number(value)))
                for head, cell, value in rows
            ]
            lines.append("")
            yield "\r\n".join(lines).encode()


async def ndjson_lines(
    sessions: async_sessionmaker[AsyncSession], survey_id: uuid.UUID
) -> AsyncGenerator[bytes, None]:
    async with aclosing(_partitions(sessions, NDJSON_SQL, survey_id)) as partitions:
        async for rows in partitions:
            lines = [line for (line,) in rows]
            lines.append("")
            yield "\n".join(lines).encode()
