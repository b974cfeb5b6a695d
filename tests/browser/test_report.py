"""The analyst's HTML report in Debian's chromium: at 1,200 px wide (and in print) every table
shows whole, without a scroll bar of its own and without widening the page."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Browser, expect

from tests.builders.analysis import import_lines, line
from tests.builders.orgs import make_org
from tests.builders.surveys import MONTHLY, make_survey, pulse_definition

Client = AsyncTestClient[Litestar]
ISSUES = [
    "Climate and the energy transition",
    "Housing and the cost of living",
    "Health care waiting lists",
    "Public transport in rural areas",
    "Democracy and citizens' assemblies",
    "Nature, rivers and biodiversity",
    "Fair pay and working conditions",
    "Education and school buildings",
    "Digital rights and privacy",
]
# Per element that may scroll sideways: how much of it is hidden.
CUT = """() => [...document.querySelectorAll(".table")]
  .map(el => el.scrollWidth - el.clientWidth)"""


async def test_report_tables_fit_1200_px(client: Client, live_url: str, browser: Browser) -> None:
    org = await make_org(client)
    definition = pulse_definition()
    definition["questions"][2]["options"] = [
        {"key": f"issue_{i}", "label": label} for i, label in enumerate(ISSUES)
    ]
    await make_survey(client, org, schedule=MONTHLY, definition=definition)
    await import_lines(
        client,
        org,
        [
            line(w, {"trust": 1 + i % 5, "priority": f"issue_{(i + w) % len(ISSUES)}"})
            for w in range(1, 7)
            for i in range(40)
        ],
    )
    made = await client.post(
        "/api/v1/surveys/pulse/report-links", json={}, headers=org.auth("analyst")
    )
    assert made.status_code == 201, made.text
    path = "/" + made.json()["url"].split("/", 3)[3]
    context = await browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    try:
        page = await context.new_page()
        await page.goto(live_url + path)
        priority = page.locator("#q-priority")
        await expect(priority.get_by_role("columnheader", name=ISSUES[-1])).to_be_visible()
        for media in ("screen", "print"):
            await page.emulate_media(media=media)
            assert await page.evaluate("document.documentElement.scrollWidth") <= 1200, media
            assert all(hidden <= 0 for hidden in await page.evaluate(CUT)), media
    finally:
        await context.close()
