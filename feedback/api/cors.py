"""CORS on the keyed API (`/api/v1/...` but the public routes, whose CORS is each survey's
`allowed_origins`, answered by `PublicSurveyGuard`).

Only the origins of `FEEDBACK_CORS_ALLOW_ORIGINS` get CORS headers, each its own origin back
(never `*`); no list, no middleware. A preflight from a listed origin is answered here with 204
before any route guard runs (it carries no key); from any other origin it goes on to the app's
own OPTIONS answer, without CORS headers, so the browser refuses the request. Keys travel in
`Authorization`, not cookies, so no credentials are allowed.
"""

from __future__ import annotations

from collections.abc import Iterable

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

ALLOWED_METHODS = b"GET, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOWED_HEADERS = b"Authorization, Content-Type, If-Match, If-None-Match, Accept, Accept-Language"
EXPOSED_HEADERS = b"ETag, Location, Retry-After, Content-Disposition, WWW-Authenticate"
PREFLIGHT_MAX_AGE = b"600"
_VARY = (b"vary", b"Origin")


class KeyedApiCors(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, allow_origins: Iterable[str]) -> None:
        self.allowed = frozenset(origin.encode("latin-1") for origin in allow_origins)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        origin = allowed_origin = None
        preflight = False
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value
            elif name == b"access-control-request-method":
                preflight = scope.get("method") == "OPTIONS"
        if origin in self.allowed:
            allowed_origin = origin
        if preflight and allowed_origin is not None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [
                        _VARY,
                        (b"access-control-allow-origin", allowed_origin),
                        (b"access-control-allow-methods", ALLOWED_METHODS),
                        (b"access-control-allow-headers", ALLOWED_HEADERS),
                        (b"access-control-max-age", PREFLIGHT_MAX_AGE),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await next_app(scope, receive, _with_cors(send, allowed_origin))


def _with_cors(send: Send, origin: bytes | None) -> Send:
    added = [_VARY]
    if origin is not None:
        added += [
            (b"access-control-allow-origin", origin),
            (b"access-control-expose-headers", EXPOSED_HEADERS),
        ]

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *added]
        await send(message)

    return wrapped
