"""The session a streamed export reads through, given back even when the stream is cancelled.

When the client goes away, Litestar cancels the task sending the body through an anyio cancel
scope, which cancels every await in that task again until it leaves the scope: a plain
`async with sessions()` would have its close cancelled too, and the connection would stay
checked out until the garbage collector found it. The close runs shielded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@asynccontextmanager
async def export_session(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    session = sessions()
    try:
        yield session
    finally:
        await shielded(session.close)


async def shielded(cleanup: Callable[[], Awaitable[object]]) -> None:
    """Run `cleanup` to its end, whatever cancellation is going on around it."""
    with anyio.CancelScope(shield=True):
        await cleanup()
