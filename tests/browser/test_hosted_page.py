"""The hosted page in Debian's chromium: with JavaScript off, and by keyboard alone."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Browser, BrowserContext, expect

from tests.builders.orgs import Org, make_org
from tests.builders.surveys import make_survey

Client = AsyncTestClient[Litestar]


async def _stored(client: Client, org: Org) -> list[dict[str, Any]]:
    got = await client.get("/api/v1/surveys/pulse/responses", headers=org.auth("analyst"))
    assert got.status_code == 200, got.text
    items: list[dict[str, Any]] = got.json()["items"]
    return items


async def test_without_javascript_the_form_posts_shows_errors_then_thanks(
    client: Client, live_url: str, browser: Browser
) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    context = await browser.new_context(java_script_enabled=False, locale="nl-NL")
    try:
        page = await context.new_page()
        await page.goto(f"{live_url}/f/acme/pulse")
        await expect(page.locator("html")).to_have_attribute("lang", "en")  # the survey's only
        await page.get_by_role("radio", name="Housing").check()
        await page.get_by_label("Hours volunteered").fill("12")
        await page.get_by_role("button", name="Submit").click()

        # The same page again: the error beside its field, the answers kept.
        await expect(page.get_by_role("alert")).to_contain_text("is required")
        await expect(page.get_by_role("radio", name="Housing")).to_be_checked()
        await expect(page.get_by_label("Hours volunteered")).to_have_value("12")
        assert await _stored(client, org) == []

        await (
            page.get_by_role("radiogroup", name="I trust the organisation")
            .get_by_role("radio", name="2")
            .check()
        )
        await page.get_by_role("button", name="Submit").click()
        await expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    finally:
        await context.close()

    stored = await _stored(client, org)
    assert len(stored) == 1
    assert stored[0]["answers"] == {"trust": 2, "priority": "housing", "hours": 12}
    assert stored[0]["channel"] == "hosted"


async def test_the_hosted_form_can_be_completed_by_keyboard_alone(
    client: Client, live_url: str, context: BrowserContext
) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    page = await context.new_page()
    await page.goto(f"{live_url}/f/acme/pulse")
    keys = page.keyboard

    await keys.press("Tab")  # into the first scale
    first = page.locator("#q-trust-0")
    await expect(first).to_be_focused()
    # Keyboard focus is visible: a solid outline on the focused point's box.
    outline = await page.evaluate(
        "getComputedStyle(document.activeElement.nextElementSibling).outlineStyle"
    )
    assert outline == "solid"
    for _ in range(3):
        await keys.press("ArrowRight")  # arrows move through a radio group and choose
    await expect(page.locator("#q-trust-3")).to_be_checked()

    await keys.press("Tab")  # the NPS scale
    await keys.press("Space")
    await expect(page.locator("#q-nps-0")).to_be_checked()
    await keys.press("Tab")  # single choice
    await keys.press("ArrowDown")
    await expect(page.get_by_role("radio", name="Housing")).to_be_checked()
    await keys.press("Tab")  # the checkboxes, one stop each
    await keys.press("Space")
    await keys.press("Tab")
    await keys.press("Tab")
    await keys.press("Space")
    await keys.press("Tab")  # number
    await keys.type("4")
    await keys.press("Tab")  # text
    await keys.type("Typed without a mouse")
    await keys.press("Tab")
    await expect(page.get_by_role("button", name="Submit")).to_be_focused()
    await keys.press("Enter")

    thanks = page.get_by_role("heading", name="Thank you")
    await expect(thanks).to_be_visible()
    await expect(thanks).to_be_focused()
    stored = await _stored(client, org)
    assert [r["answers"] for r in stored] == [
        {
            "trust": 4,
            "nps": 0,
            "priority": "housing",
            "actions": ["petition", "donate"],
            "hours": 4,
            "comment": "Typed without a mouse",
        }
    ]
