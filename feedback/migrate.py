"""Run Alembic from code: the CLI, the server's start-up and the tests share these."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


def _migrations() -> Path:
    """The Alembic scripts: `alembic/` at the top of the checkout, or inside an installed wheel
    (where pyproject.toml maps them to the package `feedback._alembic`)."""
    packaged = Path(__file__).parent / "_alembic"
    return packaged if packaged.is_dir() else Path(__file__).parents[1] / "alembic"


MIGRATIONS = _migrations()


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's configuration interpolates `%`: a URL spells `@` in a password as `%40`.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


async def current_revision(database_url: str) -> str | None:
    from sqlalchemy import inspect, text

    from feedback.db import make_engine

    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            has_table = await conn.run_sync(lambda c: inspect(c).has_table("alembic_version"))
            if not has_table:
                return None
            value = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            return str(value) if value is not None else None
    finally:
        await engine.dispose()


async def schema_revision(session: AsyncSession) -> str | None:
    """The revision the database's schema is at (what readiness compares with the head)."""
    revision: str | None = await session.scalar(text("SELECT version_num FROM alembic_version"))
    return revision
