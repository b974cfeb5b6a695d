"""What stands before the public survey routes: a rate limit per client and survey, and CORS
answered from the survey's own `allowed_origins`.

`PublicSurveyGuard` is middleware for any route whose path has `{org}` and `{survey}`
parameters (the public JSON API; the hosted form may add it too):

- Rate limit: a moving window per (client address, org, survey) of `FEEDBACK_PUBLIC_RATE_LIMIT`
  requests a minute, shared by every worker (`feedback.api.rate_limit`); the client address is
  the peer's unless it is a trusted proxy (`feedback.api.client_address`). Over it: 429 with
  `Retry-After`.
- CORS: a request with an `Origin` the survey allows gets `Access-Control-Allow-Origin` for that
  origin (never `*`), and preflights are answered here; an origin not allowed gets no CORS
  header, and its writes (POST, PUT) are refused with 403 before the handler runs. Every answer
  says `Vary: Origin`. Requests without `Origin` (same-origin pages, scripts) pass untouched.

The body cap (413) is the app's `request_max_body_size` (`FEEDBACK_MAX_BODY_BYTES`).
"""

from __future__ import annotations

from typing import Any

from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from feedback.api.client_address import ClientAddress
from feedback.api.deps import sessions_of
from feedback.api.problems import RateLimited
from feedback.api.rate_limit import PublicRateLimit
from feedback.errors import DomainError
from feedback.surveys.service import get_public_survey, survey_settings

ALLOWED_METHODS = "GET, POST, PUT, OPTIONS"
ALLOWED_HEADERS = "Content-Type, X-Edit-Token, If-Match"
EXPOSED_HEADERS = "ETag, Retry-After, Location"
PREFLIGHT_MAX_AGE = "600"
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CACHEABLE = frozenset({"GET", "HEAD"})


def rate_limit_of(state: State) -> PublicRateLimit:
    limit: PublicRateLimit = state.public_rate_limit  # made in the app's lifespan
    return limit


def client_of(state: State, scope: Scope) -> str:
    addresses: ClientAddress = state.client_address
    return addresses.of_scope(scope)


async def allowed_origins(state: State, org: str, survey: str) -> frozenset[str]:
    """The survey's allowed origins, read now (settings change at any time); none when the
    survey does not exist, so its 404 reaches no other origin either."""
    try:
        async with sessions_of(state)() as session:
            _, found = await get_public_survey(session, org_slug=org, survey_slug=survey)
    except DomainError:
        return frozenset()
    return frozenset(survey_settings(found).allowed_origins)


class PublicSurveyGuard(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        state: State = scope["litestar_app"].state
        params: dict[str, Any] = scope.get("path_params", {})
        org, survey = str(params.get("org", "")), str(params.get("survey", ""))
        method = str(scope.get("method", ""))
        headers = dict(scope["headers"])
        origin = headers.get(b"origin", b"").decode("latin-1") or None
        preflight = method == "OPTIONS" and b"access-control-request-method" in headers
        if not preflight:
            wait = await rate_limit_of(state).hit(client_of(state, scope), org, survey)
            if wait:
                raise RateLimited("Too many requests to this survey; slow down.", wait, origin)
        allowed = origin is not None and origin in await allowed_origins(state, org, survey)
        if preflight:
            await _preflight(send, origin if allowed else None)
            return
        if origin is not None and not allowed and method in _WRITES:
            raise PermissionDeniedException(
                detail=f"The origin {origin} may not submit to this survey (allowed_origins)."
            )
        if origin is None and method not in _CACHEABLE:
            # Nothing to add: no CORS answer, and no cache keeps a write's response.
            await next_app(scope, receive, send)
            return
        await next_app(scope, receive, _with_cors(send, origin if allowed else None))


def _with_cors(send: Send, origin: str | None) -> Send:
    added = [(b"vary", b"Origin")]
    if origin is not None:
        added += [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
        ]

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *added]
        await send(message)

    return wrapped


async def _preflight(send: Send, origin: str | None) -> None:
    headers = [(b"vary", b"Origin"), (b"content-length", b"0")]
    if origin is not None:
        headers += [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
            (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
            (b"access-control-max-age", PREFLIGHT_MAX_AGE.encode()),
        ]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
