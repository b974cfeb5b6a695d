"""One JSON line per request (`feedback serve --access-log`), in place of uvicorn's, which
prints whole request targets: report and personal-link tokens included."""

from __future__ import annotations

import logging
import time

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from feedback.logs import redact_target

log = logging.getLogger("feedback.access")


class AccessLog:
    """ASGI middleware around the whole app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before it answers

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            client = scope.get("client")
            log.info(
                "request",
                extra={
                    "http": {
                        "method": scope.get("method"),
                        "target": redact_target(scope.get("path", ""), query),
                        "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                        "client": client[0] if client else None,
                    }
                },
            )
