"""The API browser (/schema/swagger) in Debian's chromium with every other host out of reach:
Swagger UI's files come from the package, so the operations are listed without internet."""

from __future__ import annotations

from playwright.async_api import BrowserContext, Route, expect

from feedback.api.api_browser import ASSETS_PATH


async def test_swagger_lists_the_operations_offline(context: BrowserContext, live_url: str) -> None:
    ours: list[str] = []
    elsewhere: list[str] = []

    async def only_ours(route: Route) -> None:
        if route.request.url.startswith(live_url + "/"):
            ours.append(route.request.url.removeprefix(live_url))
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort("internetdisconnected")

    await context.route("**/*", only_ours)
    page = await context.new_page()
    await page.goto(f"{live_url}/schema/swagger")
    surveys = page.locator(".opblock-summary-path", has_text="/api/v1/surveys/{slug}/trends")
    await expect(surveys.first).to_be_visible()
    assert await page.locator(".opblock").count() > 50
    await expect(page.locator(".info .title")).to_contain_text("feedback")
    assert f"{ASSETS_PATH}/swagger-ui-bundle.js" in ours
    assert elsewhere == []
