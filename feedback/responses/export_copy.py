"""PostgreSQL: the long CSV and NDJSON exports formatted by the database, streamed by COPY.

`COPY (SELECT …) TO STDOUT` formats every row in C (and may run the join in parallel); Python
only passes the bytes on. The SELECTs write what the Python path (exports.py, which SQLite
uses) writes, byte for byte for the long CSV: the same cells (`_cell`, `_instant`) said in SQL.

The COPY runs in a task that hands its chunks to the response through a bounded queue, so a
slow client holds the COPY back instead of filling memory; when the client goes away, the
task is cancelled and asyncpg cancels the COPY on the server before the connection goes back
to the pool.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, Callable
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.responses.export_session import export_session, shielded

# Chunks waiting for the client: asyncpg hands over what one socket read holds (a bytearray,
# ~8 KiB). They leave joined by at least `OUT` bytes: each chunk sent costs the server
# (Litestar, uvicorn) about as much whatever its size (10 M rows: 95,000 chunks of ~8 KiB).
QUEUE = 16
OUT = 256 * 1024


def _instant(column: str) -> str:
    """`exports._instant`: ISO 8601 in UTC with `Z`, microseconds only when not zero."""
    return (
        f"replace(to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
        "'.000000Z', 'Z')"
    )


def _text_cell(expr: str) -> str:
    """`exports._cell` of a text: formulas defused; empty as NULL (COPY would write `""`)."""
    return (
        f"CASE WHEN left({expr}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') "
        f"THEN '''' || {expr} ELSE NULLIF({expr}, '') END"
    )


# `exports._cell` of a float, as Python's `str` writes it after `int()` of a whole one:
# - whole: every digit (`int(1e300)`); below 2**63 through int8, above it exactly as
#   m * 2**k in numeric, with m = v / 2**k < 2**63 a whole float (k from the binary exponent
#   less a margin for the rounding of ln);
# - zero, negative too: `0`;
# - otherwise PostgreSQL's shortest round-trip digits (extra_float_digits = 1) are Python's
#   `repr`, both in exponent form below 1e-4 (`1e-05`); but 1e15 ≤ |v| < 2**52 is positional
#   in Python and `1.2345678901234565e+15` here, so the point is moved back;
# - non-finite values (validation refuses them) as Python spells them.
_NUMBER = """CASE
  WHEN v IS NULL THEN NULL
  WHEN v = 'NaN'::float8 THEN 'nan'
  WHEN v = 'Infinity'::float8 THEN 'inf'
  WHEN v = '-Infinity'::float8 THEN '-inf'
  WHEN v = 0 THEN '0'
  WHEN v = trunc(v) THEN CASE
    WHEN abs(v) < 9e18 THEN v::int8::text
    ELSE trunc(
      (v / power(2::float8, floor(ln(abs(v)) / ln(2))::int - 60))::int8::numeric
      * power(2::numeric, floor(ln(abs(v)) / ln(2))::int - 60)
    )::text
  END
  WHEN abs(v) >= 1e15
    THEN regexp_replace(v::text, '^(-?\\d)\\.(\\d{15})(\\d*)e\\+15$', '\\1\\2.\\3')
  ELSE v::text
END"""

LONG_SQL = f"""
SELECT r.response_id, a.revision, a.wave_number, a.version, NULLIF(r.channel, ''),
       {_instant("r.submitted_at")}, a.respondent_id, NULLIF(a.question_key, ''),
       CASE WHEN t IS NOT NULL THEN {_text_cell("t")} ELSE {_NUMBER} END
FROM response r
JOIN answer a ON a.response_id = r.id AND a.revision = r.revision,
LATERAL (SELECT coalesce(a.option_key, a.value_text) AS t, a.value_num AS v) c
WHERE r.survey_id = $1
ORDER BY r.submitted_at, r.id, a.id"""  # noqa: S608 (no input in it: the survey is $1)


def _json_text(expr: str) -> str:
    return f"coalesce(to_json({expr})::text, 'null')"


# One NDJSON line a row, the `answers` of the revision's document spliced as jsonb writes it
# (the same values; jsonb orders an object's keys and puts a space after `:` and `,`).
NDJSON_SQL = f"""
SELECT '{{"response_id":"' || r.response_id::text || '","revision":' || r.revision::text
    || ',"wave":' || r.wave_number::text || ',"version":' || r.version::text
    || ',"channel":' || {_json_text("r.channel")}
    || ',"submitted_at":"' || {_instant("r.submitted_at")}
    || '","revised_at":"' || {_instant("r.revised_at")}
    || '","respondent_id":' || coalesce('"' || r.respondent_id::text || '"', 'null')
    || ',"locale":' || {_json_text("r.locale")}
    || ',"answers":' || coalesce((v.document -> 'answers')::text, '{{}}') || '}}'
FROM response r JOIN response_revision v ON v.response_id = r.id AND v.revision = r.revision
WHERE r.survey_id = $1
ORDER BY r.submitted_at, r.id"""  # noqa: S608 (no input in it: the survey is $1)


class CsvLines:
    """COPY ends CSV lines with LF; the Python path (csv module) with CRLF. LFs outside quoted
    fields become CRLF; inside one (a text answer's own newline) they stay. Whether a chunk
    starts inside quotes is carried over from the previous chunk: every `"` toggles it (a
    doubled `""` toggles twice)."""

    def __init__(self) -> None:
        self.quoted = False

    def __call__(self, chunk: bytes) -> bytes:
        if b'"' not in chunk:
            return chunk if self.quoted else chunk.replace(b"\n", b"\r\n")
        parts = chunk.split(b'"')
        for i in range(1 if self.quoted else 0, len(parts), 2):
            parts[i] = parts[i].replace(b"\n", b"\r\n")
        self.quoted ^= len(parts) % 2 == 0
        return b'"'.join(parts)


class TextLines:
    """COPY's text format doubles each backslash; the lines hold no other escapable byte (JSON
    escapes control characters, and there is one column). A chunk can end between the two
    backslashes of a pair, so what follows the last newline waits for the next chunk."""

    def __init__(self) -> None:
        self.rest = b""

    def __call__(self, chunk: bytes) -> bytes:
        chunk = self.rest + chunk
        end = chunk.rfind(b"\n") + 1
        self.rest = chunk[end:]
        return chunk[:end].replace(b"\\\\", b"\\")


async def copy_out(
    sessions: async_sessionmaker[AsyncSession],
    sql: str,
    survey_id: uuid.UUID,
    *,
    format: Literal["csv", "text"],
    translate: Callable[[bytes], bytes],
) -> AsyncGenerator[bytes, None]:
    """The bytes of `COPY (sql) TO STDOUT`, translated chunk by chunk."""
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=QUEUE)
    async with export_session(sessions) as session:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None

        async def run() -> None:
            # The shortest digits that read back as the same float, as Python's repr: the
            # default since PostgreSQL 12, said here in case the server's is otherwise.
            await driver.execute("SET extra_float_digits = 1")
            await driver.copy_from_query(sql, survey_id, output=queue.put, format=format)
            await queue.put(None)

        task = asyncio.create_task(run())
        task.add_done_callback(lambda done: _wake(queue, done))
        try:
            parts: list[bytes] = []
            size = 0
            while (chunk := await queue.get()) is not None:
                parts.append(chunk)
                size += len(chunk)
                if size >= OUT:
                    yield translate(b"".join(parts))
                    parts, size = [], 0
            await task  # its error, if it failed
            if parts:
                yield translate(b"".join(parts))
        finally:
            if not task.done():
                task.cancel()
            # Cancelled while handing a chunk over, asyncpg cancels the COPY on the server.
            await shielded(lambda: asyncio.gather(task, return_exceptions=True))


def _wake(queue: asyncio.Queue[bytes | None], done: asyncio.Task[None]) -> None:
    """A failed COPY puts no end mark: one is put for it, so the reader stops and raises."""
    if not done.cancelled() and done.exception() is not None:
        while queue.full():  # the reader is gone or will read the error first
            queue.get_nowait()
        queue.put_nowait(None)
