"""Offline import throughput: answers stored per second, NDJSON and CSV, through the HTTP API.

    .venv/bin/python bench/bench_import.py [--lines 50000] [--rounds 3] [--db postgresql|sqlite]

Starts `feedback serve` (as bench_submissions.py does) on PostgreSQL and on SQLite, creates the
ten-question survey of bench/survey.py, and streams a generated file of `--lines` responses
(eleven answer rows each, every line its own submitted_at and respondent_ref) to
POST /api/v1/surveys/bench/responses/import. The time is the whole request, parsing,
validation and commits included; afterwards the answer rows are counted in the database. The
second round re-sends the first round's file, which must import nothing (`duplicates` only).
Medians over the rounds are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import bench_submissions  # noqa: E402
from bench.bench_submissions import (  # noqa: E402
    Target,
    bench_org,
    count,
    publish_survey,
    server,
)
from bench.survey import ANSWER_ROWS, ANSWERS, DEFINITION  # noqa: E402
from feedback.responses.store_statements import (  # noqa: E402
    ANSWER_REVISION_COLUMNS,
    ANSWER_VALUE_COLUMNS,
)

TARGETS = [
    Target("feedback, PostgreSQL", "feedback", "postgresql"),
    Target("feedback, SQLite", "feedback", "sqlite"),
]
CHUNK = 256 * 1024
# Its own database: other benchmarks (bench_submissions' feedback_bench) may run meanwhile.
bench_submissions.PG_NAME = "feedback_bench_import"
# Without the embedded worker (feedback.loop.worker), as a deployment that imports large files
# runs `feedback worker` apart: it recomputes the survey's findings while the import lands,
# which is not the import's time, and finishing that made the server take over the 30 s
# bench_submissions allows to stop.
os.environ["FEEDBACK_EMBEDDED_WORKER"] = "false"


# When the generated answers were "collected": one microsecond apart from the instant the
# server published the surveys (imports refuse answers dated before their version was
# published, or after the server's now), the same for every round, so a re-sent file is the
# same file.
START = datetime(2025, 6, 1, tzinfo=UTC)


def ndjson_lines(n: int, seed: str) -> Iterator[bytes]:
    start = START
    for i in range(n):
        line = {
            "response_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{seed}/{i}")),
            "submitted_at": (start + timedelta(microseconds=i)).isoformat(),
            "respondent_ref": f"crm-{i % 5000}",
            "channel": "paper",
            "answers": ANSWERS,
        }
        yield json.dumps(line, separators=(",", ":")).encode() + b"\n"


def csv_lines(n: int, seed: str) -> Iterator[bytes]:
    keys = list(ANSWERS)
    header = ["response_id", "submitted_at", "respondent_ref", "channel", *keys]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield buffer.getvalue().encode()
    start = START
    cells = [";".join(v) if isinstance(v, list) else v for v in ANSWERS.values()]
    for i in range(n):
        buffer.seek(0)
        buffer.truncate()
        response_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{seed}/{i}"))
        submitted_at = (start + timedelta(microseconds=i)).isoformat()
        writer.writerow([response_id, submitted_at, f"crm-{i % 5000}", "paper", *cells])
        yield buffer.getvalue().encode()


def chunks(lines: Iterator[bytes]) -> Iterator[bytes]:
    pending = bytearray()
    for line in lines:
        pending += line
        if len(pending) >= CHUNK:
            yield bytes(pending)
            pending.clear()
    if pending:
        yield bytes(pending)


def setup(base: str) -> tuple[dict[str, str], datetime]:
    """The `bench` organisation's admin headers, and when its surveys' versions were published
    (by the server's clock: the generated answers are dated from then on)."""
    published: list[datetime] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        auth = bench_org(client)
        # A survey open since before the generated answers were "collected".
        schedule = {
            "rrule": "FREQ=YEARLY",
            "starts_at": "2020-01-01T00:00:00Z",
            "timezone": "UTC",
        }
        for slug in ("bench", "bench-csv"):
            body = {"slug": slug, "title": slug, "definition": DEFINITION, "schedule": schedule}
            at = publish_survey(client, auth, body)
            published.append(datetime.fromisoformat(at.replace("Z", "+00:00")))
    return auth, max(published)


def import_once(
    base: str, auth: dict[str, str], slug: str, kind: str, lines: int, seed: str
) -> tuple[float, dict[str, object]]:
    make = ndjson_lines if kind == "ndjson" else csv_lines
    media = "application/x-ndjson" if kind == "ndjson" else "text/csv"
    started = time.perf_counter()
    with httpx.Client(base_url=base, timeout=600) as client:
        answer = client.post(
            f"/api/v1/surveys/{slug}/responses/import",
            content=chunks(make(lines, seed)),
            headers={**auth, "Content-Type": media},
        )
    elapsed = time.perf_counter() - started
    answer.raise_for_status()
    result: dict[str, object] = answer.json()
    return elapsed, result


# Every column an import writes to an answer row (`bare_insert` copies them as they are).
ANSWER_COLUMNS = [*ANSWER_REVISION_COLUMNS, *ANSWER_VALUE_COLUMNS]


def bare_insert(url: str, rows: int) -> float:
    """The baseline: the last `rows` answer rows stored again, by the database's fastest
    bulk path and nothing else (PostgreSQL: binary COPY; SQLite: one executemany), into the
    same table with its indexes and foreign key, in a transaction rolled back; rows/s."""
    columns = ", ".join(f'"{c}"' for c in ANSWER_COLUMNS)
    select = f"SELECT {columns} FROM answer ORDER BY id DESC LIMIT {rows}"
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("///", 1)[1]) as conn:
            records = conn.execute(select).fetchall()
            marks = ", ".join("?" * len(ANSWER_COLUMNS))
            started = time.perf_counter()
            conn.executemany(f"INSERT INTO answer ({columns}) VALUES ({marks})", records)
            elapsed = time.perf_counter() - started
            conn.rollback()
        return len(records) / elapsed

    async def copy() -> float:
        conn = await asyncpg.connect(url)
        try:
            records = await conn.fetch(select)
            async with conn.transaction():
                started = time.perf_counter()
                await conn.copy_records_to_table("answer", records=records, columns=ANSWER_COLUMNS)
                elapsed = time.perf_counter() - started
                raise _Rollback
        except _Rollback:
            return len(records) / elapsed
        finally:
            await conn.close()

    return asyncio.run(copy())


class _Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", choices=("postgresql", "sqlite"), action="append")
    args = parser.parse_args()
    targets = [t for t in TARGETS if args.db is None or t.db in args.db]
    rates: dict[tuple[str, str], list[float]] = {}
    baselines: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="feedback-bench-import-") as tmp:
        for target in targets:
            with server(target, 8890, Path(tmp)) as url:
                base = "http://127.0.0.1:8890"
                auth, published = setup(base)
                global START
                START = published
                time.sleep(0.1 + args.lines / 1e6)  # every line's instant is then in the past
                for kind, slug in (("ndjson", "bench"), ("csv", "bench-csv")):
                    for round_ in range(args.rounds):
                        seed = f"{kind}-{round_}"
                        before = count(url, "answer")
                        elapsed, result = import_once(base, auth, slug, kind, args.lines, seed)
                        stored = count(url, "answer") - before
                        rejected = result["rejected"]
                        assert isinstance(rejected, list)
                        assert result["imported"] == args.lines, (result["imported"], rejected[:3])
                        assert stored == args.lines * ANSWER_ROWS, stored
                        rate = stored / elapsed
                        rates.setdefault((target.name, kind), []).append(rate)
                        bare = bare_insert(url, stored)
                        baselines.setdefault((target.name, kind), []).append(bare)
                        print(
                            f"{target.name} {kind} round {round_ + 1}: {args.lines} lines, "
                            f"{stored} answers in {elapsed:.2f} s = {rate:,.0f} answers/s; "
                            f"bare insert {bare:,.0f} rows/s",
                            file=sys.stderr,
                        )
                    # Re-sending a file imports nothing twice.
                    _, again = import_once(base, auth, slug, kind, args.lines, f"{kind}-0")
                    assert (again["imported"], again["duplicates"]) == (0, args.lines)
    print(f"{args.lines} lines × {ANSWER_ROWS} answers per file, {args.rounds} rounds\n")
    print("| database | format | answers/s (median) | runs | bare insert rows/s (median) | ratio |")
    print("|---|---|---:|---|---:|---:|")
    for (name, kind), runs in rates.items():
        listed = ", ".join(f"{r:,.0f}" for r in runs)
        rate, bare = statistics.median(runs), statistics.median(baselines[(name, kind)])
        print(f"| {name} | {kind} | {rate:,.0f} | {listed} | {bare:,.0f} | {rate / bare:.2f} |")


if __name__ == "__main__":
    main()
