"""The demo's report and public results in Debian's chromium, as a newcomer first sees them.

With FEEDBACK_UPDATE_SCREENSHOT set, the test refreshes the README's screenshot of the report
(docs/report.png) from the demo itself.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from playwright.async_api import Browser, expect

from feedback.api.app import create_app
from feedback.clock import fixed_clock
from feedback.config import Settings
from feedback.demo import DemoSize, load_demo
from tests.browser.conftest import serving

NOW = datetime(2026, 12, 4, 17, 30, tzinfo=UTC)
DOCS = Path(__file__).resolve().parents[2] / "docs"


async def test_the_demo_report_and_results_read_well(settings: Settings, browser: Browser) -> None:
    summary = await load_demo(
        settings, now=NOW, size=DemoSize(respondents=500, per_wave=(200, 260))
    )
    report_path = summary.split("report:")[1].split()[0].split("127.0.0.1:8000")[1]
    with serving(create_app(settings, clock=fixed_clock(NOW))) as url:
        context = await browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
        try:
            page = await context.new_page()
            await page.goto(url + report_path)
            trust = page.locator("#q-trust")
            # A plain sentence under the chart, the test behind it one click away.
            await expect(trust.locator(".summary").first).to_be_visible()
            await expect(trust.locator("details.method").first).to_be_attached()
            assert await page.evaluate("document.documentElement.scrollWidth") <= 1200
            if os.environ.get("FEEDBACK_UPDATE_SCREENSHOT"):
                await page.wait_for_load_state("networkidle")
                await page.screenshot(
                    path=DOCS / "report.png", clip={"x": 0, "y": 0, "width": 1200, "height": 1400}
                )
            await page.goto(url + "/r/demo/pulse")
            await expect(page.get_by_text("Monthly supporter assemblies").first).to_be_visible()
        finally:
            await context.close()
