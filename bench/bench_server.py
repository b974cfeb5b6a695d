"""Which ASGI server `feedback serve` uses: uvicorn against granian, same app, same run.

    .venv/bin/python bench/bench_server.py [--rounds 3] [--seconds 8] [--connections 64]

Each round starts the real app (create_served_app, SQLite, one worker) under each server in turn and
drives it with `wrk` (one thread) on loopback: GET /health (the framework and server alone) and
GET /api/v1/org (an authenticated request: key lookup and one query). Medians over the rounds
are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PY = Path(sys.executable)
BIN = PY.parent

SERVERS = {
    "uvicorn": [
        str(BIN / "uvicorn"),
        "--factory",
        "feedback.api.app:create_served_app",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--port",
        "{port}",
    ],
    "granian": [
        str(BIN / "granian"),
        "--interface",
        "asgi",
        "--factory",
        "--loop",
        "uvloop",
        "--no-ws",
        "--port",
        "{port}",
        "feedback.api.app:create_served_app",
    ],
}


def _wrk(url: str, seconds: int, connections: int, key: str | None) -> tuple[float, float]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if key:
        cmd[1:1] = ["-H", f"Authorization: Bearer {key}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return rps, float(p99.group(1)) * scale


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="feedback-bench-server-"))
    env = {
        **os.environ,
        "FEEDBACK_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'bench.db'}",
        "FEEDBACK_ADMIN_TOKEN": "bench-admin",
        "FEEDBACK_SECRET_KEY": "bench-secret-key-0123456789-abcdefghij",
    }
    subprocess.run([str(BIN / "feedback"), "db", "upgrade"], env=env, check=True)
    key = subprocess.run(
        [str(BIN / "feedback"), "org", "create", "bench", "--name", "Bench"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    port = 8765
    for _ in range(args.rounds):
        for name, template in SERVERS.items():
            cmd = [part.replace("{port}", str(port)) for part in template]
            server = subprocess.Popen(
                cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            try:
                for _ in range(100):
                    try:
                        httpx.get(f"http://127.0.0.1:{port}/health", timeout=0.5)
                        break
                    except httpx.HTTPError:
                        time.sleep(0.1)
                for route, auth in (("/health", None), ("/api/v1/org", key)):
                    results.setdefault((name, route), []).append(
                        _wrk(
                            f"http://127.0.0.1:{port}{route}", args.seconds, args.connections, auth
                        )
                    )
            finally:
                server.terminate()
                server.wait(timeout=10)
    print("| server | route | req/s (median) | p99 ms (median) |")
    print("|---|---|---:|---:|")
    for (name, route), runs in results.items():
        rps = statistics.median(r for r, _ in runs)
        p99 = statistics.median(p for _, p in runs)
        print(f"| {name} | `GET {route}` | {rps:,.0f} | {p99:.1f} |")


if __name__ == "__main__":
    main()
