"""Forms supporters trust, in Debian's chromium: who is asking and what happens to the answers,
messages in the form's language, scales on one row with their end labels under their ends, an
honest embed offline and on a site that is not allowed, and right-to-left languages; on the
hosted page with JavaScript off and in the embed, at phone and desktop widths."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from tests.browser.conftest import SiteOrigin
from tests.builders.orgs import Org, make_org
from tests.builders.surveys import make_survey

Client = AsyncTestClient[Litestar]
DOCS = Path(__file__).resolve().parents[2] / "docs"


def _texts(en: str, es: str, ar: str) -> dict[str, str]:
    return {"en": en, "es": es, "ar": ar}


DEFINITION: dict[str, Any] = {
    "questions": [
        {
            "key": "nps",
            "type": "nps",
            "required": True,
            "label": _texts(
                "How likely are you to recommend us to a friend?",
                "¿Con qué probabilidad nos recomendaría a un amigo?",
                "ما مدى احتمال أن توصي بنا لصديق؟",
            ),
            "hint": _texts(
                "Think of the last month.", "Piense en el último mes.", "فكّر في الشهر الماضي."
            ),
            "labels": {
                "0": _texts("Not at all likely", "Nada probable", "غير محتمل إطلاقا"),
                "10": _texts("Extremely likely", "Muy probable", "محتمل جدا"),
            },
        },
        {
            "key": "trust",
            "type": "likert",
            "required": True,
            "label": _texts(
                "I trust the organisation to act on my views",
                "Confío en que la organización actúe según mis opiniones",
                "أثق بأن المنظمة ستعمل وفق آرائي",
            ),
            "scale": {
                "min": 1,
                "max": 5,
                "labels": {
                    "1": _texts("Strongly disagree", "Muy en desacuerdo", "أعارض بشدة"),
                    "5": _texts("Strongly agree", "Muy de acuerdo", "أوافق بشدة"),
                },
            },
        },
        {
            "key": "hours",
            "type": "number",
            "label": _texts("Hours volunteered", "Horas de voluntariado", "ساعات التطوع"),
            "min": 0,
            "max": 168,
        },
    ]
}
INTRO = _texts(
    "Five minutes on how we campaign. We read every answer and publish what we do about it.",
    "Cinco minutos sobre cómo hacemos campaña. Leemos cada respuesta y publicamos lo que hacemos.",
    "خمس دقائق عن طريقة حملاتنا. نقرأ كل إجابة وننشر ما نفعله بها.",
)
THANKS = _texts(
    "Thank you! We publish what we do about your answers every month.",
    "¡Gracias! Cada mes publicamos lo que hacemos con sus respuestas.",
    "شكرا! ننشر كل شهر ما نفعله بإجاباتك.",
)
WORDS = {
    "en": {
        "org": "A survey by Riverkeepers",
        "privacy": "How we use your answers",
        "submit": "Submit",
        "problem": "There is a problem",
        "required": "is required",
        "hours": "Hours volunteered",
    },
    "es": {
        "org": "Una encuesta de Riverkeepers",
        "privacy": "Cómo usamos sus respuestas",
        "submit": "Enviar",
        "problem": "Hay un problema",
        "required": "es obligatoria",
        "hours": "Horas de voluntariado",
    },
}


async def _survey(client: Client, origins: list[str]) -> Org:
    org = await make_org(client, "riverkeepers")
    await make_survey(
        client,
        org,
        definition=DEFINITION,
        settings={
            "allowed_origins": origins,
            "locales": ["es", "ar"],
            "intro": INTRO,
            "thank_you": THANKS,
            "privacy_url": "https://riverkeepers.example/privacy",
        },
    )
    return org


async def _boxes(locator: Locator) -> list[dict[str, float]]:
    boxes = []
    for i in range(await locator.count()):
        box = await locator.nth(i).bounding_box()
        assert box is not None
        boxes.append(box)
    return boxes


async def _assert_scale_on_one_row(question: Locator, rtl: bool = False) -> None:
    """Every point on one row, in reading order, inside the question; the end labels under the
    first and the last point, at their outer edges."""
    # The embed adds the stylesheet to the page: measure once it applies.
    await expect(question.locator(".fb-scale")).to_have_css("display", "grid")
    boxes = await _boxes(question.locator(".fb-box"))
    assert len(boxes) in (5, 11)
    assert max(b["y"] for b in boxes) - min(b["y"] for b in boxes) < 1, boxes
    xs = [b["x"] for b in boxes]
    assert xs == sorted(xs, reverse=rtl), xs
    assert min(b["width"] for b in boxes) >= 18, boxes
    outer = await question.bounding_box()
    assert outer is not None
    assert min(xs) >= outer["x"] - 0.5
    assert max(b["x"] + b["width"] for b in boxes) <= outer["x"] + outer["width"] + 0.5
    ends = question.locator(".fb-ends span")
    if await ends.count():
        low, high = await _boxes(ends)
        first, last = boxes[0], boxes[-1]
        bottom = max(b["y"] + b["height"] for b in boxes)
        assert low["y"] >= bottom and high["y"] >= bottom
        if rtl:
            first, last = last, first  # the low end is on the right
            assert abs((low["x"] + low["width"]) - (last["x"] + last["width"])) < 2
            assert abs(high["x"] - first["x"]) < 2
        else:
            assert abs(low["x"] - first["x"]) < 2, (low, first)
            assert abs((high["x"] + high["width"]) - (last["x"] + last["width"])) < 2
        # Each label stays on its own half of the row.
        middle = (first["x"] + last["x"] + last["width"]) / 2
        assert (low["x"] + low["width"] <= middle + 1) != rtl
        assert (high["x"] >= middle - 1) != rtl


def _nps(page: Page) -> Locator:
    return page.locator("fieldset.fb-q").filter(has=page.locator("input[value='10']")).first


async def _check_framing(page: Page, language: str) -> None:
    words = WORDS[language]
    await expect(page.locator(".fb-org")).to_have_text(words["org"])
    await expect(page.locator(".fb-intro")).to_have_text(INTRO[language])
    privacy = page.get_by_role("link", name=words["privacy"])
    await expect(privacy).to_have_attribute("href", "https://riverkeepers.example/privacy")
    await expect(page.locator(".fb-hint").first).to_contain_text(
        DEFINITION["questions"][0]["hint"][language]
    )


@pytest.mark.parametrize("width", [320, 400, 1200])
@pytest.mark.parametrize("language", ["en", "es"])
async def test_hosted_form_without_javascript(
    client: Client, live_url: str, browser: Browser, width: int, language: str
) -> None:
    org = await _survey(client, [])
    words = WORDS[language]
    context = await browser.new_context(
        java_script_enabled=False,
        locale={"en": "en-GB", "es": "es-ES"}[language],
        viewport={"width": width, "height": 900},
    )
    try:
        page = await context.new_page()
        await page.goto(f"{live_url}/f/riverkeepers/pulse")
        await expect(page.locator("html")).to_have_attribute("lang", language)
        await _check_framing(page, language)
        await _assert_scale_on_one_row(_nps(page))
        await _assert_scale_on_one_row(page.locator("fieldset.fb-q").nth(1))
        if width == 400 and language == "en" and os.environ.get("FEEDBACK_UPDATE_SCREENSHOT"):
            await page.screenshot(path=str(DOCS / "form-phone.png"), full_page=True)

        await page.get_by_label(words["hours"]).fill("500")
        await page.get_by_role("button", name=words["submit"]).click()
        alert = page.get_by_role("alert")
        await expect(alert.get_by_role("heading")).to_have_text(words["problem"])
        await expect(alert.get_by_role("listitem")).to_have_count(3)
        await expect(alert.get_by_role("listitem").first).to_contain_text(words["required"])
        if language == "es":
            await expect(alert).to_contain_text("debe ser un número de 0 a 168")
            await expect(alert).not_to_contain_text("must be")

        await _nps(page).locator("label[for='q-nps-9']").click()
        await page.locator("label[for='q-trust-3']").click()
        await page.get_by_label(words["hours"]).fill("4")
        await page.get_by_role("button", name=words["submit"]).click()
        await expect(page.locator(".fb-thanks")).to_have_text(THANKS[language])
        await expect(page.locator(".fb-org")).to_have_text(words["org"])
    finally:
        await context.close()
    got = await client.get("/api/v1/surveys/pulse/responses", headers=org.auth("analyst"))
    assert [r["answers"] for r in got.json()["items"]] == [{"nps": 9, "trust": 4, "hours": 4}]


@pytest.mark.parametrize("width", [320, 400, 1200])
@pytest.mark.parametrize("language", ["en", "es"])
async def test_embed_says_who_asks_in_the_forms_language(
    client: Client,
    live_url: str,
    site: SiteOrigin,
    browser: Browser,
    width: int,
    language: str,
) -> None:
    await _survey(client, [site.url])
    words = WORDS[language]
    context = await browser.new_context(
        locale={"en": "en-GB", "es": "es-ES"}[language], viewport={"width": width, "height": 900}
    )
    try:
        page = await context.new_page()
        await page.goto(site.embed("/", live_url, "riverkeepers/pulse"))
        await expect(page.get_by_role("button", name=words["submit"])).to_be_visible()
        await expect(page.locator(".fb-root").first).to_have_attribute("dir", "ltr")
        await _check_framing(page, language)
        await _assert_scale_on_one_row(_nps(page))
        await _assert_scale_on_one_row(page.locator("fieldset.fb-q").nth(1))
        if width == 1200 and language == "en" and os.environ.get("FEEDBACK_UPDATE_SCREENSHOT"):
            # docs/form.png: the embed on a campaign site, filled in.
            await _nps(page).locator(".fb-point").nth(9).click()
            await page.locator("fieldset.fb-q").nth(1).locator(".fb-point").nth(3).click()
            await page.get_by_label(words["hours"]).fill("3")
            await page.evaluate("document.activeElement.blur()")
            await page.screenshot(path=str(DOCS / "form.png"), full_page=True)
            await page.reload()
            await expect(page.get_by_role("button", name=words["submit"])).to_be_visible()

        await page.get_by_label(words["hours"]).fill("500")
        await page.get_by_role("button", name=words["submit"]).click()
        alert = page.get_by_role("alert")
        await expect(alert.get_by_role("heading")).to_have_text(words["problem"])
        await expect(alert.get_by_role("listitem").first).to_contain_text(words["required"])
        if language == "es":
            await expect(alert).to_contain_text("debe ser un número de 0 a 168")
            await expect(alert).not_to_contain_text("must be")

        await _nps(page).locator(".fb-point").nth(9).click()
        await page.locator("fieldset.fb-q").nth(1).locator(".fb-point").nth(3).click()
        await page.get_by_label(words["hours"]).fill("4")
        await page.get_by_role("button", name=words["submit"]).click()
        await expect(page.locator(".fb-panel p").first).to_have_text(THANKS[language])
    finally:
        await context.close()


async def test_offline_after_an_error_the_problem_box_goes_before_the_notice(
    client: Client, live_url: str, site: SiteOrigin, context: BrowserContext
) -> None:
    await _survey(client, [site.url])
    page = await context.new_page()
    await page.goto(site.embed("/", live_url, "riverkeepers/pulse"))
    await page.get_by_role("button", name="Submit").click()
    alert = page.get_by_role("alert")
    await expect(alert).to_be_visible()
    await expect(page.locator(".fb-invalid")).to_have_count(2)

    await _nps(page).locator(".fb-point").nth(8).click()
    await page.locator("fieldset.fb-q").nth(1).locator(".fb-point").nth(1).click()
    await context.set_offline(True)
    await page.get_by_role("button", name="Submit").click()
    await expect(page.locator(".fb-status")).to_contain_text("saved on this device")
    await expect(alert).to_be_hidden()
    await expect(page.locator(".fb-invalid")).to_have_count(0)
    await expect(page.locator(".fb-error-msg:visible")).to_have_count(0)
    await context.set_offline(False)


@pytest.mark.parametrize("language", ["en", "es"])
async def test_a_site_that_is_not_allowed_is_told_why(
    client: Client, live_url: str, site: SiteOrigin, browser: Browser, language: str
) -> None:
    await _survey(client, ["https://riverkeepers.example"])
    context = await browser.new_context(locale={"en": "en-GB", "es": "es-ES"}[language])
    warnings: list[str] = []
    try:
        page = await context.new_page()
        page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
        await page.goto(site.embed("/", live_url, "riverkeepers/pulse"))
        status = page.locator(".fb-root .fb-panel")
        expected = {
            "en": "This survey cannot be shown on this website.",
            "es": "Esta encuesta no se puede mostrar en este sitio web.",
        }[language]
        await expect(status).to_contain_text(expected)
        await expect(status).not_to_contain_text(re.compile("later|más tarde"))
        link = status.get_by_role("link")
        await expect(link).to_have_attribute("href", f"{live_url}/f/riverkeepers/pulse")
        # The link works: the hosted page needs no allowed origin.
        await link.click()
        await expect(page.locator(".fb-org")).to_be_visible()
    finally:
        await context.close()
    [why] = [w for w in warnings if w.startswith("feedback:")]
    assert f"origin {site.url} is not in the allowed_origins" in why


@pytest.mark.parametrize("width", [400, 1200])
async def test_right_to_left_languages_render_rtl(
    client: Client, live_url: str, site: SiteOrigin, browser: Browser, width: int
) -> None:
    await _survey(client, [site.url])
    for javascript in (False, True):
        context = await browser.new_context(
            java_script_enabled=javascript, locale="ar", viewport={"width": width, "height": 900}
        )
        try:
            page = await context.new_page()
            if javascript:
                await page.goto(site.embed("/", live_url, "riverkeepers/pulse", locale="ar"))
                root = page.locator(".fb-root").first
            else:
                await page.goto(f"{live_url}/f/riverkeepers/pulse")
                root = page.locator("html")
            await expect(page.locator(".fb-intro")).to_have_text(INTRO["ar"])
            await expect(root).to_have_attribute("dir", "rtl")
            await expect(root).to_have_attribute("lang", "ar")
            await _assert_scale_on_one_row(_nps(page), rtl=True)
        finally:
            await context.close()
