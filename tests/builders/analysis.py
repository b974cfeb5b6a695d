"""Build answer histories for analysis tests: responses imported into chosen waves, through the
real import route (NDJSON lines with `submitted_at`, a version and a respondent ref)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.config import Settings
from feedback.db import make_engine, make_sessionmaker
from feedback.surveys.models import Survey
from tests.builders.orgs import Org

NDJSON = {"Content-Type": "application/x-ndjson"}


def in_wave(wave: int, day: int = 15) -> str:
    """An instant inside wave `wave` of tests.builders.surveys.MONTHLY (wave 1 is January 2025,
    Amsterdam time): the `day` of that month at noon UTC."""
    month = wave - 1
    return f"{2025 + month // 12}-{month % 12 + 1:02d}-{day:02d}T12:00:00Z"


def line(
    wave: int,
    answers: dict[str, Any],
    *,
    respondent: str | None = None,
    version: int | None = None,
    day: int = 15,
) -> dict[str, Any]:
    out: dict[str, Any] = {"answers": answers, "submitted_at": in_wave(wave, day)}
    if respondent is not None:
        out["respondent_ref"] = respondent
    if version is not None:
        out["version"] = version
    return out


async def import_lines(
    client: AsyncTestClient[Litestar], org: Org, lines: list[dict[str, Any]], slug: str = "pulse"
) -> None:
    """Import the lines; every one must be stored."""
    body = "\n".join(json.dumps(item) for item in lines) + "\n"
    got = await client.post(
        f"/api/v1/surveys/{slug}/responses/import",
        content=body.encode(),
        headers={**org.auth("campaigner"), **NDJSON},
    )
    assert got.status_code == 200, got.text
    summary = got.json()
    assert summary["rejected"] == [] and summary["imported"] == len(lines), summary


@asynccontextmanager
async def session_on(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session of its own on the test database, to call the analysis service directly."""
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


async def survey_row(session: AsyncSession, slug: str = "pulse") -> Survey:
    return (await session.scalars(sa.select(Survey).where(Survey.slug == slug))).one()


def counted(wave: int, key: str, counts: dict[Any, int], **other: Any) -> list[dict[str, Any]]:
    """Lines answering `key` with each value as often as `counts` says (plus `other` answers)."""
    return [
        line(wave, {key: value, **other}) for value, times in counts.items() for _ in range(times)
    ]
