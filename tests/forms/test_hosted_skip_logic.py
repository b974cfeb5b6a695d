"""Skip logic on the hosted page without JavaScript: a question that depends on an answer on the
same page moves to a next page, hidden questions are never shown, earlier answers travel in
hidden fields, and an answer to a hidden question is refused beside the form. Plus the date
question as the hosted page renders and posts it."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.builders.orgs import Org, make_org
from tests.builders.skip_logic import nps, why_not
from tests.builders.surveys import make_survey
from tests.forms.dom import Node, parse

Client = AsyncTestClient[Litestar]
FORM = "/f/acme/logic"

DEFINITION: dict[str, Any] = {
    "questions": [
        nps(),
        {"key": "joined", "type": "date", "label": "Joined on", "min": "2000-01-01"},
        why_not(),
        {
            "key": "praise",
            "type": "text",
            "label": "What do we do well?",
            "show_if": {"question": "nps", "at_least": 9},
        },
        {
            "key": "follow_up",
            "type": "single_choice",
            "label": "May we call you?",
            "options": [{"key": "yes", "label": "Yes"}, {"key": "no", "label": "No"}],
            "show_if": {"question": "why_not", "answered": True},
        },
    ]
}


async def _setup(client: Client) -> Org:
    org = await make_org(client)
    await make_survey(client, org, slug="logic", definition=DEFINITION)
    return org


def _hidden(doc: Node) -> dict[str, str]:
    return {n["name"]: n["value"] for n in doc.find_all("input", type="hidden")}


def _questions(doc: Node) -> list[str]:
    return [
        n["id"].removesuffix("-group")
        for n in doc.iter()
        if "fb-q" in (n.get("class") or "").split()
    ]


async def _post(client: Client, hidden: dict[str, str], **answers: str) -> tuple[int, Node]:
    got = await client.post(FORM, data=hidden | answers)
    return got.status_code, parse(got.text)


async def _stored(client: Client, org: Org) -> list[dict[str, Any]]:
    got = await client.get("/api/v1/surveys/logic/responses", headers=org.auth("analyst"))
    assert got.status_code == 200, got.text
    items: list[dict[str, Any]] = got.json()["items"]
    return items


async def test_a_detractor_goes_through_two_pages_and_the_hidden_question_is_skipped(
    client: Client,
) -> None:
    org = await _setup(client)
    first = parse((await client.get(FORM)).text)
    assert _questions(first) == ["nps", "joined"]
    assert first.find("button", type="submit").text == "Next"
    joined = first.by_id("q-joined")
    assert (joined["type"], joined["min"]) == ("date", "2000-01-01")

    status, second = await _post(client, _hidden(first), nps="3", joined="2019-05-01")
    assert status == 200
    # praise is hidden for a 3; follow_up depends on why_not, on this page: a third page
    assert _questions(second) == ["why_not"]
    carried = _hidden(second)
    assert (carried["_page"], carried["nps"], carried["joined"]) == ("1", "3", "2019-05-01")
    assert carried["_response_id"] == _hidden(first)["_response_id"]

    # the page checks what it asked: why_not is required now that it is shown
    status, again = await _post(client, carried)
    assert status == 422
    assert _questions(again) == ["why_not"]
    assert "is required" in again.by_id("q-why_not-error").text

    status, third = await _post(client, carried, why_not="Answer my emails")
    assert status == 200
    assert _questions(third) == ["follow_up"]
    assert third.find("button", type="submit").text == "Submit"

    status, done = await _post(client, _hidden(third), follow_up="yes")
    assert status == 200
    assert "Thank you" in done.find("h1").text
    (stored,) = await _stored(client, org)
    assert stored["answers"] == {
        "nps": 3,
        "joined": "2019-05-01",
        "why_not": "Answer my emails",
        "follow_up": "yes",
    }


async def test_a_promoter_skips_the_pages_with_nothing_to_ask(client: Client) -> None:
    org = await _setup(client)
    first = parse((await client.get(FORM)).text)
    status, second = await _post(client, _hidden(first), nps="10")
    assert (status, _questions(second)) == (200, ["praise"])
    # follow_up's page may follow (if why_not were shown and answered): "Next" submits here
    assert second.find("button", type="submit").text == "Next"
    status, done = await _post(client, _hidden(second))
    assert status == 200 and "Thank you" in done.find("h1").text
    (stored,) = await _stored(client, org)
    assert stored["answers"] == {"nps": 10}


async def test_an_answer_to_a_hidden_question_is_refused_and_nothing_is_stored(
    client: Client,
) -> None:
    org = await _setup(client)
    first = parse((await client.get(FORM)).text)
    # A page crafted (or kept from an earlier visit) that answers what 10 hides.
    status, page = await _post(client, _hidden(first) | {"_page": "2"}, nps="10", why_not="x")
    assert status == 422
    summary = page.by_id("fb-summary").text
    assert "why_not: must be left unanswered" in summary
    assert await _stored(client, org) == []


async def test_a_bad_date_is_shown_beside_its_field(client: Client) -> None:
    await _setup(client)
    first = parse((await client.get(FORM)).text)
    status, page = await _post(client, _hidden(first), nps="10", joined="1999-12-31")
    assert status == 422
    assert _questions(page) == ["nps", "joined"]
    assert "must be on or after 2000-01-01" in page.by_id("q-joined-error").text
    assert page.by_id("q-joined")["value"] == "1999-12-31"


async def test_a_form_without_conditions_is_one_page(client: Client) -> None:
    org = await make_org(client)
    await make_survey(
        client, org, slug="logic", definition={"questions": DEFINITION["questions"][:2]}
    )
    first = parse((await client.get(FORM)).text)
    assert first.find("button", type="submit").text == "Submit"
    status, done = await _post(client, _hidden(first), nps="8")
    assert status == 200 and "Thank you" in done.find("h1").text
