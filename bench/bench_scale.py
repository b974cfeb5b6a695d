"""How trends, segment splits, the long CSV export and submissions grow with the answer table,
on PostgreSQL: the figures docs/scaling.md rests on.

    .venv/bin/python bench/bench_scale.py [--sizes 1000000 10000000 30000000] [--runs 3]
                                          [--export-runs 1]

1. `bench_trends`' survey and data (12 questions, 24 monthly waves, respondents with a `region`)
   are loaded at the first size into the database `feedback_bench_scale`; each later size is
   reached by copying the first size's respondents, responses and answers under new ids (in SQL,
   so 30M rows take minutes, not an hour of generating), then VACUUM ANALYZE.
2. At each size, interleaved `--runs` times (medians reported): the trends aggregate
   (`queries.trend_stats`, the route's SQL and its folding; the route adds a constant ~50 ms)
   without a split, with `segment=region` and with `segment=channel`, each counted afresh,
   served from its rollups, and after a write to its last wave (`time_trends`);
   then, through `feedback serve`: the long CSV export streamed to the end (`--export-runs`
   times), and submissions with wrk (`-t1 -c64`, 2 s warm-up, two runs of 10 s) into a second,
   always-open survey of the same organisation, so they write into the large table.
3. The database is dropped (unless --keep).

Prints one JSON line per size. Not part of the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("FEEDBACK_BENCH_PG_NAME", "feedback_bench_scale")

import bench_trends  # noqa: E402
from survey import ANSWERS, DEFINITION  # noqa: E402

from feedback.analysis import queries  # noqa: E402
from feedback.analysis.cells import Counting, QuestionQuery  # noqa: E402

PORT = int(os.environ.get("FEEDBACK_BENCH_SCALE_PORT", "8871"))

# One more copy of the first size's data under new ids (the `pulse` survey's responses only).
GROW = """
CREATE TABLE IF NOT EXISTS bench_first_respondents AS SELECT id FROM respondent;
CREATE TABLE IF NOT EXISTS bench_first_responses AS
  SELECT id FROM response WHERE survey_id = (SELECT id FROM survey WHERE slug = 'pulse');
CREATE TEMP TABLE map_r AS SELECT id AS old, gen_random_uuid() AS new FROM bench_first_respondents;
CREATE TEMP TABLE map_s AS
  SELECT id AS old, gen_random_uuid() AS new, gen_random_uuid() AS rid FROM bench_first_responses;
ANALYZE map_r;
ANALYZE map_s;
INSERT INTO respondent (id, org_id, kind, ref_hash, token_hash, attributes, created_at, updated_at)
  SELECT m.new, r.org_id, r.kind, CASE WHEN r.ref_hash IS NULL THEN NULL ELSE md5(m.new::text) END,
         NULL, r.attributes, r.created_at, r.updated_at
  FROM respondent r JOIN map_r m ON m.old = r.id;
INSERT INTO response (id, org_id, survey_id, response_id, respondent_id, wave_number, version,
                      revision, channel, locale, submitted_at, revised_at, received_at,
                      edit_token_hash, body_hash)
  SELECT s.new, x.org_id, x.survey_id, s.rid, mr.new, x.wave_number, x.version, x.revision,
         x.channel, x.locale, x.submitted_at, x.revised_at, x.received_at, NULL, x.body_hash
  FROM response x JOIN map_s s ON s.old = x.id LEFT JOIN map_r mr ON mr.old = x.respondent_id;
INSERT INTO answer (org_id, survey_id, response_id, revision, wave_number, version, respondent_id,
                    channel, question_key, value_num, option_key, value_text, first, is_current)
  SELECT a.org_id, a.survey_id, s.new, a.revision, a.wave_number, a.version, mr.new, a.channel,
         a.question_key, a.value_num, a.option_key, a.value_text, a.first, a.is_current
  FROM answer a JOIN map_s s ON s.old = a.response_id
  LEFT JOIN map_r mr ON mr.old = a.respondent_id;
-- What the app appends with every write to a wave's answers (responses.change_log), so that
-- rollups kept at the size before are recounted, as they would be after a real import.
INSERT INTO answer_change (survey_id, wave_number)
  SELECT DISTINCT x.survey_id, x.wave_number FROM response x JOIN map_s s ON s.new = x.id;
DROP TABLE map_r;
DROP TABLE map_s;
"""


def questions() -> list[QuestionQuery]:
    """bench_trends' 12 questions as the trends route counts them."""
    out: list[QuestionQuery] = []
    for q in bench_trends.QUESTIONS:
        kind = q["type"]
        if kind in ("likert", "rating", "nps"):
            scale = (0, 10) if kind == "nps" else (q["scale"]["min"], q["scale"]["max"])
            counting = Counting(kind, scale)
        elif kind == "number":
            counting = Counting("number", shift=10.0)
        else:
            counting = Counting(kind)
        out.append(QuestionQuery(q["key"], (counting,)))
    return out


async def time_trends(url: str, ids: dict[str, str], runs: int) -> dict[str, float]:
    """Medians in ms: trends without a split, split by `region` and by `channel`, each counted
    afresh (no rollups: what the first request after a change to every wave costs), served from
    their rollups (every wave kept), and after a write to the last wave (that wave recounted,
    the other 23 read from the rollups)."""
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

    from feedback.analysis.rollups import Rollups
    from feedback.responses.models import AnswerChange

    engine = create_async_engine(url)
    rollups = Rollups(async_sessionmaker(engine, expire_on_commit=False))
    survey_id, org_id = uuid.UUID(ids["survey_id"]), uuid.UUID(ids["org_id"])
    waves = range(1, bench_trends.WAVES + 1)
    # Per round: counted afresh; served from the rollups (every wave kept); then, after one
    # write to the last wave, each recounting that wave only.
    modes: dict[str, tuple[str | None, bool]] = {
        "plain": (None, False),
        "region": ("region", False),
        "channel": ("channel", False),
        "plain_kept": (None, True),
        "region_kept": ("region", True),
        "channel_kept": ("channel", True),
        "plain_one_wave": (None, True),
        "region_one_wave": ("region", True),
        "channel_one_wave": ("channel", True),
    }
    samples: dict[str, list[float]] = {mode: [] for mode in modes}
    for run in range(runs + 1):  # the first round fills the rollups and is not counted
        for mode, (segment, kept) in modes.items():
            if mode == "plain_one_wave":
                async with AsyncSession(engine) as session, session.begin():
                    session.add(AnswerChange(survey_id=survey_id, wave_number=waves[-1]))
            async with AsyncSession(engine) as session, session.begin():
                started = time.perf_counter()
                await queries.trend_stats(
                    session,
                    questions(),
                    survey_id=survey_id,
                    org_id=org_id,
                    segment=segment,
                    rollups=rollups if kept else None,
                    wave_numbers=waves,
                )
                if run:
                    samples[mode].append(time.perf_counter() - started)
    await engine.dispose()
    return {mode: round(statistics.median(found) * 1000) for mode, found in samples.items()}


def serve(url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FEEDBACK_DATABASE_URL": url,
        "FEEDBACK_ADMIN_TOKEN": bench_trends.ADMIN_TOKEN,
        "FEEDBACK_SECRET_KEY": bench_trends.SECRET,
        "FEEDBACK_PUBLIC_RATE_LIMIT": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "feedback", "serve", "--port", str(PORT)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{PORT}/health", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("feedback serve did not start")


def time_export(ids: dict[str, str], runs: int) -> list[float]:
    rates = []
    for _ in range(runs):
        started, lines = time.perf_counter(), 0
        with httpx.stream(
            "GET",
            f"http://127.0.0.1:{PORT}/api/v1/surveys/pulse/export.csv?layout=long",
            headers={"Authorization": f"Bearer {ids['analyst']}"},
            timeout=3600,
        ) as answer:
            answer.raise_for_status()
            for chunk in answer.iter_bytes():
                lines += chunk.count(b"\n")
        rates.append((lines - 1) / (time.perf_counter() - started))
    return rates


def time_submissions(ids: dict[str, str]) -> list[float]:
    base = f"http://127.0.0.1:{PORT}"
    slug = "burst" + uuid.uuid4().hex[:6]
    auth = {"Authorization": f"Bearer {ids['campaigner']}"}
    with httpx.Client(base_url=base, timeout=60) as client:
        body = {"slug": slug, "title": "Burst", "definition": DEFINITION}
        client.post("/api/v1/surveys", json=body, headers=auth).raise_for_status()
        client.post(f"/api/v1/surveys/{slug}/publish", json={}, headers=auth).raise_for_status()
    path = f"/api/v1/public/bench/{slug}/responses"
    answers = json.dumps(ANSWERS, separators=(",", ":"))
    rates = []
    for seconds in (2, 10, 10):
        out = subprocess.run(
            [
                *("wrk", "-t1", "-c64", f"-d{seconds}s", "-s", str(ROOT / "bench/submit.lua")),
                *(base, "--", path, answers, "500000"),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        if "Non-2xx" in out:
            raise RuntimeError(out)
        found = re.search(r"Requests/sec:\s+([\d.]+)", out)
        assert found is not None, out
        rates.append(float(found.group(1)))
    return rates[1:]


def grow(url: str) -> None:
    engine = sa.create_engine(bench_trends.sync_url(url))
    with engine.begin() as conn:
        conn.exec_driver_sql(GROW)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def answer_rows(url: str) -> int:
    """The `pulse` survey's answer rows (the submissions' survey is not counted)."""
    engine = sa.create_engine(bench_trends.sync_url(url))
    pulse = (
        "SELECT count(*) FROM answer WHERE survey_id = (SELECT id FROM survey WHERE slug = 'pulse')"
    )
    with engine.connect() as conn:
        rows = conn.execute(sa.text(pulse)).scalar_one()
    engine.dispose()
    return int(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1_000_000, 10_000_000, 30_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--export-runs", type=int, default=1)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--trends-only", action="store_true", help="no export or submissions through a server"
    )
    args = parser.parse_args()
    first, *later = args.sizes
    if any(size % first for size in later):
        parser.error("every size must be a multiple of the first")
    url = bench_trends.fresh("postgresql", first)
    ids = asyncio.run(bench_trends.make_survey(url))
    bench_trends.load_postgres(url, first, ids)
    try:
        for size in args.sizes:
            while answer_rows(url) < size:
                grow(url)
            result: dict[str, Any] = {"answer_rows": answer_rows(url)}
            result["trends_ms"] = asyncio.run(time_trends(url, ids, args.runs))
            if args.trends_only:
                result["load_average"] = [round(x, 1) for x in os.getloadavg()]
                print(json.dumps(result), flush=True)
                continue
            server = serve(url)
            try:
                exports = time_export(ids, args.export_runs)
                result["export_rows_per_s"] = round(statistics.median(exports))
                submissions = time_submissions(ids)
                result["submissions_per_s"] = [round(r) for r in submissions]
            finally:
                server.terminate()
                server.wait(timeout=60)
            result["load_average"] = [round(x, 1) for x in os.getloadavg()]
            print(json.dumps(result), flush=True)
    finally:
        if not args.keep:
            bench_trends.drop("postgresql", first)


if __name__ == "__main__":
    main()
