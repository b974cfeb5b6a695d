"""The embed, in Debian's chromium, on a page of a second origin: filled in, submitted, stored;
the server's field errors beside their fields; answers queued offline and delivered once."""

from __future__ import annotations

import re
import time
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Browser, BrowserContext, Page, Route, expect

from tests.browser.conftest import SiteOrigin
from tests.builders.orgs import Org, make_org
from tests.builders.surveys import make_survey

Client = AsyncTestClient[Litestar]


async def _survey(client: Client, site: SiteOrigin) -> Org:
    org = await make_org(client)
    await make_survey(client, org, settings={"allowed_origins": [site.url]})
    return org


async def _stored(client: Client, org: Org) -> list[dict[str, Any]]:
    got = await client.get("/api/v1/surveys/pulse/responses", headers=org.auth("analyst"))
    assert got.status_code == 200, got.text
    items: list[dict[str, Any]] = got.json()["items"]
    return items


async def _open(context: BrowserContext, site: SiteOrigin, live_url: str) -> Page:
    page = await context.new_page()
    await page.goto(site.embed("/", live_url, "acme/pulse"))
    await expect(page.get_by_role("button", name="Submit")).to_be_visible()
    return page


def _group(page: Page, name: str) -> Any:
    return page.get_by_role("radiogroup", name=re.compile(name))


async def _fill(page: Page, *, hours: str = "3") -> None:
    await _group(page, "I trust the organisation").get_by_role("radio", name="4").check()
    await _group(page, "recommend us").get_by_role("radio", name="9", exact=True).check()
    await page.get_by_role("radio", name="Climate").check()
    await page.get_by_role("checkbox", name="Signed a petition").check()
    await page.get_by_role("checkbox", name="Joined a march").check()
    await page.get_by_label("Hours volunteered").fill(hours)
    await page.get_by_label("Anything else?").fill("More river clean-ups <please>")


EXPECTED = {
    "trust": 4,
    "nps": 9,
    "priority": "climate",
    "actions": ["petition", "march"],
    "hours": 3,
    "comment": "More river clean-ups <please>",
}


async def test_embed_submits_from_another_origin_and_the_response_is_stored(
    client: Client, live_url: str, site: SiteOrigin, context: BrowserContext
) -> None:
    org = await _survey(client, site)
    page = await _open(context, site, live_url)
    assert page.url.startswith(site.url) and not live_url.startswith(site.url)
    await expect(page.get_by_role("heading", name="Pulse")).to_be_visible()

    await _fill(page)
    await page.get_by_role("button", name="Submit").click()
    thanks = page.get_by_role("heading", name="Thank you")
    await expect(thanks).to_be_visible()
    await expect(thanks).to_be_focused()

    stored = await _stored(client, org)
    assert len(stored) == 1
    assert stored[0]["answers"] == EXPECTED
    assert stored[0]["channel"] == "embed"
    # The browser's anonymous id links the response to a (pseudonymous) respondent.
    assert stored[0]["respondent_id"] is not None
    assert await page.evaluate("localStorage.getItem('feedback:anon')")


async def test_server_field_errors_appear_beside_their_fields(
    client: Client, live_url: str, site: SiteOrigin, context: BrowserContext
) -> None:
    org = await _survey(client, site)
    page = await _open(context, site, live_url)
    await page.get_by_label("Hours volunteered").fill("500")
    await page.get_by_role("button", name="Submit").click()

    summary = page.get_by_role("alert")
    await expect(summary).to_be_focused()
    await expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    links = summary.get_by_role("link")
    await expect(links).to_have_count(2)
    await expect(links.nth(0)).to_have_text(re.compile("^I trust the organisation.*: is required$"))

    trust = _group(page, "I trust the organisation")
    await expect(trust.locator(".fb-error-msg")).to_have_text("Error: is required")
    await expect(trust).to_have_attribute("aria-describedby", re.compile(r"-trust-error$"))
    hours = page.get_by_label("Hours volunteered")
    await expect(hours).to_have_attribute("aria-invalid", "true")
    error_id = await page.locator(".fb-q:has(#fb1-hours) .fb-error-msg").get_attribute("id")
    assert error_id and error_id in (await hours.get_attribute("aria-describedby") or "").split()
    await expect(hours).to_have_accessible_description(re.compile("must be"))

    # The summary's link takes the keyboard to the field.
    await links.nth(1).click()
    await expect(hours).to_be_focused()

    await _fill(page)
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert [r["answers"] for r in await _stored(client, org)] == [EXPECTED]


async def test_offline_answers_are_queued_and_delivered_once_back_online(
    client: Client, live_url: str, site: SiteOrigin, context: BrowserContext
) -> None:
    org = await _survey(client, site)
    page = await _open(context, site, live_url)
    await _fill(page)

    await context.set_offline(True)
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_role("status")).to_contain_text("You are offline")
    await expect(page.get_by_role("button", name="Submit")).to_be_disabled()
    queued = await page.evaluate("JSON.parse(localStorage.getItem('feedback:queue'))")
    assert len(queued) == 1 and queued[0]["body"]["answers"] == EXPECTED
    assert await _stored(client, org) == []

    await context.set_offline(False)
    await expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert await page.evaluate("JSON.parse(localStorage.getItem('feedback:queue'))") == []
    stored = await _stored(client, org)
    assert len(stored) == 1
    assert stored[0]["response_id"] == queued[0]["body"]["response_id"]

    # Sent again (another tab flushing the same item, say), it is still one response.
    await page.evaluate(
        "item => fetch(item.url, {method: 'POST', headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify(item.body)}).then(r => r.status)",
        queued[0],
    )
    assert len(await _stored(client, org)) == 1


async def test_a_queue_left_by_a_closed_page_is_sent_on_the_next_visit(
    client: Client, live_url: str, site: SiteOrigin, context: BrowserContext
) -> None:
    org = await _survey(client, site)
    page = await _open(context, site, live_url)
    await _fill(page, hours="1.5")
    await context.set_offline(True)
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_role("status")).to_contain_text("You are offline")
    await page.close()

    await context.set_offline(False)
    assert await _stored(client, org) == []
    again = await context.new_page()
    await again.goto(site.url + "/")
    await expect(again.get_by_role("heading", name="Thank you")).to_be_visible()
    stored = await _stored(client, org)
    assert len(stored) == 1 and stored[0]["answers"]["hours"] == 1.5


async def test_a_busy_server_is_retried_after_the_time_it_asks_for(
    client: Client, live_url: str, site: SiteOrigin, context: BrowserContext
) -> None:
    org = await _survey(client, site)
    page = await _open(context, site, live_url)
    attempts: list[float] = []

    async def first_one_busy(route: Route) -> None:
        if route.request.method != "POST":
            await route.continue_()
            return
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            await route.fulfill(
                status=503,
                headers={
                    "Access-Control-Allow-Origin": site.url,
                    "Access-Control-Expose-Headers": "Retry-After",
                    "Retry-After": "1",
                },
                body="",
            )
        else:
            await route.continue_()

    await page.route(f"{live_url}/api/v1/public/acme/pulse/responses", first_one_busy)
    await _fill(page)
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert len(attempts) == 2
    assert attempts[1] - attempts[0] >= 0.95  # Retry-After: 1
    assert len(await _stored(client, org)) == 1


NL_LABEL = 'Ik vertrouw <b>jullie</b> <img src=x onerror="window.pwned=1">'


async def test_the_embed_speaks_the_first_browser_language_the_survey_has(
    client: Client, live_url: str, site: SiteOrigin, browser: Browser
) -> None:
    org = await make_org(client)
    definition = {
        "questions": [
            {
                "key": "trust",
                "type": "likert",
                "required": True,
                "label": {"en": "I trust you", "nl": NL_LABEL},
                "scale": {"min": 1, "max": 5},
            }
        ]
    }
    await make_survey(
        client,
        org,
        definition=definition,
        settings={"allowed_origins": [site.url], "locales": ["en", "nl"]},
    )
    # German first, which the survey lacks; Dutch second.
    context = await browser.new_context(locale="de-DE")
    try:
        page = await context.new_page()
        await page.add_init_script(
            "Object.defineProperty(navigator, 'languages', {get: () => ['de-DE', 'nl-NL', 'en']})"
        )
        await page.goto(site.embed("/", live_url, "acme/pulse"))
        await expect(page.get_by_role("button", name="Versturen")).to_be_visible()
        # The label is text: its markup shows as typed and never runs.
        await expect(page.locator("legend")).to_contain_text(NL_LABEL)
        assert await page.locator("[data-feedback-survey] :is(img, b)").count() == 0
        assert await page.evaluate("window.pwned") is None
        await page.get_by_role("radio", name="5").check()
        await page.get_by_role("button", name="Versturen").click()
        await expect(page.get_by_role("heading", name="Bedankt")).to_be_visible()
    finally:
        await context.close()
    stored = await _stored(client, org)
    assert [(r["answers"], r["locale"]) for r in stored] == [({"trust": 5}, "nl")]


async def test_a_refused_queued_answer_asks_afresh_on_the_next_visit(
    client: Client, live_url: str, site: SiteOrigin, context: BrowserContext
) -> None:
    org = await _survey(client, site)
    page = await _open(context, site, live_url)
    await page.get_by_role("radio", name="Housing").check()  # the required question left out
    await context.set_offline(True)
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_role("status")).to_contain_text("You are offline")
    await page.close()

    await context.set_offline(False)
    again = await context.new_page()
    await again.goto(site.url + "/")
    await expect(again.get_by_role("button", name="Submit")).to_be_enabled()
    await expect(again.get_by_role("radio", name="Housing")).not_to_be_checked()
    assert await again.evaluate("JSON.parse(localStorage.getItem('feedback:queue'))") == []
    assert await _stored(client, org) == []


async def test_a_number_with_thousands_is_read_as_the_forms_language_writes_it(
    client: Client, live_url: str, site: SiteOrigin, context: BrowserContext
) -> None:
    """In English "1,000" is a thousand, not 1.0 (the reading a decimal comma gives): over the
    question's 168 hours, it is refused beside the field instead of stored a thousand times off."""
    org = await _survey(client, site)
    page = await _open(context, site, live_url)
    await _fill(page, hours="1,000")
    await page.get_by_role("button", name="Submit").click()
    hours = page.get_by_label("Hours volunteered")
    await expect(hours).to_have_attribute("aria-invalid", "true")
    await expect(hours).to_have_accessible_description(re.compile("168"))
    assert await _stored(client, org) == []
    await hours.fill("1,5")
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert [r["answers"]["hours"] for r in await _stored(client, org)] == [1.5]
