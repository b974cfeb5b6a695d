"""Alembic owns the schema: head and base both reachable, and the models agree with it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import feedback.models  # noqa: F401
from feedback import migrate
from feedback.db import Base
from tests import database


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    url = database.configured_url()
    if url and url.startswith("postgresql"):
        fresh, admin = database.fresh_postgres_database(url)
        yield fresh
        database.drop_postgres_database(admin, fresh)
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(database.sync_url(url))
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_to_head_and_downgrade_to_base(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    assert _tables(empty_database_url) == set(Base.metadata.tables)
    migrate.downgrade(empty_database_url, "base")
    assert _tables(empty_database_url) == set()
    migrate.upgrade(empty_database_url)  # and back up again: downgrades leave nothing behind
    assert _tables(empty_database_url) == set(Base.metadata.tables)


def test_every_step_downgrades(empty_database_url: str) -> None:
    """Walk down one revision at a time, then up one at a time."""
    migrate.upgrade(empty_database_url)
    script = migrate.ScriptDirectory(str(migrate.MIGRATIONS))
    revisions = [r.revision for r in script.walk_revisions()]  # head first
    for revision in revisions:
        migrate.downgrade(empty_database_url, "-1")
        assert revision
    for _ in revisions:
        migrate.upgrade(empty_database_url, "+1")
    assert _tables(empty_database_url) == set(Base.metadata.tables)


def test_models_match_the_migrations(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    engine = sa.create_engine(database.sync_url(empty_database_url))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_every_revision_id_fits_alembic_version() -> None:
    # alembic_version.version_num is VARCHAR(32): PostgreSQL refuses a longer id at the upgrade;
    # SQLite does not check the length, so a suite on SQLite alone would not notice.
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    too_long = [s.revision for s in scripts.walk_revisions() if len(s.revision) > 32]
    assert too_long == []
