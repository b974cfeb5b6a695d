"""GET /api/v1/public/{org}/{survey}/form: the current version, localised, and the open wave."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.builders.orgs import make_org
from tests.builders.responses import make_respondent, submission, submitted
from tests.builders.surveys import make_survey, publish_version, pulse_definition

Client = AsyncTestClient[Litestar]


def bilingual() -> dict[str, object]:
    definition = pulse_definition()
    definition["questions"] = [
        {
            "key": "trust",
            "type": "likert",
            "label": {"en": "I trust you", "nl": "Ik vertrouw jullie"},
            "required": True,
            "scale": {"min": 1, "max": 5, "labels": {"1": {"en": "No", "nl": "Nee"}}},
        }
    ]
    return definition


async def test_the_form_is_the_current_version_localised(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org, definition=bilingual(), settings={"locales": ["nl"]})
    dutch = await client.get("/api/v1/public/acme/pulse/form", params={"locale": "nl-BE"})
    assert dutch.status_code == 200
    form = dutch.json()
    assert (form["org"], form["survey"], form["version"], form["locale"]) == (
        "acme",
        "pulse",
        1,
        "nl",
    )
    assert form["locales"] == ["en", "nl"]
    assert form["questions"][0]["label"] == "Ik vertrouw jullie"
    assert form["questions"][0]["scale"]["labels"] == {"1": "Nee"}
    assert form["wave"]["number"] == 1 and form["wave"]["closes_at"] is None
    assert form["allow_edits"] is True and form["respondent"] is False
    english = (await client.get("/api/v1/public/acme/pulse/form")).json()
    assert english["locale"] == "en" and english["questions"][0]["label"] == "I trust you"
    # What the form says is what a submission is checked against.
    answer = await submitted(client, org, submission(version=form["version"], answers={"trust": 3}))
    assert answer["wave"] == form["wave"]["number"]


async def test_the_form_follows_publishing(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    v2 = pulse_definition()
    v2["questions"] = v2["questions"][:2]
    await publish_version(client, org, "pulse", v2)
    form = (await client.get("/api/v1/public/acme/pulse/form")).json()
    assert form["version"] == 2 and [q["key"] for q in form["questions"]] == ["trust", "nps"]


async def test_a_personal_token_is_checked_by_the_form(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    person = await make_respondent(client, org)
    known = await client.get("/api/v1/public/acme/pulse/form", params={"token": person["token"]})
    assert known.status_code == 200 and known.json()["respondent"] is True
    unknown = await client.get("/api/v1/public/acme/pulse/form", params={"token": "nope"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [
        {"pointer": "/token", "message": "is not a valid respondent token", "source": "query"}
    ]


async def test_a_closed_or_unpublished_or_unknown_form(client: Client) -> None:
    org = await make_org(client)
    schedule = {"rrule": "FREQ=YEARLY", "starts_at": "2099-03-01T00:00:00Z", "timezone": "UTC"}
    await make_survey(client, org, schedule=schedule)
    closed = await client.get("/api/v1/public/acme/pulse/form")
    assert closed.status_code == 409
    assert closed.json()["next_opens_at"].startswith("2099-03-01")
    await make_survey(client, org, slug="draft-only", publish=False)
    assert (await client.get("/api/v1/public/acme/draft-only/form")).status_code == 404
    assert (await client.get("/api/v1/public/acme/missing/form")).status_code == 404


async def test_head_answers_like_get_without_the_body(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    for url, status in (
        ("/api/v1/public/acme/pulse/form", 200),
        ("/api/v1/public/acme/missing/form", 404),
    ):
        got = await client.get(url)
        head = await client.head(url)
        assert (head.status_code, head.content) == (status, b"")
        assert head.headers == got.headers
