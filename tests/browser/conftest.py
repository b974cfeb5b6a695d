"""The real app served by uvicorn on a loopback port, a second origin serving a page with the
embed snippet, and Debian's chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import html
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import uvicorn
from litestar import Litestar
from playwright.async_api import Browser, BrowserContext, async_playwright

from feedback.api.app import create_app
from feedback.config import Settings

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
# A campaign site's page; `{snippet}` is where the site pastes the embed snippet.
SITE_PAGE = (Path(__file__).parent / "site.html").read_text(encoding="utf-8")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _loopback_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def live_url(settings: Settings) -> Iterator[str]:
    """The app on its own uvicorn server (a thread with its own event loop), against the test's
    fresh database; the test talks to the same database through the `client` fixture's app."""
    with serving(create_app(settings)) as url:
        yield url


@contextmanager
def serving(app: Litestar) -> Iterator[str]:
    """`app` on a uvicorn server of its own on a loopback port; yields its base URL."""
    sock = _loopback_socket()
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass
class SiteOrigin:
    """A second origin: a campaign site that embeds a survey with the documented snippet."""

    url: str
    pages: dict[str, str]

    def embed(self, path: str, api: str, survey: str, *, locale: str | None = None) -> str:
        extra = f' data-locale="{html.escape(locale)}"' if locale else ""
        snippet = (
            f'<div data-feedback-survey="{html.escape(survey)}"{extra}></div>\n'
            f'<script src="{html.escape(api)}/embed.js" async></script>'
        )
        self.pages[path] = SITE_PAGE.replace("{snippet}", snippet)
        return self.url + path


@pytest.fixture
def site() -> Iterator[SiteOrigin]:
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path.split("?", 1)[0])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "not found").encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SiteOrigin(f"http://127.0.0.1:{server.server_address[1]}", pages)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.skip(f"{CHROMIUM} is absent; ./scripts/test installs Debian's chromium")
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(locale="en-GB", viewport={"width": 1100, "height": 900})
    ctx.set_default_timeout(10_000)
    yield ctx
    await ctx.close()
