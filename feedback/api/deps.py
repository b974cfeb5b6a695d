"""Per-request dependencies: the database session and who is calling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextvars import ContextVar
from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Response
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.analysis.rollups import Rollups
from feedback.clock import Clock
from feedback.config import Settings
from feedback.db import begin_write
from feedback.orgs.principal import Principal
from feedback.read_replica import ReadRouter, ReadTarget
from feedback.responses.submissions import Submissions

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# The status of the answer the handler returned, noted by `note_status` (the app's after_request
# hook, which Litestar runs before the dependencies' clean-up): the request's transaction commits
# only when it is 2xx. A context variable because the hook is handed the response alone; it is
# reset when the session is opened, so one request never sees another's status.
_answer_status: ContextVar[int | None] = ContextVar("answer_status", default=None)


async def note_status(response: Response[Any]) -> Response[Any]:
    _answer_status.set(response.status_code)
    return response


def sessions_of(state: State) -> async_sessionmaker[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = state.sessions
    return sessions


def settings_of(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


async def provide_db_session(
    request: Request[Any, Any, Any], state: State
) -> AsyncIterator[AsyncSession]:
    """One session per request, committed when the handler's answer is 2xx and rolled back
    otherwise (an exception, or a 4xx returned rather than raised), so a rejected request
    changes nothing. Services only flush."""
    _answer_status.set(None)
    async with sessions_of(state)() as session:
        if request.method not in _READ_METHODS:
            await begin_write(session)
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        status = _answer_status.get()
        if status is not None and 200 <= status < 300:
            await session.commit()
        else:
            await session.rollback()


def read_router_of(state: State) -> ReadRouter:
    router: ReadRouter = state.read_router
    return router


async def provide_read_session(
    request: Request[Any, Any, Any], state: State, now: NamedDependency[datetime]
) -> AsyncIterator[AsyncSession]:
    """A session on the database this request reads from (feedback.read_replica): a replica
    fresh enough, else the primary. It only reads, so nothing is committed; the target is kept
    on the request for `stamp_freshness` and for exports that stream on sessions of their own."""
    target = await read_router_of(state).choose(now)
    request.state.read_target = target
    async with target.sessions() as session:
        try:
            yield session
        finally:
            await session.rollback()


def read_target_of(request: Request[Any, Any, Any]) -> ReadTarget:
    target: ReadTarget = request.state.read_target
    return target


# Controllers and handlers that only read analysis data declare `dependencies = READS`: their
# `db_session` is then `provide_read_session`'s, on the replica when one is configured.
READS = {"db_session": Provide(provide_read_session)}
# A writing handler inside such a controller takes the primary's session back.
WRITES = {"db_session": Provide(provide_db_session)}


async def stamp_freshness(message: Any, scope: Any) -> None:
    """Tell the client how fresh a read answer is: `Data-As-Of` (the instant the data is
    complete up to) and `Data-Source` (primary or replica). A before_send hook, because the
    headers must go out with streamed exports too."""
    if message["type"] != "http.response.start":
        return
    target = (scope.get("state") or {}).get("read_target")
    if not isinstance(target, ReadTarget):
        return
    headers = list(message.get("headers") or [])
    headers.append((b"data-as-of", target.as_of.isoformat().encode()))
    headers.append((b"data-source", target.source.encode()))
    message["headers"] = headers


def submissions_of(state: State) -> Submissions:
    submissions: Submissions = state.submissions
    return submissions


def provide_submissions(state: State) -> Submissions:
    return submissions_of(state)


def clock_of(state: State) -> Clock:
    clock: Clock = state.clock
    return clock


def provide_now(state: State) -> datetime:
    """The request's instant, from the app's clock (feedback.clock)."""
    return clock_of(state)()


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal = request.state.principal
    return principal


def provide_settings(state: State) -> Settings:
    return settings_of(state)


def provide_rollups(state: State) -> Rollups:
    """Where analysis keeps trends rollups: the primary, whichever database it reads, on
    connections of their own (api/app.py says why)."""
    rollups: Rollups = state.rollups
    return rollups


# Handler parameter types: Litestar injects these by name.
DbSession = NamedDependency[AsyncSession]
Caller = NamedDependency[Principal]
AppSettings = NamedDependency[Settings]
# The instant the request is handled at (feedback.clock): pass it on as `now`.
Now = NamedDependency[datetime]
# Where trends rollups are written (feedback.analysis.rollups).
TrendRollups = NamedDependency[Rollups]
# Where supporters' answers go in (feedback.responses.submissions.Submissions.submit).
Submitter = NamedDependency[Submissions]
Limit = Annotated[int, QueryParameter(description="Page size, 1..500 (default 50).")]
Cursor = Annotated[str | None, QueryParameter(description="`next_cursor` of the previous page.")]
