"""A real PostgreSQL 15 streaming replica of the test server, on loopback, for the tests.

Made the way an operator makes one on Debian: `pg_createcluster` for the configuration,
`pg_basebackup -R` from the primary (which writes the standby settings), `pg_ctlcluster` to
start and stop it, `pg_dropcluster` to remove it. The primary must accept replication
connections from 127.0.0.1; when its pg_hba.conf does not, a trust line is added for the run
and taken out again afterwards (this is a test machine's server; the line is marked).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

VERSION = "15"
NAME = "feedback_test_replica"
HBA_LINE = "host replication all 127.0.0.1/32 trust  # added by feedback's replica tests\n"


@dataclass(frozen=True)
class Replica:
    url: str  # the test database on the replica, same driver as the primary's URL
    port: int

    def stop(self) -> None:
        _run("pg_ctlcluster", "--skip-systemctl-redirect", VERSION, NAME, "stop", "-m", "fast")

    def start(self) -> None:
        _run("pg_ctlcluster", "--skip-systemctl-redirect", VERSION, NAME, "start")
        _wait_ready(self.port)


def missing_tools() -> str | None:
    """Why a replica cannot be made here, or None."""
    for tool in ("pg_createcluster", "pg_ctlcluster", "pg_dropcluster", "pg_basebackup"):
        if shutil.which(tool) is None and not Path(f"/usr/lib/postgresql/{VERSION}/bin").exists():
            return f"{tool} is not installed"
    if os.geteuid() != 0:
        return "making a PostgreSQL cluster needs root (pg_createcluster)"
    return None


@contextmanager
def streaming_replica(primary_url: str) -> Iterator[Replica]:
    primary = make_url(primary_url)
    host, primary_port = primary.host or "127.0.0.1", primary.port or 5432
    port = _free_port()
    added = _allow_replication(primary_url)
    _drop()
    try:
        _run("pg_createcluster", VERSION, NAME, "--port", str(port))
        # Like the test primary: trust on the socket and loopback, nothing else.
        Path(f"/etc/postgresql/{VERSION}/{NAME}/pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        )
        data = Path(f"/var/lib/postgresql/{VERSION}/{NAME}")
        for entry in data.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        basebackup = Path(f"/usr/lib/postgresql/{VERSION}/bin/pg_basebackup")
        _run(
            "su", "postgres", "-c",
            f"{basebackup} -h {host} -p {primary_port} -U {primary.username or 'postgres'} "
            f"-D {data} -R -X stream -c fast",
        )  # fmt: skip
        replica = Replica(str(primary.set(port=port)), port)
        replica.start()
        yield replica
    finally:
        _drop()
        if added:
            _disallow_replication(primary_url)


def _drop() -> None:
    listed = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=False)
    if any(line.split()[:2] == [VERSION, NAME] for line in listed.stdout.splitlines()):
        _run("pg_dropcluster", "--stop", VERSION, NAME)


def _hba_file(primary_url: str) -> Path:
    with _admin(primary_url) as conn:
        return Path(conn.execute(sa.text("SHOW hba_file")).scalar_one())


def _allow_replication(primary_url: str) -> bool:
    hba = _hba_file(primary_url)
    if HBA_LINE in hba.read_text():
        return False
    with hba.open("a") as out:
        out.write(HBA_LINE)
    _reload(primary_url)
    return True


def _disallow_replication(primary_url: str) -> None:
    hba = _hba_file(primary_url)
    hba.write_text(hba.read_text().replace(HBA_LINE, ""))
    _reload(primary_url)


def _reload(primary_url: str) -> None:
    with _admin(primary_url) as conn:
        conn.execute(sa.text("SELECT pg_reload_conf()"))


@contextmanager
def _admin(url: str) -> Iterator[sa.Connection]:
    sync = url.replace("+asyncpg", "+psycopg2")
    engine = sa.create_engine(sync, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _wait_ready(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = subprocess.run(
            ["pg_isready", "-h", "127.0.0.1", "-p", str(port), "-q"], check=False
        )
        if ready.returncode == 0:
            return
        time.sleep(0.2)
    raise TimeoutError(f"the replica on port {port} did not become ready")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, text=True)


def caught_up(primary_url: str, replica_url: str, timeout: float = 30.0) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    with _admin(primary_url) as conn:
        target = conn.execute(sa.text("SELECT pg_current_wal_lsn()")).scalar_one()
    deadline = time.monotonic() + timeout
    with _admin(replica_url) as conn:
        while time.monotonic() < deadline:
            behind = conn.execute(
                sa.text("SELECT pg_wal_lsn_diff(:target, pg_last_wal_replay_lsn()) > 0"),
                {"target": target},
            ).scalar_one()
            if not behind:
                return
            time.sleep(0.05)
    raise TimeoutError("the replica did not catch up")


def set_replay(replica_url: str, *, paused: bool) -> None:
    with _admin(replica_url) as conn:
        conn.execute(sa.text(f"SELECT pg_wal_replay_{'pause' if paused else 'resume'}()"))
