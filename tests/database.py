"""Test databases built by the real migrations, one clean database per test.

Each test gets an empty, fully migrated database: on SQLite a copy of a template file
migrated once per run; on PostgreSQL the tables of a database migrated once per run,
truncated before each test. We do not wrap tests in a rolled-back outer transaction (the
polar pattern) because the code under test commits on purpose: concurrent
submissions race on unique constraints in separate transactions and group commit shares
one transaction between requests, which an outer test transaction would hide.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path

import sqlalchemy as sa

from feedback import migrate
from feedback.config import normalise_database_url

PG_ENV = "FEEDBACK_TEST_DATABASE_URL"


def configured_url() -> str | None:
    url = os.environ.get(PG_ENV)
    return normalise_database_url(url) if url else None


def sync_url(url: str) -> str:
    return url.replace("+asyncpg", "+psycopg2").replace("+aiosqlite", "")


def reset_postgres(url: str) -> None:
    """Drop everything in the public schema, then migrate to head."""
    engine = sa.create_engine(sync_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(url)


def truncate_postgres(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        tables = conn.execute(
            sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(f'"{t}"' for t in tables)
        if names:
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def make_sqlite_template(directory: Path) -> Path:
    template = directory / "template.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{template}")
    return template


def copy_sqlite(template: Path, directory: Path) -> str:
    target = directory / f"{uuid.uuid4().hex}.db"
    src = sqlite3.connect(template)
    dst = sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite+aiosqlite:///{target}"


def fresh_postgres_database(url: str) -> tuple[str, sa.Engine]:
    """A new empty database beside the configured one (for the migration round trip)."""
    name = f"feedback_mig_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(sync_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}", admin


def drop_postgres_database(admin: sa.Engine, url: str) -> None:
    name = url.rpartition("/")[2]
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
