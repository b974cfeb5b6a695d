"""The baselines of bench_submissions.py: a bare Litestar app that validates the same body as
feedback does (the same pydantic model and the same answer checks against the same definition),
then commits one INSERT per request (BENCH_MODE=sqlite|postgresql) or stores nothing
(BENCH_MODE=none: the framework's ceiling).

Run by bench_submissions.py as `uvicorn bench.bare_app:create_app --factory` with the same
server settings as `feedback serve`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from litestar import Litestar, post
from litestar.datastructures import State
from litestar.exceptions import ValidationException
from litestar.params import JSONBody

from bench.survey import DEFINITION
from feedback.config import normalise_database_url
from feedback.db import make_engine
from feedback.responses.schemas import SubmissionCreate
from feedback.surveys.answers import validate_answers
from feedback.surveys.definition import parse_definition

METADATA = sa.MetaData()
SUBMISSION = sa.Table(
    "bench_submission",
    METADATA,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("body", sa.JSON, nullable=False),
)
PARSED = parse_definition(DEFINITION, locales=[], default_locale="en")


@post("/submit", status_code=201)
async def submit(state: State, data: JSONBody[SubmissionCreate]) -> dict[str, Any]:
    errors = validate_answers(PARSED, data.answers)
    if errors:
        raise ValidationException(detail="invalid", extra=[e.pointer for e in errors])
    engine = state.get("engine")
    if engine is not None:
        async with engine.begin() as conn:
            await conn.execute(
                SUBMISSION.insert(),
                {"id": data.response_id, "body": data.model_dump(mode="json")},
            )
    return {"response_id": str(data.response_id), "revision": 1}


def create_app() -> Litestar:
    mode = os.environ.get("BENCH_MODE", "none")
    url = normalise_database_url(os.environ.get("BENCH_DATABASE_URL", ""))

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if mode == "none":
            yield
            return
        # SQLite gets one connection, as feedback's own writer does (docs/architecture.md: a pool
        # of writers only queues them on the file lock); PostgreSQL a pool like feedback's.
        engine = make_engine(url, pool_size=1 if mode == "sqlite" else 10)
        async with engine.begin() as conn:
            await conn.run_sync(METADATA.create_all)
        app.state.engine = engine
        try:
            yield
        finally:
            await engine.dispose()

    return Litestar(route_handlers=[submit], lifespan=[lifespan], debug=False)
