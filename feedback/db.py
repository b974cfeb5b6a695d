"""Engine, sessions and the declarative Base: one code path for SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always handed back timezone-aware.

    SQLite has no timezone type, so naive values read back from it are UTC by construction.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        # TypeDecorator says `object`; pagination reads a cursor's values back by this type.
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """When a row was written, for columns that only record it (`created_at`); anything that
    decides by the date takes `now` from feedback.clock instead."""
    return datetime.now(UTC)


# PostgreSQL rolled the transaction back to break a deadlock or a serialization conflict; run
# again, it can succeed.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` is a database error that running the same transaction again may cure."""
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) in TRANSIENT_SQLSTATES


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def _configure_sqlite(sync_engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout, and transactions that really begin.

    pysqlite defers BEGIN until the first write, so a read-then-write could see stale data;
    we switch its transaction handling off and emit BEGIN ourselves. Write transactions ask
    for `BEGIN IMMEDIATE` (execution option `sqlite_begin`), taking the write lock up front
    so two writers queue on busy_timeout instead of failing with SQLITE_BUSY on upgrade.
    """

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    # hide_parameters: error messages never carry the values of a statement (answers, hashes).
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, pool_size=pool_size, max_overflow=0, pool_timeout=60, hide_parameters=True
        )
        _configure_sqlite(engine.sync_engine)
        return engine
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,
    )


def make_sqlite_sync_engine(url: str) -> Engine:
    """A blocking engine on the same SQLite file with one connection, configured like the async
    one, for a thread that batches many statements per call (feedback.responses.group_commit)
    instead of paying the async driver's thread hop on each."""
    sync_url = make_url(url).set(drivername="sqlite")
    engine = create_engine(
        sync_url,
        pool_size=1,
        max_overflow=0,
        connect_args={"check_same_thread": False},
        hide_parameters=True,
    )
    _configure_sqlite(engine)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def upsert_for(session: AsyncSession) -> Any:
    """The dialect's `insert`, which has `on_conflict_do_nothing`/`on_conflict_do_update`."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def begin_write(session: AsyncSession) -> None:
    """Mark the session's transaction as a writer (BEGIN IMMEDIATE on SQLite; no-op elsewhere)."""
    await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession], *, write: bool = True
) -> AsyncIterator[AsyncSession]:
    """A session whose work commits when the block ends normally and rolls back otherwise."""
    async with sessions() as session:
        if write:
            await begin_write(session)
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
