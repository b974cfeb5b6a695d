"""A small HTTP/1.1 client for webhook POSTs, over asyncio streams.

Why not httpx: a delivery through httpx cost ~1.5 ms of CPU (request building, the connection
pool's bookkeeping, h11), which in a burst of submissions came out of the server's own event
loop (BENCHMARKS.md, "Webhooks"). A webhook POST needs little: connect to an address already
checked (feedback.loop.addresses), send one request, read the status, skip the body, keep the
connection for the next delivery to the same place. Redirects are never followed (the status is
the answer), no proxy, no cookies, no decompression.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from dataclasses import dataclass

MAX_HEAD_BYTES = 64 * 1024
# A body longer than this is not read: the connection is closed instead of reused.
MAX_DRAIN_BYTES = 64 * 1024
# As many as one round of deliveries opens at once, so the next round reuses them all.
MAX_IDLE_PER_PLACE = 128
STATUS_CODE = re.compile(r"[1-9][0-9][0-9]")


class PostError(Exception):
    """The request failed before a status was read (connection, TLS, protocol)."""


@dataclass(frozen=True, slots=True)
class Place:
    """Where a request goes: the checked address, and the name it is for (Host, SNI)."""

    scheme: str
    address: str
    port: int
    host: str


_Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Poster:
    def __init__(self, *, connect_timeout: float, read_timeout: float) -> None:
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._idle: dict[Place, list[_Conn]] = {}
        self._tls = ssl.create_default_context()

    async def post(self, place: Place, target: str, headers: dict[str, str], body: bytes) -> int:
        """POST `body`; the response's status code. Raises PostError or TimeoutError."""
        head = [f"POST {target} HTTP/1.1"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        head += [f"content-length: {len(body)}", "", ""]
        try:
            # A request line and headers are ASCII (feedback.loop.addresses writes URLs so).
            request = "\r\n".join(head).encode("ascii") + body
        except UnicodeEncodeError as exc:
            raise PostError(f"cannot write the request in ASCII: {exc}") from exc
        reused = self._take(place)
        if reused is not None:
            try:
                return await self._exchange(place, reused, request)
            except (PostError, ConnectionError, asyncio.IncompleteReadError):
                pass  # the receiver closed the idle connection: once more, on a new one
        return await self._exchange(place, await self._connect(place), request)

    async def aclose(self) -> None:
        for conns in self._idle.values():
            for _, writer in conns:
                writer.close()
        self._idle.clear()

    def _take(self, place: Place) -> _Conn | None:
        conns = self._idle.get(place)
        while conns:
            reader, writer = conns.pop()
            if not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()
        return None

    async def _connect(self, place: Place) -> _Conn:
        tls = place.scheme == "https"
        try:
            async with asyncio.timeout(self._connect_timeout):
                return await asyncio.open_connection(
                    place.address,
                    place.port,
                    ssl=self._tls if tls else None,
                    server_hostname=place.host if tls else None,
                    limit=MAX_HEAD_BYTES,
                )
        except TimeoutError:
            raise TimeoutError("connect timeout") from None
        except (OSError, ssl.SSLError) as exc:
            raise PostError(f"cannot connect: {exc}") from exc

    async def _exchange(self, place: Place, conn: _Conn, request: bytes) -> int:
        reader, writer = conn
        keep = False
        try:
            async with asyncio.timeout(self._read_timeout):
                writer.write(request)
                await writer.drain()
            status, keep = await self._response(reader)
            return status
        except (ValueError, asyncio.LimitOverrunError) as exc:
            raise PostError(f"bad response: {exc}") from exc
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError) as exc:
            raise PostError(f"connection lost: {exc}") from exc
        finally:
            if keep and len(self._idle.setdefault(place, [])) < MAX_IDLE_PER_PLACE:
                self._idle[place].append(conn)
            else:
                writer.close()

    async def _response(self, reader: asyncio.StreamReader) -> tuple[int, bool]:
        """(status, whether the connection may be reused), the body read and dropped."""
        while True:
            async with asyncio.timeout(self._read_timeout):
                line = await reader.readuntil(b"\r\n")
            parts = line.decode("latin-1").removesuffix("\r\n").split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
                raise ValueError(f"not an HTTP/1.x status line: {line[:80]!r}")
            # Three digits (RFC 9110, 15): anything else is a broken answer, not a status to
            # keep (an attempt's status code must fit its column).
            if not STATUS_CODE.fullmatch(parts[1]):
                raise ValueError(f"not a status code: {parts[1][:20]!r}")
            status = int(parts[1])
            headers: dict[str, str] = {}
            while True:
                async with asyncio.timeout(self._read_timeout):
                    line = await reader.readuntil(b"\r\n")
                if line == b"\r\n":
                    break
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            if status >= 200:
                break
            # 1xx (e.g. 100 Continue): the real answer follows.
        keep = parts[0] == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        if status in (204, 304):
            return status, keep
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return status, keep and await self._drain_chunked(reader)
        length = headers.get("content-length")
        if length is None:
            return status, False  # the body runs to the end of the connection: not read
        size = int(length)
        if size > MAX_DRAIN_BYTES:
            return status, False
        async with asyncio.timeout(self._read_timeout):
            await reader.readexactly(size)
        return status, keep

    async def _drain_chunked(self, reader: asyncio.StreamReader) -> bool:
        """Read a chunked body to its end; False (do not reuse) when it is too long."""
        total = 0
        while True:
            async with asyncio.timeout(self._read_timeout):
                size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
                total += size
                if total > MAX_DRAIN_BYTES:
                    return False
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":
                        pass  # trailers
                    return True
                await reader.readexactly(size + 2)
