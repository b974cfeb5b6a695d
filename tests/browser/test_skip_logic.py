"""Skip logic in the embed, in chromium: questions appear and disappear as earlier answers
change, at a phone's width and a desktop's, and a hidden question's answer is never sent."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import BrowserContext, expect

from tests.browser.conftest import SiteOrigin
from tests.builders.orgs import make_org
from tests.builders.skip_logic import nps, why_not
from tests.builders.surveys import make_survey

Client = AsyncTestClient[Litestar]
DEFINITION: dict[str, Any] = {
    "questions": [
        nps(),
        why_not(),
        {
            "key": "joined",
            "type": "date",
            "label": "When did you join?",
            "show_if": {
                "any": [
                    {"question": "nps", "in": [9, 10]},
                    {"question": "why_not", "answered": True},
                ]
            },
        },
    ]
}


@pytest.mark.parametrize("width", [400, 1200])
async def test_questions_follow_the_answers_live(
    client: Client, live_url: str, site: SiteOrigin, context: BrowserContext, width: int
) -> None:
    org = await make_org(client)
    await make_survey(
        client, org, slug="logic", definition=DEFINITION, settings={"allowed_origins": [site.url]}
    )
    page = await context.new_page()
    await page.set_viewport_size({"width": width, "height": 900})
    await page.goto(site.embed("/", live_url, "acme/logic"))
    await expect(page.get_by_role("button", name="Submit")).to_be_visible()
    why_not = page.get_by_label("What would change your mind?")
    joined = page.get_by_label("When did you join?")
    await expect(why_not).to_be_hidden()
    await expect(joined).to_be_hidden()

    nps = page.get_by_role("radiogroup", name="Recommend us?")
    await nps.get_by_role("radio", name="3", exact=True).check()
    await expect(why_not).to_be_visible()
    await expect(joined).to_be_hidden()
    await why_not.fill("Answer my emails")
    await expect(joined).to_be_visible()
    await joined.fill("2021-03-04")

    # a promoter: why_not hides, and its typed text is not sent; joined stays (nps is 10)
    await nps.locator('input[value="10"]').check()
    await expect(why_not).to_be_hidden()
    await expect(joined).to_be_visible()
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_role("heading", name="Thank you")).to_be_visible()

    got = await client.get("/api/v1/surveys/logic/responses", headers=org.auth("analyst"))
    (stored,) = got.json()["items"]
    assert stored["answers"] == {"nps": 10, "joined": "2021-03-04"}
