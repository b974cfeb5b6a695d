"""`feedback backup PATH`: a consistent copy of the database while the server keeps serving.

SQLite: SQLite's online backup API copies every page inside one read transaction. feedback
keeps its databases in WAL mode, where a reader never blocks a writer, so submissions go on
while the copy is made; the copy is the database as it was when the copy began, with every
transaction committed by then and none half-written. (Copying in steps, the other way to spare
writers, restarts from the first page whenever another connection writes between two steps:
under steady submissions it would never finish.) The copy is written beside PATH under a
temporary name, checked with `PRAGMA integrity_check`, then renamed into place.

PostgreSQL: `pg_dump --format=custom` (a consistent snapshot, taken without blocking writers),
run if it is on PATH; otherwise the command is printed for the operator to run.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, make_url


class BackupFailed(Exception):
    """The copy could not be made or is not sound; the message says why."""


@dataclass(frozen=True, slots=True)
class BackupDone:
    path: Path
    bytes: int
    seconds: float
    how: str


def backup(database_url: str, target: Path) -> BackupDone:
    """Copy the database at `database_url` to `target` (which must not exist yet)."""
    if target.exists():
        raise BackupFailed(f"{target} exists already: name a new file.")
    started = time.monotonic()
    if database_url.startswith("sqlite"):
        try:
            how = _sqlite(database_url, target)
        except (sqlite3.Error, OSError) as exc:  # a missing directory, a full disk, ...
            raise BackupFailed(f"The copy to {target} failed: {exc}.") from exc
    elif database_url.startswith("postgresql"):
        how = _pg_dump(database_url, target)
    else:
        raise BackupFailed(f"No backup for {make_url(database_url).drivername} databases.")
    return BackupDone(target, target.stat().st_size, time.monotonic() - started, how)


def _sqlite(database_url: str, target: Path) -> str:
    name = make_url(database_url).database
    if not name or name == ":memory:" or not Path(name).exists():
        raise BackupFailed(f"No SQLite database file at {name!r}.")
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    source = sqlite3.connect(name)
    copy = sqlite3.connect(partial)
    try:
        source.execute("PRAGMA busy_timeout = 30000")
        source.backup(copy, pages=-1)  # all pages in one step: one snapshot (see above)
        verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise BackupFailed(f"The copy failed its integrity check: {verdict}")
        # The copy keeps WAL mode; fold its log into the file so PATH alone is the database.
        copy.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except BaseException:
        copy.close()
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    copy.close()
    os.replace(partial, target)
    return "sqlite3 online backup, integrity checked"


def pg_dump_command(database_url: str, target: Path) -> tuple[list[str], dict[str, str]]:
    """The pg_dump call for `database_url`, with its password moved to the environment
    (`PGPASSWORD`) so that it shows up in no process list."""
    url = make_url(database_url)
    env = {"PGPASSWORD": str(url.password)} if url.password else {}
    # URL.set(password=None) would keep the password: None means "unchanged" there.
    bare = URL.create("postgresql", url.username, None, url.host, url.port, url.database)
    dsn = bare.update_query_dict(dict(url.query)).render_as_string(hide_password=False)
    return ["pg_dump", "--format=custom", "--no-owner", f"--file={target}", dsn], env


def _pg_dump(database_url: str, target: Path) -> str:
    command, env = pg_dump_command(database_url, target)
    if shutil.which("pg_dump") is None:
        raise BackupFailed(
            "pg_dump is not on PATH. Install the PostgreSQL client of the server's major "
            f"version, or run elsewhere: {' '.join(command)}"
        )
    done = subprocess.run(  # noqa: S603 -- fixed program, arguments from our own settings
        command, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        Path(target).unlink(missing_ok=True)
        raise BackupFailed(f"pg_dump failed: {done.stderr.strip()}")
    return "pg_dump --format=custom (restore with pg_restore)"
