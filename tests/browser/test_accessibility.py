"""What assistive technology gets from the supporters' pages, read from Chromium's accessibility
tree (the DevTools protocol's Accessibility.getFullAXTree), and what a phone at 320 px and the
analyst's report show: required questions as a state (WCAG 4.1.2), nothing stray read aloud,
targets a finger can hit (2.5.8), legible text (1.4.3) and charts described in words (1.1.1)."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import SiteOrigin
from tests.browser.test_results import CONTRASTS
from tests.builders.analysis import import_lines, line
from tests.builders.orgs import make_org
from tests.builders.surveys import MONTHLY, make_survey, pulse_definition
from tests.forms.test_accessibility import ARABIC, every_type_required

Client = AsyncTestClient[Litestar]
# Adjacent targets: each a box's width and the distance from its centre to the next one's.
POINTS = """sel => [...document.querySelectorAll(sel)].map(group =>
  [...group.querySelectorAll('.fb-point')].map(e => e.getBoundingClientRect()).map((r, i, all) =>
    [r.width, r.height, i + 1 < all.length ? Math.abs(all[i + 1].x - r.x) : Infinity]))"""


# How many lines each scale point's number takes.
LINES = """[...document.querySelectorAll('.fb-box')].map(box => {
  const range = document.createRange(); range.selectNodeContents(box.firstChild);
  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; })"""


async def ax_nodes(page: Page) -> list[dict[str, Any]]:
    """The nodes of the page's accessibility tree that a screen reader meets: role, name, and
    the states asked about."""
    cdp = await page.context.new_cdp_session(page)
    tree = await cdp.send("Accessibility.getFullAXTree")
    await cdp.detach()
    out = []
    for node in tree["nodes"]:
        if node.get("ignored"):
            continue
        props = {p["name"]: p["value"].get("value") for p in node.get("properties", [])}
        out.append(
            {
                "role": node.get("role", {}).get("value"),
                "name": node.get("name", {}).get("value", ""),
                "required": props.get("required", False),
                "invalid": props.get("invalid", "false") != "false",
            }
        )
    return out


def _states(nodes: list[dict[str, Any]], role: str) -> dict[str, tuple[bool, bool]]:
    """(required, invalid) of each node of `role`, by the start of its name."""
    return {
        n["name"].split(" Required")[0]: (n["required"], n["invalid"])
        for n in nodes
        if n["role"] == role
    }


async def _check_required(page: Page) -> None:
    nodes = await ax_nodes(page)
    groups = _states(nodes, "radiogroup")
    assert groups == {
        "I trust the organisation to act on my views": (True, False),
        "How likely are you to recommend us to a friend?": (True, False),
        "Which issue matters most to you?": (True, False),
    }
    boxes = _states(nodes, "textbox")
    assert boxes == {"Hours volunteered": (True, False), "Anything else?": (True, False)}
    # Nothing is announced as wrong before the supporter has sent anything.
    assert not [n for n in nodes if n["invalid"]]
    # No stray words (a "null" where a survey has no description) are read out.
    assert not [n for n in nodes if n["role"] == "StaticText" and n["name"].strip() == "null"]

    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_role("alert")).to_be_focused()
    nodes = await ax_nodes(page)
    assert _states(nodes, "textbox")["Hours volunteered"] == (True, True)
    choices = [n["invalid"] for n in nodes if n["role"] in ("radio", "checkbox")]
    assert choices == [True] * (5 + 11 + 3 + 3)


async def test_required_questions_are_required_to_a_screen_reader(
    client: Client, live_url: str, site: SiteOrigin, browser: Browser
) -> None:
    org = await make_org(client)
    await make_survey(
        client, org, definition=every_type_required(), settings={"allowed_origins": [site.url]}
    )
    for javascript in (False, True):
        context = await browser.new_context(java_script_enabled=javascript, locale="en-GB")
        try:
            page = await context.new_page()
            if javascript:
                await page.goto(site.embed("/", live_url, "acme/pulse"))
                await expect(page.get_by_role("button", name="Submit")).to_be_visible()
                assert "null" not in await page.locator(".fb-root").inner_text()
            else:
                await page.goto(f"{live_url}/f/acme/pulse")
            await _check_required(page)
        finally:
            await context.close()


async def test_scale_points_stay_big_enough_to_hit_at_320_px_with_an_error(
    client: Client, live_url: str, browser: Browser
) -> None:
    """2.5.8: a target under 24 px is allowed when a 24 px circle on its centre touches no other
    target, so boxes under 24 px wide must sit at least 24 px apart, centre to centre. The red
    bar of a question in error takes width from its row of eleven."""
    definition = pulse_definition()
    definition["questions"][1]["required"] = True
    org = await make_org(client)
    await make_survey(client, org, definition=definition)
    context = await browser.new_context(
        java_script_enabled=False, viewport={"width": 320, "height": 800}
    )
    try:
        page = await context.new_page()
        await page.goto(f"{live_url}/f/acme/pulse")
        for sent in (False, True):
            if sent:
                await page.get_by_role("button", name="Submit").click()
                await expect(page.locator("#nps-group.fb-invalid")).to_be_visible()
            for row in await page.evaluate(POINTS, ".fb-scale"):
                for width, height, pitch in row:
                    assert height >= 24 and (width >= 24 or pitch >= 24), (sent, row)
            # And each number on one line: a "10" broken into "1" over "0" reads as two points.
            assert await page.evaluate(LINES) == [1] * (5 + 11), sent
            assert await page.evaluate("document.documentElement.scrollWidth") <= 320
    finally:
        await context.close()


async def test_the_report_is_legible_and_its_charts_are_described(
    client: Client, live_url: str, browser: Browser
) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    await import_lines(
        client,
        org,
        # Three answers in the first wave: hidden, and shown in the muted grey.
        [
            line(w, {"trust": 1 + i % 5, "priority": "climate"})
            for w in (1, 2, 3)
            for i in range(3 + 7 * (w > 1))
        ],
    )
    made = await client.post(
        "/api/v1/surveys/pulse/report-links", json={}, headers=org.auth("analyst")
    )
    assert made.status_code == 201, made.text
    path = "/" + made.json()["url"].split("/", 3)[3]
    context = await browser.new_context(viewport={"width": 320, "height": 800})
    try:
        page = await context.new_page()
        await page.goto(live_url + path)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 320
        ratios = await page.evaluate(CONTRASTS.replace("main *", "body *"))
        assert [tag for tag, ratio in ratios if ratio < 4.5] == []

        # The contents' links, one under another: 24 px apart, or 24 px tall (2.5.8).
        links = await page.evaluate(
            """[...document.querySelectorAll('nav.toc a')].map(a => a.getBoundingClientRect())
              .map(r => [r.height, r.y])"""
        )
        assert len(links) == 6
        for (height, y), (_, below) in pairwise(links):
            assert height >= 24 or below - y >= 24, links
        trust = page.locator("#q-trust")
        summary = await trust.locator("p.summary").inner_text()
        chart = trust.get_by_role("img")
        alt = await chart.get_attribute("alt") or ""
        # What the chart shows, in words, and where its figures are.
        assert alt.startswith("Trend chart of “I trust the organisation to act on my views”")
        assert summary in alt and "table" in alt
        await expect(
            trust.get_by_role("table", name="I trust the organisation to act on my views")
        ).to_be_visible()
    finally:
        await context.close()


async def test_the_embeds_english_words_around_an_arabic_survey_say_they_are_english(
    client: Client, live_url: str, site: SiteOrigin, context: BrowserContext
) -> None:
    org = await make_org(client)
    await make_survey(
        client,
        org,
        definition=ARABIC,
        default_locale="ar",
        settings={"allowed_origins": [site.url]},
    )
    page = await context.new_page()
    await page.goto(site.embed("/", live_url, "acme/pulse"))
    root = page.locator(".fb-root")
    await expect(root).to_have_attribute("lang", "ar")
    await expect(root).to_have_attribute("dir", "rtl")
    await expect(root.locator("legend")).not_to_have_attribute("lang", "en")
    for words in (".fb-req", ".fb-submit", ".fb-org"):
        await expect(root.locator(words)).to_have_attribute("lang", "en")
    await root.locator(".fb-submit").click()
    await expect(root.get_by_role("alert").get_by_role("heading")).to_have_attribute("lang", "en")
    await expect(root.locator(".fb-error-msg")).to_have_attribute("lang", "en")
    await root.get_by_role("radio", name="3").check()
    await root.locator(".fb-submit").click()
    await expect(root.get_by_role("heading", name="Thank you")).to_have_attribute("lang", "en")


async def test_the_embed_says_a_dates_limits_before_it_is_answered(
    client: Client, live_url: str, site: SiteOrigin, context: BrowserContext
) -> None:
    org = await make_org(client)
    definition = {
        "questions": [
            {
                "key": "born",
                "type": "date",
                "label": "Born",
                "min": "1900-01-01",
                "max": "2026-06-30",
            }
        ]
    }
    await make_survey(client, org, definition=definition, settings={"allowed_origins": [site.url]})
    page = await context.new_page()
    await page.goto(site.embed("/", live_url, "acme/pulse"))
    await expect(page.get_by_label("Born")).to_have_accessible_description(
        # As the browser writes dates in the form's language, as the results embed does.
        "A date from January 1, 1900 to June 30, 2026."
    )
