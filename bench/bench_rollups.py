"""The trends route with and without a split, counted afresh, served from its rollups, and after
a write to its last wave: the figures for issue 16's "a split within 1.5x of trends".

    .venv/bin/python bench/bench_rollups.py [--db postgresql sqlite] [--rows 1000000 10000000]
                                            [--runs 5] [--keep] [--load-only] [--reuse]

For each database and size (`--rows` pairs with `--db`, as in bench_export.py), bench_trends'
survey and data (12 questions, 24 monthly waves, respondents with a `region`, five channels)
are loaded, then GET /api/v1/surveys/pulse/trends (all 12 questions) is timed in process
through the app, without a split, with `segment=region` and with `segment=channel`, in four
states, interleaved `--runs` times (medians):

- afresh: the rollups emptied before the request (what the first request costs, or one after a
  write to every wave);
- kept: every wave's rollup valid;
- one wave changed: a row appended to `answer_change` for the last wave before the request, as
  every write to that wave appends one (that wave recounted, the other 23 read from rollups);
- warmed: a row appended for every wave (as an import spread over the whole history does), then
  the worker's round of warming (`analysis.warming.warm_splits`, timed apart as `warm_work`:
  it counts every split the requests before recorded, all three) before the request.

Every request, and the worker's round, run at one instant (`measured_at`): the 15th of the
month of wave 24, the last wave of the data, then open. The app's clock is fixed there, so the
waves counted and the splits' `used_at` do not depend on the day the bench (or a --reuse of a
database kept earlier) runs.

Prints one JSON line per database and size. Not part of the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("FEEDBACK_BENCH_PG_NAME", "feedback_bench_rollups")

import bench_trends  # noqa: E402

SPLITS = {"plain": "", "region": "&segment=region", "channel": "&segment=channel"}
STATES = ("afresh", "kept", "one_wave", "warmed")


def measured_at(start: datetime) -> datetime:
    """Noon on the 15th of the month of the last wave of a survey whose schedule starts at
    `start` (the first of a month, bench_trends.schedule_start)."""
    month = start.month - 1 + bench_trends.WAVES - 1
    first = start.replace(year=start.year + month // 12, month=month % 12 + 1)
    return first + timedelta(days=14, hours=12)


async def measure(url: str, ids: dict[str, str], runs: int) -> dict[str, Any]:
    from litestar.testing import AsyncTestClient

    from feedback.analysis.rollups import Rollups
    from feedback.analysis.warming import warm_splits
    from feedback.api.app import create_app
    from feedback.clock import fixed_clock
    from feedback.db import make_engine, make_sessionmaker
    from feedback.responses.models import AnswerChange

    engine = make_engine(url, pool_size=2)
    sessions = make_sessionmaker(engine)
    survey_id = uuid.UUID(ids["survey_id"])
    analyst = {"Authorization": f"Bearer {ids['analyst']}"}
    trends = "/api/v1/surveys/pulse/trends?questions=" + ",".join(bench_trends.KEYS)
    now = measured_at(datetime.fromisoformat(ids["start"]))

    async def before(state: str) -> float | None:
        """Put the rollups in `state`; the time the worker took to warm them, for "warmed"."""
        async with sessions() as session, session.begin():
            if state == "afresh":
                await session.execute(sa.text("DELETE FROM trend_rollup"))
            elif state == "one_wave":
                session.add(AnswerChange(survey_id=survey_id, wave_number=bench_trends.WAVES))
            elif state == "warmed":
                for wave in range(1, bench_trends.WAVES + 1):
                    session.add(AnswerChange(survey_id=survey_id, wave_number=wave))
        if state != "warmed":
            return None
        started = time.perf_counter()
        await warm_splits(sessions, Rollups(sessions), now=now)
        return time.perf_counter() - started

    samples: dict[str, list[float]] = {f"{s}_{t}": [] for s in SPLITS for t in STATES}
    samples.update({f"{s}_warm_work": [] for s in SPLITS})
    # As `feedback serve` runs it (`own_process`: what exists once it has started is frozen out
    # of the collector's walks), without its embedded worker.
    settings = bench_trends.bench_settings(url).model_copy(update={"embedded_worker": False})
    app = create_app(settings, own_process=True, clock=fixed_clock(now))
    async with AsyncTestClient(app=app, timeout=600) as client:
        for run in range(runs + 1):  # the first round warms up and is not counted
            # Each split through the three states in turn: emptying the rollups for one split's
            # "afresh" empties the others' too.
            for split, query in SPLITS.items():
                for state in STATES:
                    work = await before(state)
                    started = time.perf_counter()
                    got = await client.get(trends + query, headers=analyst)
                    elapsed = time.perf_counter() - started
                    got.raise_for_status()
                    if run:
                        samples[f"{split}_{state}"].append(elapsed)
                        if work is not None:
                            samples[f"{split}_warm_work"].append(work)
    await engine.dispose()
    return {name: round(statistics.median(found) * 1000) for name, found in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", nargs="+", default=["postgresql"])
    parser.add_argument("--rows", nargs="+", type=int, default=[1_000_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the databases a --keep run left"
    )
    parser.add_argument(
        "--load-only", action="store_true", help="load and keep the databases, measure nothing"
    )
    args = parser.parse_args()
    bench_trends.RESULTS.mkdir(parents=True, exist_ok=True)
    for db, rows in zip(args.db, args.rows, strict=True):
        kept = bench_trends.RESULTS / f"rollups-{db}-{rows}.json"
        if args.reuse:
            url, ids = json.loads(kept.read_text())
        else:
            url = bench_trends.fresh(db, rows)
            ids = asyncio.run(bench_trends.make_survey(url))
            load = bench_trends.load_sqlite if db == "sqlite" else bench_trends.load_postgres
            load(url, rows, ids)
            kept.write_text(json.dumps([url, ids]))
        if args.load_only:
            continue
        try:
            result: dict[str, Any] = {"db": db, "answer_rows": rows}
            result["route_ms"] = asyncio.run(measure(url, ids, args.runs))
            result["load_average"] = [round(x, 1) for x in os.getloadavg()]
            print(json.dumps(result), flush=True)
        finally:
            if not args.keep:
                bench_trends.drop(db, rows)
                kept.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
