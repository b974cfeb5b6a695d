"""What the hosted form tells assistive technology, read from its HTML: which questions must be
answered, as a state and not only as a visible mark (WCAG 1.3.1, 3.3.2, 4.1.2)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.builders.orgs import make_org
from tests.builders.surveys import make_survey, pulse_definition
from tests.forms.dom import Node, parse

Client = AsyncTestClient[Litestar]
FORM = "/f/acme/pulse"


def every_type_required() -> dict[str, Any]:
    """The pulse with every question required, and a date question."""
    definition = pulse_definition()
    definition["questions"].append({"key": "joined", "type": "date", "label": "Joined on"})
    for question in definition["questions"]:
        question["required"] = True
    return definition


async def test_required_is_a_state_of_each_question_not_only_a_mark(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org, definition=every_type_required())
    doc = parse((await client.get(FORM)).text)

    # One answer from a group: a radiogroup, the group role that can be required.
    for key in ("trust", "nps", "priority"):
        group = doc.by_id(f"{key}-group")
        assert (group.get("role"), group.get("aria-required")) == ("radiogroup", "true"), key
    # A checkbox group has no required state; its legend says it in words.
    actions = doc.by_id("actions-group")
    assert actions.get("role") is None and actions.get("aria-required") is None
    assert "Required" in actions.find("legend").text
    for key in ("hours", "comment", "joined"):
        assert doc.by_id(f"q-{key}").get("aria-required") == "true", key
    # Not `required`: Chromium reports a blank required radio or date as invalid at once.
    assert not [n for n in doc.iter() if "required" in n.attrs]

    # Optional questions say nothing of the kind.
    await make_survey(client, org, slug="optional", definition=pulse_definition())
    optional = parse((await client.get("/f/acme/optional")).text)
    assert optional.by_id("nps-group").get("role") == "radiogroup"
    assert optional.by_id("nps-group").get("aria-required") is None
    assert optional.by_id("q-hours").get("aria-required") is None


ARABIC: dict[str, Any] = {
    "questions": [
        {
            "key": "trust",
            "type": "likert",
            "required": True,
            "label": "أثق بأن المنظمة ستعمل وفق آرائي",
            "scale": {"min": 1, "max": 5},
        }
    ]
}


def _words(node: Node) -> str | None:
    """The language an element's own words are marked in, from it or its nearest ancestor."""
    current: Node | None = node
    while current is not None:
        if "lang" in current.attrs:
            return current.attrs["lang"]
        current = current.parent
    return None


async def test_the_forms_english_words_on_a_page_in_another_language_say_they_are_english(
    client: Client,
) -> None:
    """3.1.2: the forms speak six languages; a survey in Arabic gets their English words around
    its questions, and a screen reader must read those in English, not with an Arabic voice."""
    org = await make_org(client)
    await make_survey(
        client,
        org,
        definition=ARABIC,
        default_locale="ar",
        settings={"privacy_url": "https://acme.example/privacy"},
    )
    doc = parse((await client.get(FORM)).text)
    assert (doc.find("html")["lang"], doc.find("html")["dir"]) == ("ar", "rtl")
    assert _words(doc.by_id("trust-group").find("legend")) == "ar"
    assert _words(doc.find("span", class_="fb-req")) == "en"
    assert _words(doc.find("button")) == "en"
    assert _words(doc.find("p", class_="fb-org")) == "en"
    assert _words(doc.find("p", class_="fb-privacy")) == "en"

    hidden = {n["name"]: n["value"] for n in doc.find_all("input", type="hidden")}
    got = await client.post(FORM, data=hidden)
    assert got.status_code == 422
    page = parse(got.text)
    assert _words(page.by_id("fb-summary-title")) == "en"
    assert _words(page.by_id("q-trust-error")) == "en"

    thanks = parse((await client.post(FORM, data={**hidden, "trust": "3"})).text)
    assert _words(thanks.find("h1")) == "en"
    assert _words(thanks.find("p", class_="fb-thanks")) == "en"


async def test_a_form_in_a_language_the_forms_speak_marks_no_part(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org, definition=pulse_definition(), default_locale="es")
    html = (await client.get(FORM)).text
    assert html.count("lang=") == 1  # <html lang="es"> only


async def test_a_survey_without_results_in_arabic_says_so_around_english_words(
    client: Client,
) -> None:
    org = await make_org(client)
    await make_survey(client, org, definition=ARABIC, default_locale="ar")
    got = await client.get("/r/acme/pulse")
    assert got.status_code == 404
    doc = parse(got.text)
    assert (doc.find("html")["lang"], _words(doc.find("h1"))) == ("ar", "en")


async def test_the_reports_questions_are_marked_in_the_surveys_language(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org, definition=pulse_definition(), default_locale="nl")
    made = await client.post(
        "/api/v1/surveys/pulse/report-links", json={}, headers=org.auth("analyst")
    )
    assert made.status_code == 201, made.text
    doc = parse((await client.get("/" + made.json()["url"].split("/", 3)[3])).text)
    assert doc.find("html")["lang"] == "en"  # the report's own words
    assert _words(doc.by_id("q-trust-label")) == "nl"
    assert _words(doc.find("h1")) == "nl"
    assert _words(doc.find("p", class_="meta")) == "en"


async def test_a_dates_limits_are_said_before_it_is_answered(client: Client) -> None:
    """3.3.2: a number's range is in its hint; a date's limits were only in the error after a
    refused answer."""
    org = await make_org(client)
    dates: dict[str, Any] = {
        "questions": [
            {"key": "joined", "type": "date", "label": "Joined", "min": "2000-01-01"},
            {"key": "event", "type": "date", "label": "Event", "max": "2030-12-31"},
            {
                "key": "born",
                "type": "date",
                "label": "Born",
                "min": "1900-01-01",
                "max": "2026-06-30",
                "hint": "Roughly is fine.",
            },
        ]
    }
    await make_survey(client, org, definition=dates)
    doc = parse((await client.get(FORM)).text)
    assert doc.by_id("q-joined-hint").text == "A date on or after 1 January 2000."
    assert doc.by_id("q-event-hint").text == "A date on or before 31 December 2030."
    assert (
        doc.by_id("q-born-hint").text
        == "Roughly is fine. A date from 1 January 1900 to 30 June 2026."
    )
    assert doc.by_id("q-born")["aria-describedby"] == "q-born-hint"

    await make_survey(client, org, slug="fechas", definition=dates, default_locale="es")
    spanish = parse((await client.get("/f/acme/fechas")).text)
    assert spanish.by_id("q-born-hint").text == (
        "Roughly is fine. Una fecha del 1 de enero de 1900 al 30 de junio de 2026."
    )


async def test_each_page_of_a_form_in_pages_has_its_own_title(client: Client) -> None:
    """2.4.2: without JavaScript, skip logic splits a form into pages; after Next the title said
    the same as before, so nothing told a screen-reader user that the page had moved on. The
    number counts the pages shown, not those skipped."""
    from tests.builders.skip_logic import nps, why_not

    org = await make_org(client)
    # Asked of promoters, on a page of its own: it looks back at why_not, on the second page.
    promoters = {
        "all": [
            {"question": "why_not", "answered": False},
            {"question": "nps", "at_least": 9},
        ]
    }
    thanks = {"key": "thanks", "type": "text", "label": "What do we do well?"}
    definition = {"questions": [nps(), why_not(), {**thanks, "show_if": promoters}]}
    await make_survey(client, org, definition=definition)
    first = parse((await client.get(FORM)).text)
    assert first.find("title").text == "Pulse"
    hidden = {n["name"]: n["value"] for n in first.find_all("input", type="hidden")}

    second = parse((await client.post(FORM, data={**hidden, "nps": "3"})).text)
    assert [n["id"] for n in second.find_all("textarea")] == ["q-why_not"]
    assert second.find("title").text == "Pulse – Page 2"
    carried = {n["name"]: n["value"] for n in second.find_all("input", type="hidden")}
    refused = parse((await client.post(FORM, data=carried)).text)
    assert refused.find("title").text == "Error: Pulse – Page 2"

    # A promoter skips why_not's page to the third: the second they see.
    promoter = parse((await client.post(FORM, data={**hidden, "nps": "10"})).text)
    assert [n["id"] for n in promoter.find_all("textarea")] == ["q-thanks"]
    assert promoter.find("title").text == "Pulse – Page 2"
