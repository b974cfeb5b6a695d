"""Export throughput: CSV long and NDJSON streamed over HTTP, against the bare query, same run.

    .venv/bin/python bench/bench_export.py [--db postgresql sqlite] [--rows 10000000 1000000]
                                           [--runs 3] [--keep] [--load-only] [--reuse]

For each database and size (`--rows` pairs with `--db`: the first size for the first database):

1. A fresh database (PostgreSQL: `feedback_bench_export`; SQLite: bench/results/trends-<rows>.db, as
   bench_trends names it),
   migrated; organisation, keys and the 12-question survey of bench/bench_trends.py made through
   the API; then bench_trends' generated respondents, responses and answer rows written straight
   into the tables (PostgreSQL: COPY; SQLite: executemany), with each response's revision 1
   (its document: the answers its rows hold) so that the NDJSON export has what to read.
2. `feedback serve` (uvicorn, one worker) on that database; a client on the same two cores
   streams GET /api/v1/surveys/pulse/export.csv?layout=long and /export.ndjson `--runs` times
   each, interleaved with the baselines, counting bytes and lines:
   - PostgreSQL: `COPY (SELECT …) TO STDOUT WITH CSV` of the bare SELECT of the export's rows
     and columns, unformatted (CSV long: the answer rows joined to their response; NDJSON: the
     current revisions), through asyncpg: the exports now COPY a SELECT that also formats
     them (feedback/responses/export_copy.py), so the ratio is what formatting and HTTP cost;
   - SQLite: a bare sqlite3 cursor over the same bare SELECT, every row fetched into Python
     (the exports build their lines in SQL: feedback/responses/export_sqlite.py).
   Rates are answer rows a second (NDJSON: the survey's current answer rows over the time of
   the whole export, though it sends one object per response).
3. The server's resident set before the first export and its peak (VmHWM) after all of them
   (and both after each export, on standard error).
4. The database is dropped (unless --keep).

Medians over the runs go to stdout as a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import bench_trends  # noqa: E402
from bench.bench_trends import (  # noqa: E402
    ADMIN_TOKEN,
    ANSWER_COLUMNS,
    RESPONDENT_COLUMNS,
    RESPONSE_COLUMNS,
    RESULTS,
    SECRET,
    Batch,
    batches,
    make_survey,
)

# Its own database: bench_trends' may be in use meanwhile.
bench_trends.PG_NAME = "feedback_bench_export"
PORT = int(os.environ.get("FEEDBACK_BENCH_EXPORT_PORT", "8893"))
REVISION_COLUMNS = "response_id, revision, version, document, body_hash, submitted_at"
MULTI = ("actions", "topics")

# The bare SELECTs of the exports' rows, in their order, unformatted: the baselines.
LONG_SQL = """
SELECT r.response_id, a.revision, a.wave_number, a.version, r.channel, r.submitted_at,
       a.respondent_id, a.question_key, a.value_num, a.option_key, a.value_text
FROM response r JOIN answer a ON a.response_id = r.id AND a.revision = r.revision
WHERE r.survey_id = {survey}
ORDER BY r.submitted_at, r.id, a.id"""
NDJSON_SQL = """
SELECT r.response_id, r.revision, r.wave_number, r.version, r.channel, r.submitted_at,
       r.revised_at, r.respondent_id, r.locale, v.document
FROM response r JOIN response_revision v ON v.response_id = r.id AND v.revision = r.revision
WHERE r.survey_id = {survey}
ORDER BY r.submitted_at, r.id"""


def revisions(batch: Batch) -> list[tuple[Any, ...]]:
    """Revision 1 of each response of `batch`: its answers as a form would have sent them."""
    answers: dict[uuid.UUID, dict[str, Any]] = {}
    for a in batch.answers:
        key, num, option, text = a[7], a[8], a[9], a[10]
        found = answers.setdefault(a[2], {})
        if key in MULTI:
            found.setdefault(key, [])
            if option is not None:
                found[key].append(option)
        else:
            found[key] = option if option is not None else text if text is not None else num
    return [
        (r[0], 1, r[6], {"response_id": str(r[3]), "answers": answers.get(r[0], {})}, r[14], r[10])
        for r in batch.responses
    ]


def load(db: str, url: str, rows: int, ids: dict[str, str]) -> int:
    tables = (
        ("respondent", RESPONDENT_COLUMNS),
        ("response", RESPONSE_COLUMNS),
        ("response_revision", REVISION_COLUMNS),
        ("answer", ANSWER_COLUMNS),
    )
    total = 0
    if db == "sqlite":
        conn = sqlite3.connect(url.split("///", 1)[1])
        conn.execute("PRAGMA synchronous=OFF")
        for batch in batches(rows, ids):
            items = (batch.respondents, batch.responses, revisions(batch), batch.answers)
            for (table, columns), values in zip(tables, items, strict=True):
                if values:
                    marks = ", ".join("?" * (columns.count(",") + 1))
                    conn.executemany(
                        f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                        ([bench_trends._sqlite_value(v) for v in item] for item in values),
                    )
            total += len(batch.answers)
            conn.commit()
        conn.execute("ANALYZE")
        conn.commit()
        conn.close()
        return total
    import csv

    import psycopg2

    conn_pg = psycopg2.connect(bench_trends.sync_url(url).replace("+psycopg2", ""))
    with conn_pg:
        cursor = conn_pg.cursor()
        for batch in batches(rows, ids):
            items = (batch.respondents, batch.responses, revisions(batch), batch.answers)
            for (table, columns), values in zip(tables, items, strict=True):
                if not values:
                    continue
                buffer = io.StringIO()
                writer = csv.writer(buffer, delimiter="\t", quotechar='"', lineterminator="\n")
                writer.writerows([bench_trends._copy_value(v) for v in item] for item in values)
                buffer.seek(0)
                cursor.copy_expert(
                    f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, DELIMITER E'\\t', "
                    r"NULL '\N')",
                    buffer,
                )
            total += len(batch.answers)
            conn_pg.commit()
    conn_pg.autocommit = True
    conn_pg.cursor().execute("VACUUM ANALYZE")
    conn_pg.close()
    return total


@contextmanager
def serve(url: str) -> Iterator[int]:
    """`feedback serve` on `url`; yields its process id."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FEEDBACK_DATABASE_URL": url,
        "FEEDBACK_ADMIN_TOKEN": ADMIN_TOKEN,
        "FEEDBACK_SECRET_KEY": SECRET,
    }
    cmd = [sys.executable, "-m", "feedback", "serve", "--port", str(PORT)]
    log = (RESULTS / "export-server.log").open("w")
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{PORT}/health", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start; see {log.name}") from None
                time.sleep(0.2)
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def memory_mib(pid: int, field: str) -> int:
    for entry in Path(f"/proc/{pid}/status").read_text().splitlines():
        if entry.startswith(field + ":"):
            return round(int(entry.split()[1]) / 1024)
    raise RuntimeError(field)


def export_once(path: str, analyst: str) -> tuple[float, int, int]:
    """(seconds, bytes, lines) of one streamed export."""
    size = lines = 0
    started = time.perf_counter()
    with (
        httpx.Client(base_url=f"http://127.0.0.1:{PORT}", timeout=3600) as client,
        client.stream("GET", path, headers={"Authorization": f"Bearer {analyst}"}) as answer,
    ):
        answer.raise_for_status()
        for chunk in answer.iter_bytes(256 * 1024):
            size += len(chunk)
            lines += chunk.count(b"\n")
    return time.perf_counter() - started, size, lines


def bare_once(db: str, url: str, sql: str, survey_id: str) -> tuple[float, int]:
    """(seconds, rows) of the bare statement."""
    if db == "sqlite":
        with sqlite3.connect(url.split("///", 1)[1]) as conn:
            started = time.perf_counter()
            cursor = conn.execute(sql.format(survey="?"), (uuid.UUID(survey_id).hex,))
            count = 0
            while batch := cursor.fetchmany(10_000):
                count += len(batch)
            return time.perf_counter() - started, count

    async def copy() -> tuple[float, int]:
        conn = await asyncpg.connect(bench_trends.sync_url(url).replace("+psycopg2", ""))
        lines = 0

        async def sink(data: bytes) -> None:
            nonlocal lines
            lines += data.count(b"\n")

        try:
            started = time.perf_counter()
            query = sql.format(survey=f"'{uuid.UUID(survey_id)}'::uuid")
            await conn.copy_from_query(query, output=sink, format="csv")
            return time.perf_counter() - started, lines
        finally:
            await conn.close()

    return asyncio.run(copy())


def answer_rows(url: str) -> int:
    engine = sa.create_engine(bench_trends.sync_url(url))
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM answer WHERE is_current")).scalar_one()
    engine.dispose()
    return int(count)


def measure(db: str, url: str, ids: dict[str, str], runs: int) -> dict[str, Any]:
    rows = answer_rows(url)
    base = "/api/v1/surveys/pulse"
    out: dict[str, Any] = {"db": db, "rows": rows}
    rates: dict[str, list[float]] = {}
    with serve(url) as pid:
        out["rss_before_mib"] = memory_mib(pid, "VmRSS")
        for run in range(runs):
            for name, path, sql in (
                ("long", f"{base}/export.csv?layout=long", LONG_SQL),
                ("ndjson", f"{base}/export.ndjson", NDJSON_SQL),
            ):
                seconds, size, lines = export_once(path, ids["analyst"])
                expected = rows + 1 if name == "long" else None
                assert expected is None or lines == expected, (lines, expected)
                rates.setdefault(name, []).append(rows / seconds)
                bare_seconds, bare_rows = bare_once(db, url, sql, ids["survey_id"])
                rates.setdefault(f"{name}_bare", []).append(rows / bare_seconds)
                print(
                    f"{db} {rows:,} run {run + 1} {name}: {seconds:.1f} s, {size / 1e6:,.0f} MB, "
                    f"{lines:,} lines = {rows / seconds:,.0f} answer rows/s; bare "
                    f"{bare_seconds:.1f} s ({bare_rows:,} rows) = {rows / bare_seconds:,.0f}/s; "
                    # After each export: a peak that stops growing from run to run is bounded.
                    f"server RSS {memory_mib(pid, 'VmRSS')} MiB, "
                    f"peak {memory_mib(pid, 'VmHWM')} MiB",
                    file=sys.stderr,
                )
        out["rss_peak_mib"] = memory_mib(pid, "VmHWM")
    for name, values in rates.items():
        out[name] = statistics.median(values)
        out[name + "_runs"] = values
    return out


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | answer rows | export | answer rows/s (median) | runs | bare (median) "
        "| ratio to bare | server RSS before → peak |",
        "|---|---:|---|---:|---|---:|---:|---:|",
    ]
    for r in results:
        name = "SQLite" if r["db"] == "sqlite" else "PostgreSQL"
        for kind, label in (("long", "CSV long"), ("ndjson", "NDJSON")):
            runs = ", ".join(f"{v:,.0f}" for v in r[kind + "_runs"])
            lines.append(
                f"| {name} | {r['rows']:,} | {label} | {r[kind]:,.0f} | {runs} "
                f"| {r[kind + '_bare']:,.0f} | {r[kind] / r[kind + '_bare']:.2f} "
                f"| {r['rss_before_mib']} → {r['rss_peak_mib']} MiB |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", nargs="+", default=["postgresql", "sqlite"])
    parser.add_argument("--rows", nargs="+", type=int, default=[10_000_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the databases a --keep run left"
    )
    parser.add_argument(
        "--load-only", action="store_true", help="load and keep the databases, measure nothing"
    )
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = []
    for db, rows in zip(args.db, args.rows, strict=True):
        kept = RESULTS / f"export-{db}-{rows}.json"
        if args.reuse:
            url, ids = json.loads(kept.read_text())
        else:
            started = time.perf_counter()
            url = bench_trends.fresh(db, rows)
            ids = asyncio.run(make_survey(url))
            loaded = load(db, url, rows, ids)
            print(
                f"{db}: {loaded:,} answer rows loaded in {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
            kept.write_text(json.dumps([url, ids]))
        if args.load_only:
            continue
        try:
            results.append(measure(db, url, ids, args.runs))
        finally:
            if not args.keep:
                bench_trends.drop(db, rows)
                kept.unlink(missing_ok=True)
    print(f"load average {os.getloadavg()[0]:.1f} (2 cores, shared)\n")
    print(table(results))


if __name__ == "__main__":
    main()
