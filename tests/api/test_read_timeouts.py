"""Slow clients are cut off: a head that never finishes, a body that stops; a body that keeps
moving, however slowly, is read to the end. Against the real server protocol on a socket."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from litestar import Litestar

from feedback.api.read_timeouts import TimedHttpToolsProtocol

DEADLINE = 0.6


class QuickProtocol(TimedHttpToolsProtocol):
    header_timeout = DEADLINE
    body_timeout = DEADLINE


@contextmanager
def served(app: Litestar) -> Iterator[int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, http=QuickProtocol, log_level="warning", access_log=False, timeout_keep_alive=30
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


async def _closed_after(reader: asyncio.StreamReader) -> float:
    """Seconds until the server closes the connection (reads whatever it sent first)."""
    started = time.monotonic()
    while await asyncio.wait_for(reader.read(4096), timeout=10):
        pass
    return time.monotonic() - started


@pytest.mark.parametrize(
    "sent",
    [b"", b"GET /health HTTP/1.1\r\nHost: x\r\n", b"POST /api/v1/orgs HTTP/1.1\r\nContent-Le"],
)
async def test_a_head_that_never_finishes_is_cut_off(app: Litestar, sent: bytes) -> None:
    with served(app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(sent)
        await writer.drain()
        waited = await _closed_after(reader)
        writer.close()
    assert DEADLINE * 0.8 < waited < DEADLINE + 3


async def test_a_body_that_stops_is_cut_off(app: Litestar) -> None:
    with served(app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"slug":'
        )
        await writer.drain()
        waited = await _closed_after(reader)
        writer.close()
    assert waited < DEADLINE + 3


async def test_a_body_that_keeps_moving_is_read_whole(app: Litestar) -> None:
    body = b'{"slug": "slow", "name": "Slow but steady"}'
    with served(app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        for i in range(0, len(body), 8):  # longer in all than the deadline, never pausing as long
            await asyncio.sleep(DEADLINE / 3)
            writer.write(body[i : i + 8])
            await writer.drain()
        status = await asyncio.wait_for(reader.readline(), timeout=10)
        writer.close()
    assert status.startswith(b"HTTP/1.1 401")  # read whole, then refused: no admin token


async def _response(reader: asyncio.StreamReader) -> bytes:
    """One response's status line, having read its head and its whole body."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await asyncio.wait_for(reader.readexactly(length), timeout=10)
    return head.split(b"\r\n")[0]


async def test_a_kept_alive_connection_serves_requests_after_the_deadline(app: Litestar) -> None:
    with served(app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(3):
            writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            assert (await _response(reader)).startswith(b"HTTP/1.1 200")
            await asyncio.sleep(DEADLINE * 1.5)  # idle between requests: keep-alive's business
        writer.close()
