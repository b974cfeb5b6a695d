"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.datastructures import State
from litestar.exceptions import HTTPException

from feedback.api.deps import sessions_of
from feedback.migrate import head_revision, schema_revision


@get("/health", opt={"public": True}, operation_id="Health", tags=["operations"])
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/health/ready", opt={"public": True}, operation_id="Ready", tags=["operations"])
async def ready(state: State) -> dict[str, Any]:
    """Ready when the database answers and its schema is at the migrations' head."""
    expected: str | None = state.setdefault("head_revision", head_revision())
    try:
        async with sessions_of(state)() as session:
            current = await schema_revision(session)
    except Exception as exc:
        raise HTTPException(status_code=503, detail="The database is not reachable.") from exc
    if current != expected:
        raise HTTPException(
            status_code=503,
            detail=f"The database schema is at {current}, the code expects {expected}.",
        )
    return {"status": "ready", "database": "ok", "revision": current}
