"""What the public rate limit costs per request: host-local file vs Redis vs none, same run.

    .venv/bin/python bench/bench_ratelimit.py [--runs 5] [--hits 4000] [--requests 1000]

Three measurements, each variant interleaved with the others `--runs` times (medians reported):

1. The limiter alone, in process: `PublicRateLimit.hit` over the host-local SQLite file
   (`feedback.api.ratelimit_store`), over Redis (Debian's `redis-server`, started here on a free
   port), and over `limits`' in-memory storage (one process only: the floor of the library).
   `--hits` allowed hits spread over 1,000 client addresses, then refused hits (a full window:
   the hit and the window read that gives Retry-After).
2. Two processes hitting the host-local file at once (as two workers do): hits a second in
   total, against one process alone.
3. A public request through the app, in process (httpx's ASGI transport, no socket):
   `GET /api/v1/public/{org}/{survey}/form` on SQLite, `--requests` of them per run, with the
   limiter over the host file, over Redis, and with no limiter at all (a stub that allows
   everything, in place of the app's), taking turns every 100 requests. The difference is the
   limiter's cost per request.

Prints a Markdown table of medians; the figures are in BENCHMARKS.md ("Rate limits").
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from limits.aio.storage import MemoryStorage  # noqa: E402

from feedback import migrate  # noqa: E402
from feedback.api.app import create_app  # noqa: E402
from feedback.api.rate_limit import PublicRateLimit, storage_for  # noqa: E402
from feedback.api.ratelimit_store import SQLiteStorage  # noqa: E402
from feedback.config import Settings  # noqa: E402

ADMIN_TOKEN = "bench-admin-token"
SECRET = "bench-secret-key-0123456789-abcdefghij"
CLIENTS = 1000
LIMIT = 300


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir)]
    process = subprocess.Popen(
        [*command, "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(200):
        try:
            client.ping()
            return process, url
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def flush(url: str) -> None:
    with redis.Redis.from_url(url) as client:
        client.flushdb()


async def per_hit(limit: PublicRateLimit, hits: int, run: int) -> tuple[float, float]:
    """Microseconds per allowed hit, then per refused hit (a full window)."""
    started = time.perf_counter()
    for i in range(hits):
        assert await limit.hit(f"198.51.{i % CLIENTS // 250}.{i % 250}", "org", f"s{run}") == 0
    allowed = (time.perf_counter() - started) / hits * 1e6
    for _ in range(LIMIT):
        await limit.hit("203.0.113.1", "org", f"full{run}")
    refused_hits = max(100, hits // 10)
    started = time.perf_counter()
    for _ in range(refused_hits):
        assert await limit.hit("203.0.113.1", "org", f"full{run}") > 0
    refused = (time.perf_counter() - started) / refused_hits * 1e6
    return allowed, refused


def _hammer(path: str, seconds: float, name: str, ready: Barrier, counts: Queue[int]) -> None:
    async def run() -> int:
        limit = PublicRateLimit(10**9, SQLiteStorage(Path(path)))
        await limit.hit("warm-up", "org", name)
        ready.wait()  # every process imported and connected: start together
        done, until = 0, time.monotonic() + seconds
        while time.monotonic() < until:
            await limit.hit(f"{name}-{done % CLIENTS}", "org", "s")
            done += 1
        await limit.close()
        return done

    counts.put(asyncio.run(run()))


def hits_per_second(path: Path, processes: int, seconds: float) -> float:
    context = multiprocessing.get_context("spawn")
    ready, counts = context.Barrier(processes), context.Queue()
    workers = [
        context.Process(target=_hammer, args=(str(path), seconds, f"p{i}", ready, counts))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    total: int = sum(counts.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join()
    return total / seconds


class Timed(PublicRateLimit):
    """A limiter as the app sees it, with the time each hit took inside the request."""

    def __init__(self, inner: PublicRateLimit) -> None:
        self.inner = inner
        self.spent: list[float] = []

    async def hit(self, client: str, org: str, survey: str) -> int:
        started = time.perf_counter()
        wait = await self.inner.hit(client, org, survey)
        self.spent.append(time.perf_counter() - started)
        return wait

    async def close(self) -> None:
        await self.inner.close()


class NoLimit(PublicRateLimit):
    """The variant without a limiter: allows everything, touches nothing."""

    def __init__(self) -> None:
        pass

    async def hit(self, client: str, org: str, survey: str) -> int:
        return 0

    async def close(self) -> None:
        pass


async def per_request(
    settings: Settings,
    requests: int,
    runs: int,
    variants: dict[str, Callable[[], PublicRateLimit]],
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per variant: µs per request of each run; seconds of each hit inside a request."""
    # The app on this event loop (httpx's ASGI transport); peer 127.0.0.1 is a trusted proxy
    # here, so each request names its client in X-Forwarded-For, which stays under the limit.
    app = create_app(settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]}))
    timings: dict[str, list[float]] = {name: [] for name in variants}
    in_request: dict[str, list[float]] = {name: [] for name in variants}
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=transport, base_url="http://bench.local") as client,
    ):
        made = await client.post(
            "/api/v1/orgs",
            json={"slug": "bench", "name": "Bench"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        auth = {"Authorization": f"Bearer {made.json()['admin_key']}"}
        from bench.survey import DEFINITION

        survey = {"slug": "bench", "title": "Bench", "definition": DEFINITION}
        assert (await client.post("/api/v1/surveys", json=survey, headers=auth)).is_success
        assert (await client.post("/api/v1/surveys/bench/publish", headers=auth)).is_success
        own = app.state.public_rate_limit
        chunk = 100
        for run in range(runs + 1):  # the first round warms up and is not counted
            fresh_stores(settings)
            limits = {name: Timed(make()) for name, make in variants.items()}
            spent = dict.fromkeys(variants, 0.0)
            # Variants take turns every `chunk` requests, so that drift in the machine's load
            # falls on all of them alike.
            for start in range(0, requests, chunk):
                for name, limit in limits.items():
                    app.state.public_rate_limit = limit
                    started = time.perf_counter()
                    for i in range(start, start + chunk):
                        # A client of its own every 200 requests keeps every answer a 200.
                        client_address = f"198.51.{i // 200 // 250}.{i // 200 % 250}"
                        got = await client.get(
                            "/api/v1/public/bench/bench/form",
                            headers={"X-Forwarded-For": client_address},
                        )
                        assert got.status_code == 200, got.text
                    spent[name] += time.perf_counter() - started
            for name, limit in limits.items():
                await limit.close()
                if run:
                    timings[name].append(spent[name] / requests * 1e6)
                    in_request[name].extend(limit.spent)
        app.state.public_rate_limit = own
    return timings, in_request


def fresh_stores(settings: Settings) -> None:
    assert settings.redis_url
    flush(settings.redis_url)
    settings.resolved_ratelimit_file.unlink(missing_ok=True)


def median(values: list[float]) -> float:
    return statistics.median(values)


async def main_async(args: argparse.Namespace, workdir: Path, redis_url: str) -> None:
    url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    settings = Settings(
        database_url=url,
        admin_token=ADMIN_TOKEN,
        secret_key=SECRET,
        secret_key_file=workdir / "secret",
        ratelimit_file=workdir / "ratelimit.sqlite3",
        redis_url=redis_url,
    )
    with_redis = settings
    settings = settings.model_copy(update={"redis_url": None})

    stores: dict[str, Callable[[], PublicRateLimit]] = {
        "host file (SQLite)": lambda: PublicRateLimit(LIMIT, storage_for(settings)),
        "Redis": lambda: PublicRateLimit(LIMIT, storage_for(with_redis)),
        "memory (one process only)": lambda: PublicRateLimit(LIMIT, MemoryStorage()),
    }
    direct: dict[str, list[tuple[float, float]]] = {name: [] for name in stores}
    for run in range(args.runs + 1):
        for name, make in stores.items():
            fresh_stores(with_redis)
            limit = make()
            figures = await per_hit(limit, args.hits, run)
            await limit.close()
            if run:
                direct[name].append(figures)

    print(f"\n{platform.python_version()}, {args.runs} runs, medians\n")
    print("| store | µs per allowed hit | µs per refused hit (hit + window) |")
    print("|---|---:|---:|")
    for name, runs in direct.items():
        allowed = median([a for a, _ in runs])
        refused = median([r for _, r in runs])
        print(f"| {name} | {allowed:.0f} | {refused:.0f} |")

    contention = workdir / "contention.sqlite3"
    rates: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.runs):
        for processes in rates:
            contention.unlink(missing_ok=True)
            rates[processes].append(hits_per_second(contention, processes, 2.0))
    print("\n| processes on the host file | allowed hits a second, total |")
    print("|---:|---:|")
    for processes, values in rates.items():
        print(f"| {processes} | {median(values):,.0f} |")

    variants: dict[str, Callable[[], PublicRateLimit]] = {
        "no limiter": NoLimit,
        "host file (SQLite)": lambda: PublicRateLimit(LIMIT, storage_for(settings)),
        "Redis": lambda: PublicRateLimit(LIMIT, storage_for(with_redis)),
    }
    timings, in_request = await per_request(with_redis, args.requests, args.runs, variants)
    base = median(timings["no limiter"])
    print(
        "\n| public request (GET form, in process) | µs per request | ratio | the limiter "
        "inside it: median µs | p99 µs |"
    )
    print("|---|---:|---:|---:|---:|")
    for name, values in timings.items():
        value = median(values)
        spent = sorted(in_request[name])
        typical, p99 = median(spent) * 1e6, spent[int(len(spent) * 0.99)] * 1e6
        print(f"| {name} | {value:.0f} | {value / base:.2f}× | {typical:.0f} | {p99:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hits", type=int, default=4000)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        sys.exit("redis-server is needed (apt-get install redis-server)")
    with tempfile.TemporaryDirectory(prefix="bench-ratelimit-") as tmp:
        workdir = Path(tmp)
        migrate.upgrade(f"sqlite+aiosqlite:///{workdir / 'bench.db'}")
        process, redis_url = start_redis(workdir)
        try:
            asyncio.run(main_async(args, workdir, redis_url))
        finally:
            process.terminate()
            process.wait(timeout=20)


if __name__ == "__main__":
    main()
