"""Submissions per second with a webhook subscribed to `response.created` against without, in
the same run, and whether every submission's event arrives.

    .venv/bin/python bench/bench_webhooks.py [--rounds 3] [--burst 10000] [--connections 64]
        [--databases sqlite,postgresql]

Each round, for each database, one after the other on loopback: `feedback serve` (one worker
process, the embedded delivery worker on, as deployed by default) on a fresh database, the
organisation and survey of bench_submissions.py, then a burst of `--burst` submissions by `wrk`
(bench/submit.lua, fresh response_ids) — once with no webhook, once with a webhook subscribed
to `response.created` whose receiver (bench/webhook_receiver.py, its own uvicorn process) is on
loopback. The webhook run then waits until the receiver has seen one distinct `webhook-id` per
stored response. Medians over the rounds, and the ratio of each round's throughput with the
webhook to the one without, measured beside it.

PostgreSQL: FEEDBACK_BENCH_WEBHOOKS_POSTGRES (default
postgresql://postgres@127.0.0.1:5432/test_webhooks) names a database whose public schema is
dropped and recreated for each run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
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

from bench.bench_submissions import ADMIN_TOKEN, bench_org, publish_survey  # noqa: E402
from bench.survey import ANSWERS, DEFINITION  # noqa: E402

PG_URL = os.environ.get(
    "FEEDBACK_BENCH_WEBHOOKS_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test_webhooks"
)
PORT = 8870
RECEIVER_PORT = 8879
PATH = "/api/v1/public/bench/bench/responses"


@dataclass(frozen=True)
class Run:
    rps: float
    p99_ms: float
    stored: int
    delivered: int
    drain_s: float


def wait_http(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.2)


@contextmanager
def receiver(workdir: Path) -> Iterator[str]:
    log = (workdir / "receiver.log").open("w")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "bench.webhook_receiver:app"),
            *("--port", str(RECEIVER_PORT), "--loop", "uvloop", "--http", "httptools"),
            *("--no-access-log", "--log-level", "warning"),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{RECEIVER_PORT}"
    try:
        wait_http(base + "/count", process, "the receiver")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def received(base: str) -> int:
    return int(httpx.get(base + "/count", timeout=10).json()["distinct"])


def fresh_database(db: str, workdir: Path, name: str) -> str:
    if db == "sqlite":
        return f"sqlite:///{workdir / (name + '.db')}"
    engine = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return PG_URL


def count(url: str, sql: str) -> int:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("///", 1)[1]) as conn:
            return int(conn.execute(sql).fetchone()[0])
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.connect() as conn:
        value = conn.execute(sa.text(sql)).scalar_one()
    engine.dispose()
    return int(value)


@contextmanager
def feedback(url: str, workdir: Path, name: str, worker: str) -> Iterator[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FEEDBACK_DATABASE_URL": url,
        "FEEDBACK_ADMIN_TOKEN": ADMIN_TOKEN,
        "FEEDBACK_SECRET_KEY": "bench-secret-key-0123456789-abcdefghij",
        "FEEDBACK_PUBLIC_RATE_LIMIT": "0",
        "FEEDBACK_WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver is on loopback
        "FEEDBACK_EMBEDDED_WORKER": "true" if worker == "embedded" else "false",
    }
    log = (workdir / f"{name}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "feedback", "serve", "--port", str(PORT)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{PORT}"
    worker_process = None
    try:
        wait_http(base + "/health", process, "feedback serve")
        if worker == "process":
            worker_process = subprocess.Popen(
                [sys.executable, "-m", "feedback", "worker"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        yield base
    finally:
        for running in (worker_process, process):
            if running is not None:
                running.terminate()
                running.wait(timeout=60)
        log.close()


def burst_of(base: str, url: str, requests: int, connections: int) -> tuple[float, float]:
    """(submissions a second, p99 ms) of a burst of `requests` submissions.

    wrk's thread stops itself soon after `requests` (bench/submit.lua), but wrk itself only
    ends at its duration, so the time the burst took is read from the database: from wrk's
    start until the responses table holds them all (polled every 20 ms). wrk is then
    interrupted (SIGINT), which makes it print its latency figures."""
    answers = json.dumps(ANSWERS, separators=(",", ":"))
    target = count(url, "SELECT count(*) FROM response") + requests
    started = time.monotonic()
    process = subprocess.Popen(
        [
            *("wrk", "-t1", f"-c{connections}", "-d600s", "--latency"),
            *("-s", str(ROOT / "bench/submit.lua"), base, "--", PATH, answers),
            # Its stop may leave up to a request per connection unsent: room for them.
            str(requests + 2 * connections),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    while count(url, "SELECT count(*) FROM response") < target:
        if process.poll() is not None or time.monotonic() - started > 600:
            raise RuntimeError("the burst did not complete")
        time.sleep(0.02)
    elapsed = time.monotonic() - started
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=30)
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise RuntimeError(f"requests were refused:\n{out}")
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    assert p99 is not None, out
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return requests / elapsed, float(p99.group(1)) * scale


def measure(
    db: str, *, webhook: str | None, burst: int, connections: int, workdir: Path, worker: str
) -> Run:
    name = f"{db}-{'webhook' if webhook else 'none'}"
    url = fresh_database(db, workdir, name)
    with feedback(url, workdir, name, worker) as base:
        with httpx.Client(base_url=base, timeout=30) as client:
            auth = bench_org(client)
            survey = {"slug": "bench", "title": "Bench", "definition": DEFINITION}
            publish_survey(client, auth, survey)
            if webhook:
                client.post(
                    "/api/v1/webhooks",
                    json={"url": webhook + "/hook", "events": ["response.created"]},
                    headers=auth,
                ).raise_for_status()
        seen_before = received(webhook) if webhook else 0  # the receiver serves a round
        burst_of(base, url, 500, connections)  # warm up: pools, caches, the wave row
        time.sleep(1)
        rps, p99 = burst_of(base, url, burst, connections)
        burst_end = time.monotonic()
        time.sleep(1)  # the last requests wrk sent before it was stopped
        stored = count(url, "SELECT count(*) FROM response")
        delivered, drain = 0, 0.0
        if webhook and worker != "none":
            done = "SELECT count(*) FROM webhook_delivery WHERE status='delivered'"
            deadline = burst_end + 900
            while (
                (delivered := received(webhook) - seen_before) < stored or count(url, done) < stored
            ) and time.monotonic() < deadline:
                time.sleep(0.2)
            drain = time.monotonic() - burst_end
            outbox = count(url, done)
            # One event per response, each arrived (under one distinct webhook-id) and recorded.
            assert delivered == outbox == stored, (delivered, outbox, stored)
    return Run(rps, p99, stored, delivered, drain)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--worker",
        choices=["embedded", "process", "none"],
        default="embedded",
        help="who delivers: `feedback serve` itself, a `feedback worker` process, or nobody "
        "(the cost of writing the events alone)",
    )
    args = parser.parse_args()
    databases = args.databases.split(",")
    runs: dict[tuple[str, bool], list[Run]] = {(d, w): [] for d in databases for w in (False, True)}
    with tempfile.TemporaryDirectory(prefix="feedback-bench-webhooks-") as tmp:
        for round_ in range(args.rounds):
            workdir = Path(tmp) / f"round{round_}"
            workdir.mkdir()
            with receiver(workdir) as hook:
                for db in databases:
                    for with_webhook in (False, True):
                        run = measure(
                            db,
                            webhook=hook if with_webhook else None,
                            burst=args.burst,
                            connections=args.connections,
                            workdir=workdir,
                            worker=args.worker,
                        )
                        runs[(db, with_webhook)].append(run)
                        label = f"round {round_ + 1} {db} webhook={with_webhook}"
                        print(f"{label}: {run}", file=sys.stderr)
    print(
        f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; {args.rounds} "
        f"rounds, bursts of {args.burst} submissions, wrk -t1 -c{args.connections}, "
        f"delivered by: {args.worker}\n"
    )
    print(
        "| database | webhook | submissions/s (median) | p99 ms (median) | × without "
        "(median of rounds) | events delivered (each run) | drained s after burst (median) |"
    )
    print("|---|---|---:|---:|---:|---|---:|")
    for db in databases:
        for with_webhook in (False, True):
            got = runs[(db, with_webhook)]
            base = runs[(db, False)]
            ratios = [r.rps / b.rps for r, b in zip(got, base, strict=True)]
            delivered = ", ".join(f"{r.delivered}/{r.stored}" for r in got) if with_webhook else "–"
            drain = f"{statistics.median(r.drain_s for r in got):.1f}" if with_webhook else "–"
            print(
                f"| {db} | {'yes' if with_webhook else 'no'} | "
                f"{statistics.median(r.rps for r in got):.0f} | "
                f"{statistics.median(r.p99_ms for r in got):.1f} | "
                f"{statistics.median(ratios):.2f} ({', '.join(f'{x:.2f}' for x in ratios)}) | "
                f"{delivered} | {drain} |"
            )


if __name__ == "__main__":
    main()
