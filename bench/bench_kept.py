"""Kept trends requests, each split, timed in CPU and wall time: what a kept split costs.

Reads the database a `bench_rollups.py --keep` (or `--load-only`) run left, serves the route
in process as `feedback serve` runs it, warms it up, then times `--runs` requests of each split
served from their rollups. `--root` runs another checkout's code (a git worktree of an older
commit) on the same database, so two versions can be compared in turns:

    .venv/bin/python bench/bench_rollups.py --db postgresql --rows 1000000 --load-only
    git worktree add /tmp/before <commit>
    for i in 1 2 3; do for r in /tmp/before .; do
      .venv/bin/python bench/bench_kept.py --root $r --runs 20; done; done

CPU time (`time.process_time`, the app's thread and the client's) is steadier than wall time on
a shared machine, and the minimum steadier than the median.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SPLITS = {"plain": "", "region": "&segment=region", "channel": "&segment=channel"}


async def measure(runs: int, db: str, rows: int) -> dict[str, dict[str, float]]:
    import bench_rollups
    import bench_trends
    from litestar.testing import AsyncTestClient

    from feedback.api.app import create_app
    from feedback.clock import fixed_clock

    kept = bench_trends.RESULTS / f"rollups-{db}-{rows}.json"
    url, ids = json.loads(kept.read_text())
    now = bench_rollups.measured_at(datetime.fromisoformat(ids["start"]))
    settings = bench_trends.bench_settings(url).model_copy(update={"embedded_worker": False})
    app = create_app(settings, own_process=True, clock=fixed_clock(now))
    analyst = {"Authorization": f"Bearer {ids['analyst']}"}
    trends = "/api/v1/surveys/pulse/trends?questions=" + ",".join(bench_trends.KEYS)
    out: dict[str, dict[str, float]] = {}
    async with AsyncTestClient(app=app, timeout=600) as client:
        for split, query in SPLITS.items():
            for _ in range(3):  # warm-up: the first request counts what is not kept
                (await client.get(trends + query, headers=analyst)).raise_for_status()
            walls, cpus = [], []
            for _ in range(runs):
                wall, cpu = time.perf_counter(), time.process_time()
                got = await client.get(trends + query, headers=analyst)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
                got.raise_for_status()
            out[split] = {
                "cpu_median_ms": round(statistics.median(cpus) * 1000),
                "cpu_min_ms": round(min(cpus) * 1000),
                "wall_median_ms": round(statistics.median(walls) * 1000),
                "bytes": len(got.content),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=str(BENCH.parent), help="the checkout whose code runs")
    parser.add_argument("--db", default="postgresql")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(args.root).resolve()))
    sys.path.insert(1, str(BENCH))
    os.environ.setdefault("FEEDBACK_BENCH_PG_NAME", "feedback_bench_rollups")
    result = asyncio.run(measure(args.runs, args.db, args.rows))
    print(json.dumps({"root": args.root, **result, "load_average": os.getloadavg()}))


if __name__ == "__main__":
    main()
