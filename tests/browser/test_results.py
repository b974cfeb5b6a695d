"""Public results in Debian's chromium: the /r/ page with JavaScript off at 320, 400 and 1,200 px
(and in print), the embed rendering `data-feedback-results` on a second origin, and the embedded
form's thank-you linking to the results. With FEEDBACK_UPDATE_SCREENSHOT set, the page test
writes docs/results.png."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Browser, BrowserContext, Page, expect

from feedback.api.app import create_app
from feedback.clock import fixed_clock
from feedback.config import Settings
from tests.browser.conftest import SITE_PAGE, SiteOrigin, serving
from tests.builders.public_results import (
    NOW,
    PRIVATE_DECISION,
    SECRET_LABEL,
    TEXT_ANSWER,
    World,
    make_results_world,
)

Client = AsyncTestClient[Litestar]
DOCS = Path(__file__).resolve().parents[2] / "docs"
TRUST = "I trust the organisation to act on my views"
MARKUP_TITLE = 'Rivers <b>first</b> <img src=x onerror="window.pwned=1">'

# WCAG contrast of every element's own text against the first opaque background behind it.
CONTRASTS = """() => {
  const rgb = c => c.match(/[\\d.]+/g).map(Number);
  const lum = c => { const v = rgb(c).slice(0, 3).map(x => { x /= 255;
    return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const back = el => { for (; el; el = el.parentElement) {
    const b = getComputedStyle(el).backgroundColor; if (rgb(b)[3] !== 0) return b; }
    return "rgb(255, 255, 255)"; };
  return [...document.querySelectorAll("main *")]
    .filter(el => [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
    .map(el => { const a = lum(getComputedStyle(el).color), b = lum(back(el));
      return [el.tagName, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]; });
}"""


@pytest.fixture
def clocked_url(settings: Settings) -> Iterator[str]:
    """The app served on a clock standing in August 2025 (waves 1–7 closed, 8 open)."""
    with serving(create_app(settings, clock=fixed_clock(NOW))) as url:
        yield url


async def _world(
    client: Client, settings: Settings, origins: list[str] | None = None, *, markup: bool = True
) -> World:
    """The results world, with a public decision whose title is markup (unless for a picture)."""
    world = await make_results_world(client, settings, allowed_origins=origins)
    if not markup:
        return world
    made = await client.post(
        "/api/v1/surveys/pulse/decisions",
        json={"title": MARKUP_TITLE, "decided_at": "2025-07-25T10:00:00Z", "public": True},
        headers=world.org.auth("campaigner"),
    )
    assert made.status_code == 201, made.text
    return world


async def _no_sideways_scroll(page: Page, width: int) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= width


async def test_the_page_works_without_javascript_at_320_400_and_1200_px(
    client: Client, settings: Settings, clocked_url: str, browser: Browser
) -> None:
    await _world(client, settings, markup=False)
    context = await browser.new_context(java_script_enabled=False, locale="en-GB")
    try:
        for width in (320, 400, 1200):
            page = await context.new_page()
            await page.set_viewport_size({"width": width, "height": 900})
            await page.goto(f"{clocked_url}/r/acme/pulse")
            await expect(page.get_by_role("heading", level=1, name="Pulse")).to_be_visible()
            await expect(
                page.get_by_role("heading", level=2, name="What you told us")
            ).to_be_visible()
            trust = page.get_by_role("region", name=TRUST)
            table = trust.get_by_role("table", name="Results by round, newest first")
            await expect(table.get_by_role("row")).to_have_count(7)  # a header and six waves
            await expect(table.get_by_role("row").nth(1)).to_contain_text(
                "4.0 out of 5 on average (6 answers)"
            )
            await expect(table.get_by_role("row").nth(5)).to_contain_text(
                "Not enough answers to show"
            )
            # The bars are drawn (meters), and the page fits the screen.
            bar = (await trust.locator("meter").first.bounding_box()) or {}
            assert bar.get("width", 0) > 40 and bar.get("height", 0) >= 10
            await _no_sideways_scroll(page, width)
            decisions = page.get_by_role("region", name="What we did").get_by_role("article")
            await expect(decisions).to_have_count(2)
            text = await page.locator("main").inner_text()
            for hidden in (SECRET_LABEL, PRIVATE_DECISION, TEXT_ANSWER):
                assert hidden not in text
            # Every text is legible: at least 4.5:1 against its background.
            low = [(tag, ratio) for tag, ratio in await page.evaluate(CONTRASTS) if ratio < 4.5]
            assert low == []
            # The keyboard reaches the other language's link, and its focus shows.
            await page.keyboard.press("Tab")
            await expect(page.get_by_role("link", name="Nederlands")).to_be_focused()
            outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline == "solid"
            if width == 1200 and os.environ.get("FEEDBACK_UPDATE_SCREENSHOT"):
                await page.evaluate("document.activeElement.blur()")
                await page.screenshot(path=str(DOCS / "results.png"), full_page=True)
            # In print: no language links, nothing cut at the sides.
            await page.emulate_media(media="print")
            await expect(page.get_by_role("navigation")).to_be_hidden()
            await _no_sideways_scroll(page, width)
            await page.close()
    finally:
        await context.close()


async def test_the_page_in_dutch_follows_the_browser(
    client: Client, settings: Settings, clocked_url: str, browser: Browser
) -> None:
    await _world(client, settings, markup=False)
    context = await browser.new_context(java_script_enabled=False, locale="nl-NL")
    try:
        page = await context.new_page()
        await page.goto(f"{clocked_url}/r/acme/pulse")
        await expect(page.locator("html")).to_have_attribute("lang", "nl")
        await expect(page.get_by_role("heading", name="Wat we hebben gedaan")).to_be_visible()
        await page.get_by_role("link", name="English").click()
        await expect(page.locator("html")).to_have_attribute("lang", "en")
        await expect(page.get_by_role("heading", name="What we did")).to_be_visible()
    finally:
        await context.close()


async def test_the_embed_renders_results_on_another_origin(
    client: Client,
    settings: Settings,
    clocked_url: str,
    site: SiteOrigin,
    context: BrowserContext,
) -> None:
    await _world(client, settings, origins=[site.url])
    snippet = (
        '<div data-feedback-results="acme/pulse"></div>\n'
        '<div data-feedback-results="acme/pulse" data-locale="nl" id="dutch"></div>\n'
        '<div data-feedback-results="acme/missing" id="missing"></div>\n'
        f'<script src="{clocked_url}/embed.js" async></script>'
    )
    site.pages["/results"] = SITE_PAGE.replace("{snippet}", snippet)
    page = await context.new_page()
    await page.goto(site.url + "/results")
    root = page.locator('[data-feedback-results="acme/pulse"]').first
    await expect(root.get_by_role("heading", level=3, name="What you told us")).to_be_visible()
    await expect(root).to_have_attribute("lang", "en")
    await expect(root.get_by_role("heading", level=4, name=TRUST)).to_be_visible()
    trust = root.locator(".fb-rq").first
    await expect(trust.get_by_role("listitem")).to_have_count(6)
    await expect(trust.get_by_role("listitem").first).to_have_text(
        "2025-07: 4.0 out of 5 on average (6 answers)"
    )
    await expect(trust.locator("li.fb-rsup")).to_have_text("2025-03: Not enough answers to show")
    decisions = root.get_by_role("article")
    await expect(decisions).to_have_count(3)
    # Texts are text: the markup shows as typed and never runs.
    await expect(decisions.nth(0).get_by_role("heading")).to_have_text(MARKUP_TITLE)
    assert await root.locator("img, b").count() == 0
    assert await page.evaluate("window.pwned") is None
    done = decisions.nth(2)
    await expect(done).to_contain_text("Done · June 15, 2025")  # as the browser writes en dates
    await expect(done).to_contain_text("Because you told us:")
    await expect(done.get_by_role("listitem")).to_have_text(["Trust fell from 3.8 to 3.2"])
    await expect(root).not_to_contain_text(SECRET_LABEL)
    await expect(root).not_to_contain_text(PRIVATE_DECISION)
    link = root.get_by_role("link", name="Pulse")
    await expect(link).to_have_attribute("href", f"{clocked_url}/r/acme/pulse?locale=en")

    dutch = page.locator("#dutch")
    await expect(dutch.get_by_role("heading", name="Wat we hebben gedaan")).to_be_visible()
    await expect(dutch).to_contain_text("Gemiddeld 4,0 van de 5 (6 antwoorden)")
    await expect(page.locator("#missing")).to_have_text("The results could not be loaded.")


async def test_the_embedded_forms_thank_you_links_to_the_results(
    client: Client,
    settings: Settings,
    clocked_url: str,
    site: SiteOrigin,
    context: BrowserContext,
) -> None:
    await _world(client, settings, origins=[site.url])
    page = await context.new_page()
    await page.goto(site.embed("/", clocked_url, "acme/pulse"))
    await page.get_by_role("radiogroup", name=TRUST).get_by_role("radio", name="4").check()
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    link = page.get_by_role("link", name="See what we did with your answers")
    await expect(link).to_have_attribute("href", f"{clocked_url}/r/acme/pulse?locale=en")
    await link.click()
    await expect(page.get_by_role("heading", level=1, name="Pulse")).to_be_visible()
    await expect(page.get_by_role("heading", name="What we did")).to_be_visible()
