"""Read deadlines for slow clients: uvicorn's HTTP protocol with a header and a body timeout.

uvicorn closes idle keep-alive connections but waits forever for a request that is still
arriving, so a client sending its head a byte at a time (slowloris), or a body that stops
half-way, holds a connection and its task for as long as it likes. Here:

- the head of a request (request line and headers) must arrive within `header_timeout`
  seconds of the connection opening or of the request's first byte;
- a body may pause for at most `body_timeout` seconds between two chunks (a large import on a
  slow link is fine as long as it keeps moving), except while the app is not reading it.

On either deadline the connection is closed. `feedback serve` uses this protocol; behind a
reverse proxy its own limits (nginx `client_header_timeout`, `client_body_timeout`) apply first.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from feedback.config import get_settings


class TimedHttpToolsProtocol(HttpToolsProtocol):
    # None: the settings' FEEDBACK_HEADER_TIMEOUT / FEEDBACK_BODY_TIMEOUT.
    header_timeout: float | None = None
    body_timeout: float | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings() if None in (self.header_timeout, self.body_timeout) else None
        self._header_seconds = self.header_timeout or (settings and settings.header_timeout) or 10
        self._body_seconds = self.body_timeout or (settings and settings.body_timeout) or 30
        self._deadline: asyncio.TimerHandle | None = None

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired, seconds)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self, seconds: float) -> None:
        self._deadline = None
        if self.flow is not None and self.flow.read_paused:
            self._arm(seconds)  # the app is not reading: the client is not the slow one
        elif not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self._header_seconds)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self._header_seconds)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self._body_seconds)

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm(self._body_seconds)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
