"""The API browsers (/schema/swagger, /schema/elements) in Debian's chromium with every other
host out of reach: their files come from the package, so the operations are listed without
internet."""

from __future__ import annotations

from playwright.async_api import BrowserContext, Route, expect

from feedback.api.api_browser import ELEMENTS_PATH, SWAGGER_PATH


class Offline:
    """Requests to the app go through; any other host is unreachable, and noted."""

    def __init__(self, live_url: str) -> None:
        self.live_url = live_url
        self.ours: list[str] = []
        self.elsewhere: list[str] = []

    async def route(self, route: Route) -> None:
        if route.request.url.startswith(self.live_url + "/"):
            self.ours.append(route.request.url.removeprefix(self.live_url))
            await route.continue_()
        else:
            self.elsewhere.append(route.request.url)
            await route.abort("internetdisconnected")


async def test_swagger_lists_the_operations_offline(context: BrowserContext, live_url: str) -> None:
    offline = Offline(live_url)
    await context.route("**/*", offline.route)
    page = await context.new_page()
    await page.goto(f"{live_url}/schema/swagger")
    surveys = page.locator(".opblock-summary-path", has_text="/api/v1/surveys/{slug}/trends")
    await expect(surveys.first).to_be_visible()
    assert await page.locator(".opblock").count() > 50
    await expect(page.locator(".info .title")).to_contain_text("feedback")
    assert f"{SWAGGER_PATH}/swagger-ui-bundle.js" in offline.ours
    assert offline.elsewhere == []


async def test_elements_lists_the_operations_offline(
    context: BrowserContext, live_url: str
) -> None:
    offline = Offline(live_url)
    await context.route("**/*", offline.route)
    page = await context.new_page()
    await page.goto(f"{live_url}/schema/elements")
    operations = page.locator('a[href^="#/operations/"]')
    await expect(operations.first).to_be_visible()
    assert await operations.count() > 40  # those in no tag group; the groups start folded
    assert f"{ELEMENTS_PATH}/web-components.min.js" in offline.ours
    assert offline.elsewhere == []
