"""Submissions per second and p99 latency: feedback against a bare Litestar app, same run.

    .venv/bin/python bench/bench_submissions.py [--rounds 3] [--seconds 10] [--connections 64]

For each round, one after the other on loopback, each server alone with the load generator:

- `feedback serve` (uvicorn, uvloop, httptools, no access log, one worker) on SQLite and on
  PostgreSQL, POST /api/v1/public/bench/bench/responses;
- bench/bare_app.py under uvicorn with the same settings, validating the same body and committing
  one INSERT per request, on SQLite and on PostgreSQL;
- the same bare app storing nothing (the framework's ceiling).

The load generator is `wrk` (`apt-get install wrk`) with bench/submit.lua: one thread, fresh
response_ids, the ten answers of bench/survey.py, bounded by time and by count. After each run the
rows in the database are counted against the 2xx answers, so every acknowledged submission is
known to be stored. Medians over the rounds are printed as a Markdown table.

PostgreSQL: FEEDBACK_BENCH_POSTGRES (default postgresql://postgres@127.0.0.1:5432/postgres) names a
server where the database `feedback_bench` may be dropped and created.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.survey import ANSWER_ROWS, ANSWERS, DEFINITION  # noqa: E402

ADMIN_TOKEN = "bench-admin-token"
SERVER_FLAGS = ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
PG_ADMIN = os.environ.get(
    "FEEDBACK_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PG_NAME = "feedback_bench"
MAX_REQUESTS = 500_000  # per run; the time bound usually comes first


@dataclass(frozen=True)
class Target:
    name: str
    kind: str  # feedback | bare
    db: str  # sqlite | postgresql | none


TARGETS = [
    Target("feedback, SQLite", "feedback", "sqlite"),
    Target("bare app, one INSERT, SQLite", "bare", "sqlite"),
    Target("feedback, PostgreSQL", "feedback", "postgresql"),
    Target("bare app, one INSERT, PostgreSQL", "bare", "postgresql"),
    Target("bare app, no database", "bare", "none"),
]


@dataclass(frozen=True)
class Result:
    rps: float
    p99_ms: float
    ok: int
    stored: int


def pg_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def fresh_postgres() -> str:
    admin = sa.create_engine(
        PG_ADMIN.replace("postgresql://", "postgresql+psycopg2://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{PG_NAME}"'))
    admin.dispose()
    return pg_url(PG_NAME)


def count(url: str, table: str) -> int:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("///", 1)[1]) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.connect() as conn:
        value = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
    engine.dispose()
    return int(value)


@contextmanager
def server(target: Target, port: int, workdir: Path) -> Iterator[str]:
    """Start the target; yields its database URL ('' without one)."""
    if target.db == "sqlite":
        url = f"sqlite:///{workdir / (target.kind + '.db')}"
    elif target.db == "postgresql":
        url = fresh_postgres()
    else:
        url = ""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if target.kind == "feedback":
        env |= {
            "FEEDBACK_DATABASE_URL": url,
            "FEEDBACK_ADMIN_TOKEN": ADMIN_TOKEN,
            "FEEDBACK_SECRET_KEY": "bench-secret-key-0123456789-abcdefghij",
            # One client address sends everything: the per-client limit would be the benchmark.
            "FEEDBACK_PUBLIC_RATE_LIMIT": "0",
        }
        # `feedback serve`: uvicorn with uvloop, httptools and no access log (feedback/cli.py).
        cmd = [sys.executable, "-m", "feedback", "serve", "--port", str(port)]
    else:
        env |= {"BENCH_MODE": target.db, "BENCH_DATABASE_URL": url}
        cmd = [sys.executable, "-m", "uvicorn", "bench.bare_app:create_app", "--factory"]
        cmd += ["--port", str(port), *SERVER_FLAGS, "--log-level", "warning"]
    log = (workdir / f"{target.kind}-{target.db}.log").open("w")
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                probe = "/health" if target.kind == "feedback" else "/submit"
                httpx.get(base + probe, timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{target.name} did not start; see {log.name}") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def bench_org(client: httpx.Client) -> dict[str, str]:
    """Organisation `bench`; the headers of its admin key."""
    org = client.post(
        "/api/v1/orgs",
        json={"slug": "bench", "name": "Bench"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    org.raise_for_status()
    return {"Authorization": f"Bearer {org.json()['admin_key']}"}


def publish_survey(client: httpx.Client, auth: dict[str, str], body: dict[str, object]) -> str:
    """Create and publish the survey; when its version was published, by the server's clock."""
    client.post("/api/v1/surveys", json=body, headers=auth).raise_for_status()
    published = client.post(f"/api/v1/surveys/{body['slug']}/publish", json={}, headers=auth)
    published.raise_for_status()
    return str(published.json()["published_at"])


def setup_feedback(base: str) -> str:
    """Organisation `bench`, survey `bench` (always open), version 1 published; the path."""
    with httpx.Client(base_url=base, timeout=30) as client:
        auth = bench_org(client)
        publish_survey(client, auth, {"slug": "bench", "title": "Bench", "definition": DEFINITION})
    return "/api/v1/public/bench/bench/responses"


def wrk(base: str, path: str, seconds: int, connections: int) -> tuple[float, float, int]:
    """(requests a second, p99 in ms, 2xx answers) of one wrk run."""
    answers = json.dumps(ANSWERS, separators=(",", ":"))
    out = subprocess.run(
        [
            *("wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"),
            *("-s", str(ROOT / "bench/submit.lua"), base, "--", path, answers, str(MAX_REQUESTS)),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    assert p99 is not None, out
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    if errors:
        raise RuntimeError(f"{errors} requests were refused:\n{out}")
    return rps, float(p99.group(1)) * scale, total - errors


def measure(target: Target, seconds: int, connections: int, workdir: Path) -> Result:
    port = 8800 + TARGETS.index(target)
    with server(target, port, workdir) as url:
        base = f"http://127.0.0.1:{port}"
        path = setup_feedback(base) if target.kind == "feedback" else "/submit"
        wrk(base, path, 2, connections)  # pools, caches, the wave row
        table = "response" if target.kind == "feedback" else "bench_submission"
        time.sleep(0.5)  # requests wrk abandoned at its deadline still finish
        before = count(url, table) if url else 0
        rps, p99, ok = wrk(base, path, seconds, connections)
        time.sleep(0.5)
        stored = count(url, table) - before if url else ok
        # Every acknowledged submission is stored; wrk stops with up to `connections` requests
        # in flight, which the server still completes (and stores) after wrk stopped counting.
        if not ok <= stored <= ok + connections:
            raise RuntimeError(f"{target.name}: {ok} acknowledged, {stored} stored")
        if target.kind == "feedback":
            rows = count(url, "answer")
            assert rows == count(url, "response") * ANSWER_ROWS, rows
    return Result(rps, p99, ok, stored)


def sqlite_version() -> str:
    return sqlite3.sqlite_version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    results: dict[str, list[Result]] = {t.name: [] for t in TARGETS}
    with tempfile.TemporaryDirectory(prefix="feedback-bench-") as tmp:
        for round_ in range(args.rounds):
            for target in TARGETS:
                workdir = Path(tmp) / f"round{round_}"
                workdir.mkdir(exist_ok=True)
                result = measure(target, args.seconds, args.connections, workdir)
                results[target.name].append(result)
                print(
                    f"round {round_ + 1} {target.name}: {result.rps:.0f} req/s, "
                    f"p99 {result.p99_ms:.1f} ms, {result.stored} stored",
                    file=sys.stderr,
                )

    def median(name: str) -> tuple[float, float]:
        runs = results[name]
        return statistics.median(r.rps for r in runs), statistics.median(r.p99_ms for r in runs)

    baselines = {
        "sqlite": "bare app, one INSERT, SQLite",
        "postgresql": "bare app, one INSERT, PostgreSQL",
    }
    print(
        f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, SQLite {sqlite_version()}; "
        f"{args.rounds} rounds of {args.seconds} s, wrk -t1 -c{args.connections}\n"
    )
    print(
        "| server | req/s (median) | p99 ms (median) | × one-INSERT baseline "
        "(median of rounds) | runs: req/s (× baseline of the same round) |"
    )
    print("|---|---:|---:|---:|---|")
    for target in TARGETS:
        rps, p99 = median(target.name)
        runs = results[target.name]
        base = results.get(baselines.get(target.db, ""))
        if base is None:
            ratio, listed = "–", ", ".join(f"{r.rps:.0f}" for r in runs)
        else:
            # Each run against the baseline measured beside it: drift between rounds (other
            # work on the machine) cancels out.
            ratios = [r.rps / b.rps for r, b in zip(runs, base, strict=True)]
            ratio = f"{statistics.median(ratios):.2f}"
            listed = ", ".join(f"{r.rps:.0f} ({x:.2f})" for r, x in zip(runs, ratios, strict=True))
        print(f"| {target.name} | {rps:.0f} | {p99:.1f} | {ratio} | {listed} |")


if __name__ == "__main__":
    main()
