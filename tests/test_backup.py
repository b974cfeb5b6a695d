"""`feedback backup` while the real server takes submissions: the copy, restored, holds every
submission acknowledged before the backup began, each whole (its revision and every answer
row), and nothing that was never acknowledged. On SQLite the copy is the restored database; on
PostgreSQL `feedback backup` runs pg_dump and the test restores with pg_restore into a new
database (the commands docs/deployment.md gives)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import sqlalchemy as sa

from feedback.config import Settings
from tests import database
from tests.test_crash_safety import Server, Tally, _free_port, _load, _stored, publish_pulse

CONCURRENCY = 8
# Answer rows of one tests.builders.responses.pulse_answers() submission.
PULSE_VALUES = 7


async def _load_for(client: httpx.AsyncClient, tally: Tally, seconds: float) -> None:
    stop = asyncio.Event()
    load = [asyncio.create_task(_load(client, "backup", tally, stop)) for _ in range(CONCURRENCY)]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*load)


async def _backup_under_load(
    settings: Settings, workdir: Path, target: Path
) -> tuple[Tally, set[str]]:
    """Submissions from CONCURRENCY clients before, during and after `feedback backup`.
    Returns the tally and the ids acknowledged before the backup command started."""
    server = Server(settings, _free_port(), workdir)
    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            await publish_pulse(client, "backup")
            tally = Tally()
            await _load_for(client, tally, seconds=2)
            before = set(tally.acknowledged)
            command = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "feedback", "backup", str(target),
                env=server.env, cwd=workdir,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            backing_up = asyncio.create_task(command.communicate())
            while not backing_up.done():  # load in short rounds for as long as it takes
                await _load_for(client, tally, seconds=0.5)
            out, err = await backing_up
            assert command.returncode == 0, err.decode()
            assert out.decode().startswith(f"backed up to {target}: ")
            await _load_for(client, tally, seconds=1)
    finally:
        server.stop()
    return tally, before


def _restore(settings: Settings, dump: Path) -> tuple[str, sa.Engine | None]:
    """The URL of a database restored from `dump`, and (PostgreSQL) the engine to drop it."""
    if settings.database_url.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{dump}", None
    url, admin = database.fresh_postgres_database(settings.database_url)
    libpq = sa.make_url(database.sync_url(url)).set(drivername="postgresql")
    dsn = libpq.render_as_string(hide_password=False)
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={dsn}", str(dump)],
        check=True,
        capture_output=True,
    )
    return url, admin


def _incomplete(url: str) -> list[str]:
    """Responses of the copy without a revision or without all their answer rows."""
    engine = sa.create_engine(database.sync_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT r.response_id FROM response r WHERE "
                    "(SELECT count(*) FROM response_revision v WHERE v.response_id = r.id) <> 1 "
                    "OR (SELECT count(*) FROM answer a WHERE a.response_id = r.id) <> :n"
                ),
                {"n": PULSE_VALUES},
            ).all()
    finally:
        engine.dispose()
    return [str(r[0]) for r in rows]


async def test_a_backup_under_load_holds_every_acknowledged_submission(
    settings: Settings, tmp_path: Path
) -> None:
    target = tmp_path / "copy.backup"
    tally, before = await _backup_under_load(settings, tmp_path, target)
    url, admin = _restore(settings, target)
    try:
        copied = _stored(url)
        incomplete = _incomplete(url)
    finally:
        if admin is not None:
            database.drop_postgres_database(admin, url)
    assert len(before) > 50, "too little load to prove anything"
    assert before <= set(copied), f"{len(before - set(copied))} acknowledged and not copied"
    assert set(copied) <= set(tally.acknowledged), "the copy holds an unacknowledged response"
    assert all(count == 1 for count in copied.values())
    assert incomplete == []
    # The server went on taking submissions after the copy was made.
    assert len(tally.acknowledged) > len(copied)
