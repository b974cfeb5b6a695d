"""Crash safety, proven on the real server: `feedback serve --workers 2` as a process of its own
under concurrent submissions, one worker killed with SIGKILL, the database dropping every
connection (PostgreSQL), and the whole server killed and started again. Afterwards every
acknowledged submission is stored exactly once, and each that failed succeeds when sent again
with the same response_id and body.

RELIABILITY.md records longer runs of the same harness (`python -m tests.test_crash_safety`).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from feedback.config import Settings
from tests import database
from tests.builders.responses import pulse_answers
from tests.builders.surveys import pulse_definition
from tests.conftest import ADMIN_TOKEN

CONCURRENCY = 16
# Submissions acknowledged between two faults, at least.
PHASE = 40
PHASE_DEADLINE = 120


@dataclass
class Tally:
    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: int = 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`feedback serve` in a process group of its own."""

    def __init__(self, settings: Settings, port: int, workdir: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "FEEDBACK_DATABASE_URL": settings.database_url,
            "FEEDBACK_ADMIN_TOKEN": ADMIN_TOKEN,
            "FEEDBACK_SECRET_KEY": settings.resolved_secret_key(),
            "FEEDBACK_PUBLIC_RATE_LIMIT": "0",
        }
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "feedback", "serve", "--workers", "2"]
        command += ["--port", str(self.port), "--no-migrate"]
        self.process = subprocess.Popen(
            command,
            env=self.env,
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=(self.workdir / "server.log").open("ab"),
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("feedback serve did not start")

    def workers(self) -> list[int]:
        assert self.process is not None
        found = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        )
        pids = [int(p) for p in found.stdout.split()]
        return [p for p in pids if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]

    def kill_worker(self) -> int:
        victim = self.workers()[0]
        os.kill(victim, signal.SIGKILL)
        return victim

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


async def _load(client: httpx.AsyncClient, org: str, tally: Tally, stop: asyncio.Event) -> None:
    while not stop.is_set():
        body = {"response_id": str(uuid.uuid4()), "version": 1, "answers": pulse_answers()}
        tally.sent += 1
        try:
            got = await client.post(f"/api/v1/public/{org}/pulse/responses", json=body)
        except httpx.HTTPError:
            tally.failed[body["response_id"]] = body
            await asyncio.sleep(0.2)  # the server may be starting again: each try is a new id
            continue
        if got.status_code in (200, 201):
            tally.acknowledged[body["response_id"]] = body
        else:
            tally.failed[body["response_id"]] = body


async def _phase(tally: Tally, acknowledged: int, seconds: float) -> None:
    """Wait until `acknowledged` submissions in all were acknowledged and `seconds` have passed:
    each fault then strikes a server under load, however slow the machine (a phase bounded by
    time alone once saw 16 submissions in all, on a loaded CI machine)."""
    started = time.monotonic()
    while len(tally.acknowledged) < acknowledged or time.monotonic() - started < seconds:
        assert time.monotonic() - started < PHASE_DEADLINE, (
            f"{len(tally.acknowledged)} of {acknowledged} acknowledged after {PHASE_DEADLINE} s"
        )
        await asyncio.sleep(0.05)


async def _retry(client: httpx.AsyncClient, org: str, tally: Tally) -> None:
    for response_id, body in list(tally.failed.items()):
        deadline = time.monotonic() + 60
        while True:
            try:
                got = await client.post(f"/api/v1/public/{org}/pulse/responses", json=body)
                if got.status_code in (200, 201):
                    tally.acknowledged[response_id] = body
                    break
                assert got.status_code >= 500, got.text  # a refusal would be a lost answer
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"{response_id} never succeeded"
            await asyncio.sleep(0.2)


def _terminate_connections(url: str) -> int:
    engine = sa.create_engine(database.sync_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return len(
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
            )
    finally:
        engine.dispose()


def _stored(url: str) -> dict[str, int]:
    engine = sa.create_engine(database.sync_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT response_id, count(*) FROM response GROUP BY response_id")
            ).all()
    finally:
        engine.dispose()
    return {str(uuid.UUID(str(r[0]))): int(r[1]) for r in rows}


async def publish_pulse(client: httpx.AsyncClient, org: str) -> None:
    """Organisation `org` with the always-open survey `pulse` published, over HTTP."""
    made = await client.post(
        "/api/v1/orgs",
        json={"slug": org, "name": org.title()},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    auth = {"Authorization": f"Bearer {made.json()['admin_key']}"}
    survey = {"slug": "pulse", "title": "P", "definition": pulse_definition()}
    assert (await client.post("/api/v1/surveys", json=survey, headers=auth)).is_success
    assert (await client.post("/api/v1/surveys/pulse/publish", headers=auth)).is_success


async def run_faults(settings: Settings, workdir: Path, seconds: float = 6.0) -> dict[str, int]:
    """The harness: load, faults at fixed moments, retries, then the count. Returns figures."""
    postgres = settings.database_url.startswith("postgresql")
    server = Server(settings, _free_port(), workdir)
    server.start()
    figures = {"workers_killed": 0, "connections_terminated": 0, "restarts": 0}
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            await publish_pulse(client, "crash")
            tally = Tally()
            stop = asyncio.Event()
            load = [
                asyncio.create_task(_load(client, "crash", tally, stop)) for _ in range(CONCURRENCY)
            ]
            try:
                await _phase(tally, PHASE, seconds * 0.25)
                server.kill_worker()
                figures["workers_killed"] += 1
                await _phase(tally, 2 * PHASE, seconds * 0.25)
                if postgres:
                    figures["connections_terminated"] += _terminate_connections(
                        settings.database_url
                    )
                await _phase(tally, 3 * PHASE, seconds * 0.2)
                server.kill()
                before_restart = len(tally.acknowledged)
                # The clients keep sending while the server starts again, as real ones would.
                await asyncio.to_thread(server.start)
                figures["restarts"] += 1
                await _phase(tally, before_restart + PHASE, seconds * 0.3)
            finally:
                stop.set()
                await asyncio.gather(*load)
            figures["acknowledged_after_restart"] = len(tally.acknowledged) - before_restart
            failed = len(tally.failed)
            await _retry(client, "crash", tally)
        stored = _stored(settings.database_url)
        assert all(count == 1 for count in stored.values()), "a response was stored twice"
        assert set(stored) == set(tally.acknowledged), (
            f"{len(set(tally.acknowledged) - set(stored))} acknowledged and lost, "
            f"{len(set(stored) - set(tally.acknowledged))} stored unacknowledged"
        )
        figures |= {
            "sent": tally.sent,
            "failed_then_retried": failed,
            "stored": len(stored),
            "lost": 0,
        }
        return figures
    finally:
        server.stop()


async def test_acknowledged_submissions_survive_kills_and_dropped_connections(
    settings: Settings, tmp_path: Path
) -> None:
    figures = await run_faults(settings, tmp_path)
    assert figures["restarts"] == 1 and figures["acknowledged_after_restart"] >= PHASE
    assert figures["stored"] >= 4 * PHASE


if __name__ == "__main__":  # longer runs for RELIABILITY.md: DATABASE_URL SECONDS
    from feedback import migrate

    url, seconds = sys.argv[1], float(sys.argv[2])
    migrate.upgrade(url)
    here = Path("/tmp") / f"crash-{uuid.uuid4().hex[:6]}"
    here.mkdir()
    run = Settings(database_url=url, secret_key="crash-safety-secret-0123456789-abcdef")
    print(asyncio.run(run_faults(run, here, seconds)))
