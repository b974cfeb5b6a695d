"""The hosted form page with the real app: what it renders, what its plain POST stores, and what
it shows when something is wrong."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.clock import fixed_clock
from tests.builders.orgs import Org, make_org
from tests.builders.surveys import make_survey, pulse_definition
from tests.forms.dom import Node, parse

Client = AsyncTestClient[Litestar]
NOW = datetime(2027, 10, 20, 9, 30, tzinfo=UTC)  # the next wave opens across a clock change
FORM = "/f/acme/pulse"


async def _setup(client: Client, **survey: Any) -> Org:
    org = await make_org(client)
    await make_survey(client, org, **survey)
    return org


async def _page(client: Client, url: str = FORM, **headers: str) -> tuple[Node, dict[str, str]]:
    got = await client.get(url, headers=headers)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/html")
    return parse(got.text), dict(got.headers)


def _hidden(doc: Node) -> dict[str, str]:
    return {n["name"]: n["value"] for n in doc.find_all("input", type="hidden")}


async def _post(client: Client, data: dict[str, Any], **headers: str) -> Any:
    return await client.post(FORM, data=data, headers=headers)


async def _stored(client: Client, org: Org) -> list[dict[str, Any]]:
    got = await client.get("/api/v1/surveys/pulse/responses", headers=org.auth("analyst"))
    assert got.status_code == 200, got.text
    items: list[dict[str, Any]] = got.json()["items"]
    return items


def _described_by(node: Node) -> list[str]:
    return (node.get("aria-describedby") or "").split()


async def test_every_question_type_renders_with_bound_labels(client: Client) -> None:
    await _setup(client)
    doc, headers = await _page(client)

    assert doc.find("html")["lang"] == "en"
    assert doc.find("h1").text == "Pulse"
    form = doc.find("form")
    assert form["method"] == "post" and form["action"] == FORM
    hidden = _hidden(doc)
    assert hidden["_version"] == "1"
    uuid.UUID(hidden["_response_id"])

    # Scales and choices are fieldsets whose legend is the question.
    trust = doc.by_id("trust-group")
    assert trust.tag == "fieldset"
    assert trust.find("legend").text.startswith("I trust the organisation to act on my views")
    assert "Required" in trust.find("legend").text
    radios = trust.find_all("input", type="radio", name="trust")
    assert [r["value"] for r in radios] == ["1", "2", "3", "4", "5"]
    assert "Strongly disagree" in doc.find("label", for_="q-trust-0").text

    nps = doc.by_id("nps-group").find_all("input", type="radio", name="nps")
    assert [r["value"] for r in nps] == [str(v) for v in range(11)]
    # Eleven points carry their anchors beneath the row, and in the labels for screen readers.
    assert "Not at all likely" in doc.find("label", for_="q-nps-0").text
    assert doc.by_id("nps-group").find("div", class_="fb-ends")["aria-hidden"] == "true"

    priority = doc.by_id("priority-group")
    assert priority.tag == "fieldset"
    assert [r["value"] for r in priority.find_all("input", type="radio")] == [
        "climate",
        "housing",
        "health",
    ]
    actions = doc.by_id("actions-group")
    boxes = actions.find_all("input", type="checkbox", name="actions")
    assert [b["value"] for b in boxes] == ["petition", "march", "donate"]
    assert doc.by_id("q-actions-hint").text == "Choose up to 3."
    assert _described_by(actions) == ["q-actions-hint"]

    hours = doc.by_id("q-hours")
    assert hours.tag == "input" and hours["inputmode"] == "decimal"
    assert doc.find("label", for_="q-hours").text == "Hours volunteered"
    assert doc.by_id("q-hours-hint").text == "A number from 0 to 168."
    comment = doc.by_id("q-comment")
    assert comment.tag == "textarea" and comment["maxlength"] == "2000"
    assert doc.find("label", for_="q-comment").text == "Anything else?"

    # Every control has exactly one label naming it.
    for control in doc.find_all("input") + doc.find_all("textarea"):
        if control.get("type") == "hidden":
            continue
        assert len(doc.find_all("label", for_=control["id"])) == 1, control.attrs
    assert doc.find("button", type="submit").text == "Submit"

    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'self'" in csp
    assert "script-src" not in csp  # the page runs no script at all
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"


async def test_each_render_gets_its_own_response_id(client: Client) -> None:
    await _setup(client)
    first, _ = await _page(client)
    second, _ = await _page(client)
    assert _hidden(first)["_response_id"] != _hidden(second)["_response_id"]


async def test_labels_are_text_never_markup(client: Client) -> None:
    definition = pulse_definition()
    definition["questions"][0]["label"] = "<script>alert('label')</script>Trust?"
    definition["questions"][0]["scale"]["labels"]["1"] = '<img src=x onerror="alert(1)">'
    definition["questions"][2]["options"][0]["label"] = "<b>Climate</b> & <i>nature</i>"
    definition["questions"][5]["description"] = '"><svg onload=alert(2)>'
    await _setup(client, definition=definition)
    got = await client.get(FORM)
    assert got.status_code == 200

    assert "<script>" not in got.text and "<img" not in got.text and "<svg" not in got.text
    assert "<b>" not in got.text
    assert "&lt;script&gt;alert(&#39;label&#39;)&lt;/script&gt;Trust?" in got.text
    doc = parse(got.text)
    assert (
        doc.by_id("trust-group")
        .find("legend")
        .text.startswith("<script>alert('label')</script>Trust?")
    )
    assert doc.find("label", for_="q-priority-0").text == "<b>Climate</b> & <i>nature</i>"
    assert doc.by_id("q-comment-hint").text.startswith('"><svg onload=alert(2)>')


async def test_post_with_errors_links_them_to_fields_and_keeps_answers(client: Client) -> None:
    org = await _setup(client)
    doc, _ = await _page(client)
    hidden = _hidden(doc)
    got = await _post(
        client,
        {
            **hidden,
            "nps": "9",
            "priority": "housing",
            "actions": ["petition", "march"],
            "hours": "500",
            "comment": "More local groups, please <3",
        },
    )
    assert got.status_code == 422
    page = parse(got.text)
    assert page.find("title").text.startswith("Error: ")

    summary = page.by_id("fb-summary")
    assert summary["role"] == "alert" and "autofocus" in summary.attrs
    links = {a["href"]: a.text for a in summary.find_all("a")}
    assert list(links) == ["#q-trust-0", "#q-hours"]  # in the order of the form
    assert links["#q-trust-0"] == "I trust the organisation to act on my views: is required"
    assert links["#q-hours"].startswith("Hours volunteered: ")

    # The message sits beside its field and the field points at it.
    trust = page.by_id("trust-group")
    assert "fb-invalid" in trust["class"]
    assert _described_by(trust) == ["q-trust-error"]
    assert page.by_id("q-trust-error").text == "Error: is required"
    assert all(r["aria-invalid"] == "true" for r in trust.find_all("input", type="radio"))
    hours = page.by_id("q-hours")
    assert hours["aria-invalid"] == "true"
    assert _described_by(hours) == ["q-hours-hint", "q-hours-error"]
    assert page.by_id("q-hours-error").ancestor("div")["id"] == "hours-group"

    # What the supporter gave is still there, and nothing else is marked wrong.
    assert hours["value"] == "500"
    assert page.find("input", name="nps", value="9").get("checked") is not None
    assert page.find("input", name="priority", value="housing").get("checked") is not None
    checked = [b["value"] for b in page.find_all("input", name="actions") if "checked" in b.attrs]
    assert checked == ["petition", "march"]
    assert page.by_id("q-comment").text == "More local groups, please <3"
    assert "aria-invalid" not in page.by_id("q-comment").attrs
    assert _hidden(page)["_response_id"] == hidden["_response_id"]
    assert _hidden(page)["_version"] == "1"
    assert await _stored(client, org) == []


async def test_valid_post_thanks_and_stores_answers_by_type(client: Client) -> None:
    org = await _setup(client)
    doc, _ = await _page(client)
    hidden = _hidden(doc)
    data = {
        **hidden,
        "trust": "4",
        "nps": "10",
        "priority": "climate",
        "actions": ["march", "donate"],
        "hours": "2,5",
        "comment": "Keep going",
    }
    got = await _post(client, data)
    assert got.status_code == 200
    page = parse(got.text)
    assert page.find("h1").text == "Thank you"
    assert "Your answers have been received." in got.text
    assert "content-security-policy" in got.headers

    stored = await _stored(client, org)
    assert len(stored) == 1
    response = stored[0]
    assert response["response_id"] == hidden["_response_id"]
    assert response["channel"] == "hosted"
    assert response["version"] == 1
    assert response["answers"] == {
        "trust": 4,
        "nps": 10,
        "priority": "climate",
        "actions": ["march", "donate"],
        "hours": 2.5,
        "comment": "Keep going",
    }

    # Submit pressed twice: the same response_id and answers store nothing new.
    again = await _post(client, data)
    assert again.status_code == 200 and "Thank you" in again.text
    assert len(await _stored(client, org)) == 1

    # The same page sent back with other answers keeps the first ones and says so.
    changed = await _post(client, {**data, "trust": "1"})
    assert changed.status_code == 200
    assert "We had already received your answers" in changed.text
    assert (await _stored(client, org))[0]["answers"]["trust"] == 4


async def test_optional_questions_may_stay_blank(client: Client) -> None:
    org = await _setup(client)
    doc, _ = await _page(client)
    got = await _post(client, {**_hidden(doc), "trust": "3", "hours": "", "comment": "  "})
    assert got.status_code == 200, got.text
    assert (await _stored(client, org))[0]["answers"] == {"trust": 3}


async def test_a_tampered_version_shows_the_current_form_with_answers(client: Client) -> None:
    org = await _setup(client)
    doc, _ = await _page(client)
    got = await _post(client, {**_hidden(doc), "_version": "7", "trust": "5"})
    assert got.status_code == 422
    page = parse(got.text)
    assert "version: the form is out of date" in page.by_id("fb-summary").text
    assert _hidden(page)["_version"] == "1"
    assert page.find("input", name="trust", value="5").get("checked") is not None
    assert await _stored(client, org) == []


async def test_post_must_be_a_form(client: Client) -> None:
    await _setup(client)
    got = await client.post(FORM, json={"trust": 4})
    assert got.status_code == 415
    assert got.headers["content-type"].startswith("text/html")  # a page, like every answer here


@pytest.mark.parametrize("clock", [fixed_clock(NOW)])
async def test_closed_survey_says_when_it_next_opens(client: Client) -> None:
    starts = (NOW + timedelta(days=40)).replace(hour=8, minute=0, second=0, microsecond=0)
    schedule = {
        "rrule": "FREQ=MONTHLY",
        "starts_at": starts.isoformat(),
        "timezone": "Europe/Amsterdam",
        "wave_duration": "P7D",
    }
    await _setup(client, schedule=schedule)
    doc, headers = await _page(client)
    assert doc.find("h2").text == "This survey is closed"
    when = doc.find("time")
    assert datetime.fromisoformat(when["datetime"]) == starts
    local = starts.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Amsterdam"))
    assert when.text == f"{local:%Y-%m-%d %H:%M} (Europe/Amsterdam)"
    assert "It opens again on" in doc.find("time").parent.text  # type: ignore[union-attr]
    assert not doc.find_all("form")
    assert "frame-ancestors" in headers["content-security-policy"]


async def test_archived_survey_shows_closed_and_refuses_a_late_post(client: Client) -> None:
    org = await _setup(client)
    doc, _ = await _page(client)
    archived = await client.post("/api/v1/surveys/pulse/archive", headers=org.auth("campaigner"))
    assert archived.status_code == 200, archived.text

    page, _ = await _page(client)
    assert "This survey is closed" in page.text
    assert "not accepting answers" in page.text
    late = await _post(client, {**_hidden(doc), "trust": "4"})
    assert late.status_code == 200
    assert "This survey is closed" in late.text
    assert await _stored(client, org) == []


async def test_unknown_survey_is_a_404_page(client: Client) -> None:
    await _setup(client)
    for url in ("/f/acme/nope", "/f/nobody/pulse"):
        got = await client.get(url, headers={"Accept-Language": "nl"})
        assert got.status_code == 404
        assert got.headers["content-type"].startswith("text/html")
        assert "Enquête niet gevonden" in got.text
        assert "frame-ancestors 'self'" in got.headers["content-security-policy"]


async def test_head_answers_like_get_without_the_body(client: Client) -> None:
    # RFC 9110 9.1; link checkers probe the links they find with HEAD.
    await _setup(client)
    for url, status in ((FORM, 200), ("/f/acme/nope", 404)):
        got = await client.get(url, headers={"Accept-Language": "nl"})
        head = await client.head(url, headers={"Accept-Language": "nl"})
        assert (head.status_code, head.content) == (status, b"")
        assert head.headers == got.headers  # Content-Length included: a fresh id is as long


async def test_unpublished_survey_is_not_found(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org, publish=False)
    got = await client.get(FORM)
    assert got.status_code == 404


MULTILINGUAL: dict[str, Any] = {
    "questions": [
        {
            "key": "trust",
            "type": "likert",
            "required": True,
            "label": {"en": "I trust you", "nl": "Ik vertrouw jullie", "hi": "मुझे भरोसा है"},
            "scale": {"min": 1, "max": 5, "labels": {"1": {"en": "No", "nl": "Nee", "hi": "नहीं"}}},
        }
    ]
}


async def _multilingual(client: Client) -> Org:
    return await _setup(client, definition=MULTILINGUAL, settings={"locales": ["en", "nl", "hi"]})


async def test_locale_comes_from_query_then_browser_then_default(client: Client) -> None:
    await _multilingual(client)

    async def shown(url: str, accept: str | None = None) -> tuple[str, str, str]:
        doc, _ = await _page(client, url, **({"Accept-Language": accept} if accept else {}))
        legend = doc.by_id("trust-group").find("legend")
        return doc.find("html")["lang"], legend.children[0].strip(), doc.find("button").text  # type: ignore[union-attr]

    assert await shown(FORM) == ("en", "I trust you", "Submit")
    assert await shown(FORM, "nl-BE,nl;q=0.9,en;q=0.5") == ("nl", "Ik vertrouw jullie", "Versturen")
    assert await shown(FORM, "fr-FR, de;q=0.9, hi;q=0.3") == ("hi", "मुझे भरोसा है", "जमा करें")
    assert await shown(FORM, "fr, de") == ("en", "I trust you", "Submit")
    assert await shown(FORM, "nl;q=0, en") == ("en", "I trust you", "Submit")
    assert await shown(FORM + "?locale=hi", "nl") == ("hi", "मुझे भरोसा है", "जमा करें")
    assert await shown(FORM + "?locale=NL") == ("nl", "Ik vertrouw jullie", "Versturen")
    # A locale the survey lacks falls through to the browser's languages.
    assert await shown(FORM + "?locale=es", "nl") == ("nl", "Ik vertrouw jullie", "Versturen")


async def test_errors_are_shown_in_the_supporters_language(client: Client) -> None:
    org = await _multilingual(client)
    doc, _ = await _page(client, FORM + "?locale=nl")
    assert _hidden(doc)["_locale"] == "nl"
    got = await _post(client, _hidden(doc))
    assert got.status_code == 422
    page = parse(got.text)
    assert page.find("html")["lang"] == "nl"
    assert page.by_id("fb-summary").find("h2").text == "Er is een probleem"
    assert page.by_id("q-trust-error").text.startswith("Fout: ")
    ok = await _post(client, {**_hidden(doc), "trust": "2"})
    assert "Bedankt" in ok.text
    assert (await _stored(client, org))[0]["answers"] == {"trust": 2}


async def test_personal_link_carries_the_respondent(client: Client) -> None:
    org = await _setup(client)
    made = await client.post(
        "/api/v1/respondents",
        json={"external_ref": "crm-42", "attributes": {"country": "NL"}},
        headers=org.auth("campaigner"),
    )
    assert made.status_code == 201, made.text
    token = made.json()["token"]

    doc, _ = await _page(client, f"{FORM}?token={token}")
    assert _hidden(doc)["_token"] == token
    got = await _post(client, {**_hidden(doc), "trust": "5"})
    assert got.status_code == 200, got.text
    assert (await _stored(client, org))[0]["respondent_id"] == made.json()["id"]

    bad = await client.get(f"{FORM}?token=not-a-token")
    assert bad.status_code == 404
    assert "This personal link is not valid" in bad.text


async def test_frame_ancestors_are_the_surveys_allowed_origins(client: Client) -> None:
    origins = ["https://campaign.example.org", "http://localhost:8080"]
    await _setup(client, settings={"allowed_origins": origins})
    _, headers = await _page(client)
    directive = re.search(r"frame-ancestors ([^;]+)", headers["content-security-policy"])
    assert directive is not None
    assert directive.group(1).split() == ["'self'", *origins]


DONATED = {
    "questions": [
        {"key": "donated", "type": "number", "label": "Given (EUR)", "min": 0, "max": 10**6}
    ]
}


@pytest.mark.parametrize(
    ("locale", "typed", "meant"),
    [
        ("en", "1,000", 1000),  # grouping, as English writes a thousand
        ("en", "1,000,000", 1000000),
        ("en", "1,000.5", 1000.5),
        ("en", "2,5", 2.5),  # a decimal comma, which no grouping could mean
        ("en", "1.000", 1.0),
        ("de", "1.000", 1000),
        ("de", "1.000,5", 1000.5),
        ("de", "1,000", 1.0),
        ("fr", "1 000", 1000),
        ("fr", "1\u202f000,5", 1000.5),
    ],
)
async def test_numbers_are_read_as_the_forms_language_writes_them(
    client: Client, locale: str, typed: str, meant: float
) -> None:
    org = await _setup(client, definition=DONATED, default_locale=locale)
    hidden = _hidden((await _page(client))[0])
    got = await _post(client, {**hidden, "donated": typed})
    assert got.status_code == 200, got.text
    assert [r["answers"]["donated"] for r in await _stored(client, org)] == [meant]


async def test_a_number_the_forms_language_cannot_read_one_way_only_is_refused(
    client: Client,
) -> None:
    """French groups with spaces and writes a decimal comma: "1.000" is a thousand to some
    and one to others. It is refused beside its field, never stored a thousand times off."""
    org = await _setup(client, definition=DONATED, default_locale="fr")
    hidden = _hidden((await _page(client))[0])
    got = await _post(client, {**hidden, "donated": "1.000"})
    assert got.status_code == 422
    assert parse(got.text).by_id("q-donated").get("aria-invalid") == "true"
    assert await _stored(client, org) == []
