"""Who is asking and what happens to the answers: the organisation's name and logo, the intro,
per-question hints, the privacy notice and the thank-you, localised, on the hosted page and in the
public form JSON the embed renders; and the settings that hold them, validated field by field."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.builders.orgs import Org, make_org
from tests.builders.surveys import make_survey
from tests.forms.dom import parse

Client = AsyncTestClient[Litestar]
SETTINGS: dict[str, Any] = {
    "locales": ["es", "ar"],
    "intro": {
        "en": "Five minutes on our campaigns.\nWe read every answer.",
        "es": "Cinco minutos sobre nuestras campañas.",
        "ar": "خمس دقائق عن حملاتنا.",
    },
    "thank_you": {
        "en": "We will write back in May.",
        "es": "Le escribiremos en mayo.",
        "ar": "شكرا",
    },
    "privacy_url": "https://acme.example/privacy",
    "logo_url": "https://cdn.acme.example:8443/logo.png",
}
DEFINITION: dict[str, Any] = {
    "questions": [
        {
            "key": "hours",
            "type": "number",
            "label": {"en": "Hours", "es": "Horas", "ar": "ساعات"},
            "hint": {"en": "Round to the hour.", "es": "Redondee a la hora.", "ar": "قرّب"},
            "min": 0,
            "max": 168,
        }
    ]
}


async def _survey(client: Client, **settings: Any) -> Org:
    org = await make_org(client)
    await make_survey(client, org, definition=DEFINITION, settings={**SETTINGS, **settings})
    return org


async def test_the_hosted_form_says_who_asks_and_what_happens(client: Client) -> None:
    await _survey(client)
    got = await client.get("/f/acme/pulse")
    doc = parse(got.text)

    assert doc.find("p", class_="fb-org").text == "A survey by Acme"
    logo = doc.find("img", class_="fb-logo")
    assert logo["src"] == SETTINGS["logo_url"] and logo["alt"] == "Acme"
    # The page loads no image but its own and the logo's origin.
    assert (
        "img-src 'self' data: https://cdn.acme.example:8443;"
        in got.headers["content-security-policy"]
    )
    assert doc.find("p", class_="fb-intro").text == SETTINGS["intro"]["en"]
    assert doc.by_id("q-hours-hint").text.startswith("Round to the hour.")
    privacy = doc.find("p", class_="fb-privacy").find("a")
    assert (privacy["href"], privacy.text) == (SETTINGS["privacy_url"], "How we use your answers")

    spanish = parse((await client.get("/f/acme/pulse?locale=es")).text)
    assert spanish.find("p", class_="fb-org").text == "Una encuesta de Acme"
    assert spanish.find("p", class_="fb-intro").text == SETTINGS["intro"]["es"]
    assert spanish.by_id("q-hours-hint").text.startswith("Redondee a la hora.")

    hidden = {n["name"]: n["value"] for n in spanish.find_all("input", type="hidden")}
    thanks = parse((await client.post("/f/acme/pulse", data={**hidden, "hours": "3"})).text)
    assert thanks.find("p", class_="fb-thanks").text == "Le escribiremos en mayo."
    assert thanks.find("p", class_="fb-org").text == "Una encuesta de Acme"


async def test_a_right_to_left_locale_renders_rtl(client: Client) -> None:
    await _survey(client)
    doc = parse((await client.get("/f/acme/pulse?locale=ar")).text)
    assert (doc.find("html")["lang"], doc.find("html")["dir"]) == ("ar", "rtl")
    form = (await client.get("/api/v1/public/acme/pulse/form?locale=ar")).json()
    assert (form["locale"], form["dir"]) == ("ar", "rtl")
    assert (await client.get("/api/v1/public/acme/pulse/form")).json()["dir"] == "ltr"


async def test_the_public_form_carries_the_framing_in_its_locale(client: Client) -> None:
    await _survey(client)
    form = (await client.get("/api/v1/public/acme/pulse/form?locale=es")).json()
    assert {k: form[k] for k in ("org_name", "intro", "thank_you", "privacy_url", "logo_url")} == {
        "org_name": "Acme",
        "intro": SETTINGS["intro"]["es"],
        "thank_you": SETTINGS["thank_you"]["es"],
        "privacy_url": SETTINGS["privacy_url"],
        "logo_url": SETTINGS["logo_url"],
    }
    assert form["questions"][0]["hint"] == "Redondee a la hora."


async def test_without_framing_settings_the_form_uses_its_own_words(client: Client) -> None:
    org = await make_org(client)
    await make_survey(
        client,
        org,
        definition={"questions": [{**DEFINITION["questions"][0], "label": "Hours", "hint": None}]},
    )
    form = (await client.get("/api/v1/public/acme/pulse/form")).json()
    assert (form["intro"], form["thank_you"], form["privacy_url"], form["logo_url"]) == (None,) * 4
    doc = parse((await client.get("/f/acme/pulse")).text)
    assert doc.find_all("p", class_="fb-intro") == [] and doc.find_all("img") == []
    hidden = {n["name"]: n["value"] for n in doc.find_all("input", type="hidden")}
    thanks = parse((await client.post("/f/acme/pulse", data=hidden)).text)
    assert thanks.find("p", class_="fb-thanks").text == "Your answers have been received."


async def test_framing_settings_are_validated_by_field(client: Client) -> None:
    org = await make_org(client)

    async def problems(settings: dict[str, Any], hint: object = None) -> set[tuple[str, str]]:
        question = {**DEFINITION["questions"][0], "label": "Hours", "hint": hint}
        bad = await client.post(
            "/api/v1/surveys",
            json={
                "slug": "pulse",
                "title": "Pulse",
                "definition": {"questions": [question]},
                "settings": settings,
            },
            headers=org.auth("campaigner"),
        )
        assert bad.status_code == 422, bad.text
        return {(e["pointer"], e["message"]) for e in bad.json()["errors"]}

    assert await problems(
        {
            "privacy_url": "javascript:alert(1)",
            "logo_url": "http://cdn.acme.example/logo.png",
            "intro": 3,
        }
    ) == {
        ("/settings/privacy_url", "must be an https:// URL"),
        ("/settings/logo_url", "must be an https:// URL"),
        ("/settings/intro", "must be a string or an object mapping locale codes to strings"),
    }
    assert await problems(
        {"locales": ["es"], "intro": {"en": "Hello"}, "thank_you": "  "},
        hint={"en": "x", "xx": "y"},
    ) >= {
        ("/settings/intro/es", "is required: the survey declares locale 'es'"),
        ("/settings/thank_you", "must not be empty"),
        ("/definition/questions/0/hint/es", "is required: the survey declares locale 'es'"),
    }
    assert await problems({"logo_url": "https://user:pw@cdn.example/l.png"}) == {
        ("/settings/logo_url", "must not contain credentials")
    }
    # A rejected request changes nothing.
    got = await client.get("/api/v1/surveys/pulse", headers=org.auth("analyst"))
    assert got.status_code == 404


async def test_a_localised_title_and_description(client: Client) -> None:
    org = await _survey(client)
    title = {"en": "Our rivers", "es": "Nuestros ríos", "ar": "أنهارنا"}
    description = {"en": "Monthly pulse", "es": "Pulso mensual", "ar": "نبض شهري"}
    changed = await client.patch(
        "/api/v1/surveys/pulse",
        json={"title": title, "description": description},
        headers=org.auth("campaigner"),
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["title"], changed.json()["description"]) == (title, description)

    spanish = parse((await client.get("/f/acme/pulse?locale=es")).text)
    assert spanish.find("h1").text == "Nuestros ríos"
    assert spanish.find("title").text == "Nuestros ríos"
    assert spanish.find("p", class_="fb-description").text == "Pulso mensual"
    form = (await client.get("/api/v1/public/acme/pulse/form?locale=ar")).json()
    assert (form["title"], form["description"]) == ("أنهارنا", "نبض شهري")

    # A map must cover the survey's locales; a rejected change changes nothing.
    bad = await client.patch(
        "/api/v1/surveys/pulse",
        json={"title": {"en": "Rivers"}, "description": {"en": "x", "es": "y", "ar": " "}},
        headers=org.auth("campaigner"),
    )
    assert bad.status_code == 422
    assert {(e["pointer"], e["message"]) for e in bad.json()["errors"]} == {
        ("/title/es", "is required: the survey declares locale 'es'"),
        ("/title/ar", "is required: the survey declares locale 'ar'"),
        ("/description/ar", "must not be empty"),
    }
    got = await client.get("/api/v1/surveys/pulse", headers=org.auth("analyst"))
    assert got.json()["title"] == title


async def test_a_logo_on_an_internationalised_host_is_kept_in_its_ascii_form(
    client: Client,
) -> None:
    """The logo's origin is named in the page's Content-Security-Policy, a header, which cannot
    carry `例え.jp`: it is kept as browsers request it, and the page shows."""
    org = await _survey(client, logo_url="https://例え.jp:8443/logo.png?size=ü")
    survey = await client.get("/api/v1/surveys/pulse", headers=org.auth("campaigner"))
    assert survey.json()["settings"]["logo_url"] == "https://xn--r8jz45g.jp:8443/logo.png?size=ü"
    got = await client.get("/f/acme/pulse")
    assert got.status_code == 200, got.text
    assert (
        "img-src 'self' data: https://xn--r8jz45g.jp:8443;"
        in got.headers["content-security-policy"]
    )
    refused = await client.patch(
        "/api/v1/surveys/pulse",
        json={"settings": {**SETTINGS, "logo_url": "https://a..例.jp/logo.png"}},
        headers=org.auth("campaigner"),
    )
    assert refused.status_code == 422, refused.text
    assert [e["pointer"] for e in refused.json()["errors"]] == ["/settings/logo_url"]


@pytest.mark.parametrize(
    ("locale", "direction"),
    [
        ("ckb", "rtl"),  # Sorani Kurdish, Arabic script
        ("syr", "rtl"),
        ("arz", "rtl"),  # Egyptian Arabic, which CLDR does not know
        ("pnb", "rtl"),  # Western Punjabi (Shahmukhi), nor this
        ("pa-Arab", "rtl"),  # the script decides
        ("az-Arab", "rtl"),
        ("ku-Latn", "ltr"),  # Kurmanji in Latin script
        ("pa", "ltr"),
    ],
)
async def test_the_form_runs_in_the_direction_of_its_script(
    client: Client, locale: str, direction: str
) -> None:
    org = await make_org(client)
    await make_survey(client, org, default_locale=locale)
    form = await client.get(f"/api/v1/public/{org.slug}/pulse/form")
    assert form.status_code == 200, form.text
    assert form.json()["dir"] == direction
    page = parse((await client.get(f"/f/{org.slug}/pulse")).text)
    assert (page.find("html")["lang"], page.find("html")["dir"]) == (locale, direction)
