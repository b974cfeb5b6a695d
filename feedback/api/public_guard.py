"""What stands before the public survey routes: a rate limit per client and survey, and CORS
answered from the survey's own `allowed_origins`.

`PublicSurveyGuard` is middleware for any route whose path has `{org}` and `{survey}`
parameters (the public JSON API; the hosted form may add it too):

- Rate limit: a token bucket per (client address, org, survey) of `FEEDBACK_PUBLIC_RATE_LIMIT`
  requests a minute (burst up to the same number). Over it: 429 with `Retry-After`. The buckets
  live in this process: with N workers a client may get up to N times the limit, which still
  bounds abuse; a shared limit would need a shared store, which we do not run.
- CORS: a request with an `Origin` the survey allows gets `Access-Control-Allow-Origin` for that
  origin (never `*`), and preflights are answered here; an origin not allowed gets no CORS
  header, and its writes (POST, PUT) are refused with 403 before the handler runs. Every answer
  says `Vary: Origin`. Requests without `Origin` (same-origin pages, scripts) pass untouched.

The body cap (413) is the app's `request_max_body_size` (`FEEDBACK_MAX_BODY_BYTES`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable
from typing import Any

from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from feedback.api.deps import sessions_of, settings_of
from feedback.errors import DomainError, RateLimited
from feedback.surveys.service import get_public_survey, survey_settings

ALLOWED_METHODS = "GET, POST, PUT, OPTIONS"
ALLOWED_HEADERS = "Content-Type, X-Edit-Token, If-Match"
EXPOSED_HEADERS = "ETag, Retry-After, Location"
PREFLIGHT_MAX_AGE = "600"
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CACHEABLE = frozenset({"GET", "HEAD"})


class RateLimiter:
    """Token buckets: each key holds up to `per_minute` tokens, refilled continuously."""

    # Buckets idle long enough to be full again say nothing; they are dropped this often.
    PRUNE_EVERY = 10_000

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[Hashable, tuple[float, float]] = {}
        self._hits = 0

    def hit(self, key: Hashable) -> int:
        """Take a token for `key`: 0 when allowed, else the seconds until one is available."""
        now = self._clock()
        self._hits += 1
        if self._hits % self.PRUNE_EVERY == 0:
            self._prune(now)
        tokens, last = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0
        self._buckets[key] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / self.rate))

    def _prune(self, now: float) -> None:
        full_after = self.capacity / self.rate
        self._buckets = {
            key: (tokens, last)
            for key, (tokens, last) in self._buckets.items()
            if now - last < full_after
        }


def limiter_of(state: State) -> RateLimiter:
    limiter: RateLimiter | None = state.get("public_limiter")
    if limiter is None:
        limiter = RateLimiter(settings_of(state).public_rate_limit)
        state.public_limiter = limiter
    return limiter


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
            client = scope.get("client")
            address = client[0] if client else "unknown"
            wait = limiter_of(state).hit((address, org, survey))
            if wait:
                raise RateLimited("Too many requests to this survey; slow down.", wait)
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
