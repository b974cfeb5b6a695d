"""Public results, "you said, we did": GET /api/v1/public/{org}/{survey}/results (JSON) and
GET /r/{org}/{survey} (the page), the `public_questions` setting, and the links to them.

Each "never" is tested on what a reader receives: a suppressed wave's figures, a private
question, free text (even forced into the setting in the database), a private decision, the
open wave, and any response or respondent id or per-response value.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.clock import Clock, fixed_clock
from feedback.config import Settings
from feedback.surveys.models import Survey
from tests.builders.orgs import Org, make_org
from tests.builders.public_results import (
    DEFINITION,
    NOW,
    PRIVATE_DECISION,
    PRIVATE_FINDING,
    SECRET_LABEL,
    SUPPRESSED_FINDING,
    TEXT_ANSWER,
    World,
    make_results_world,
)
from tests.builders.responses import database, execute, scalar
from tests.builders.surveys import MONTHLY, make_survey
from tests.forms.dom import Node, parse

Client = AsyncTestClient[Litestar]
RESULTS = "/api/v1/public/acme/pulse/results"
PAGE = "/r/acme/pulse"


@pytest.fixture
def clock() -> Clock:
    """The app's clock stands in August 2025: waves 1–7 have closed, wave 8 is open."""
    return fixed_clock(NOW)


@pytest.fixture
async def world(client: Client, settings: Settings) -> World:
    return await make_results_world(client, settings)


async def _results(client: Client, **params: str) -> dict[str, Any]:
    got = await client.get(RESULTS, params=params)
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


def _question(body: dict[str, Any], key: str) -> dict[str, Any]:
    found: dict[str, Any] = next(q for q in body["questions"] if q["key"] == key)
    return found


async def _private_values(client: Client, org: Org) -> list[str]:
    """Every response id, respondent id and text answer the organisation holds."""
    out: list[str] = []
    cursor = None
    while True:
        params = {"limit": "500"} | ({"cursor": cursor} if cursor else {})
        page = await client.get(
            "/api/v1/surveys/pulse/responses", params=params, headers=org.auth("analyst")
        )
        assert page.status_code == 200, page.text
        for item in page.json()["items"]:
            out += [item["response_id"], item["respondent_id"], item["answers"]["comment"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return out


# --- the JSON --------------------------------------------------------------------------------


async def test_readers_after_the_first_are_served_from_the_kept_waves(
    client: Client, world: World, database_url: str
) -> None:
    # A newsletter sends every reader to the same waves: counted once, then read from the
    # trends rollups (feedback/analysis/rollups.py), by the JSON and the page alike.
    first = await _results(client)
    page = (await client.get(PAGE)).text

    assert await scalar(database_url, "SELECT count(*) FROM trend_rollup") > 0
    # Every kept wave now says it had no answers: what is served shows no figure at all.
    await execute(database_url, "UPDATE trend_rollup SET rows = '[]'")
    tampered = await _results(client)
    assert [q["waves"] for q in tampered["questions"]] == [[]] * len(first["questions"])
    assert "3.8 out of 5" not in (await client.get(PAGE)).text
    await execute(database_url, "DELETE FROM trend_rollup")
    assert await _results(client) == first
    assert (await client.get(PAGE)).text == page


async def test_the_public_questions_latest_closed_waves_in_plain_language(
    client: Client, world: World
) -> None:
    body = await _results(client)
    assert (body["org"], body["survey"], body["locale"], body["dir"]) == (
        "acme",
        "pulse",
        "en",
        "ltr",
    )
    assert body["locales"] == ["en", "nl"] and body["min_n"] == 5
    assert body["url"] == "http://127.0.0.1:8000/r/acme/pulse"
    # In the setting's order; the private and the text question are not there.
    assert [q["key"] for q in body["questions"]] == ["trust", "nps", "priority", "actions", "hours"]

    trust = _question(body, "trust")
    assert (trust["type"], trust["metric"], trust["range"]) == ("likert", "mean", [1.0, 5.0])
    # The latest six closed waves (1 is older; 8 is open), oldest first.
    assert [w["number"] for w in trust["waves"]] == [2, 3, 4, 5, 6, 7]
    assert [w["sentence"] for w in trust["waves"]] == [
        "3.8 out of 5 on average (5 answers)",
        "Not enough answers to show",
        "3.2 out of 5 on average (5 answers)",
        "4.0 out of 5 on average (7 answers)",
        "3.0 out of 5 on average (5 answers)",
        "4.0 out of 5 on average (6 answers)",
    ]
    assert [w["estimate"] for w in trust["waves"]] == [3.8, None, 3.2, 4.0, 3.0, 4.0]
    assert trust["summary"] == "4.0 out of 5 on average (6 answers)"
    assert trust["waves"][-1]["closed_at"] == "2025-07-31T23:00:00Z"
    assert trust["waves"][-1]["label"] == "2025-07"

    # Questions answered only in wave 7: the empty waves before it are left out.
    nps = _question(body, "nps")
    assert [(w["number"], w["sentence"], w["estimate"]) for w in nps["waves"]] == [
        (7, "NPS +17 (6 answers)", 16.7)
    ]
    assert nps["range"] == [-100.0, 100.0]
    priority = _question(body, "priority")["waves"][0]
    assert priority["sentence"] == "Climate 50%, Housing 33%, Health 17% (6 answers)"
    assert priority["options"] == [
        {"key": "climate", "label": "Climate", "share": 0.5},
        {"key": "housing", "label": "Housing", "share": 0.333},
        {"key": "health", "label": "Health", "share": 0.167},
    ]
    assert priority["estimate"] is None
    actions = _question(body, "actions")["waves"][0]
    assert actions["sentence"] == (
        "Signed a petition 67%, Joined a march 33%, Donated 33% "
        "(6 answers; more than one choice allowed)"
    )
    hours = _question(body, "hours")
    assert hours["waves"][0]["sentence"] == "3.5 on average (6 answers)"
    assert hours["range"] == [0.0, 168.0]


async def test_public_decisions_newest_first_with_the_findings_they_answer(
    client: Client, world: World
) -> None:
    decisions = (await _results(client))["decisions"]
    assert [d["id"] for d in decisions] == [str(world.planned), str(world.done)]
    planned, done = decisions
    assert planned == {
        "id": str(world.planned),
        "title": "A housing forum in every city",
        "description": "Every first Saturday.\n\nJoin us.",
        "status": "planned",
        "status_text": "Planned",
        "decided_at": "2025-07-20T23:30:00Z",
        # On the survey's calendar (Amsterdam), that was already the 21st.
        "decided_on": "2025-07-21",
        "findings": [],
    }
    assert done["title"] == "We started monthly river clean-ups"
    assert (done["status"], done["status_text"]) == ("done", "Done")
    # Of its three findings, only the one about a public question's shown waves.
    assert done["findings"] == [{"question": "trust", "sentence": "Trust fell from 3.8 to 3.2"}]


async def test_never_a_suppressed_wave_private_question_text_private_decision_or_respondent(
    client: Client, world: World
) -> None:
    got = await client.get(RESULTS)
    text = got.text
    body = got.json()
    suppressed = _question(body, "trust")["waves"][1]
    assert suppressed == {
        "number": 3,
        "label": "2025-03",
        "opens_at": suppressed["opens_at"],
        "closed_at": suppressed["closed_at"],
        "suppressed": True,
        "sentence": "Not enough answers to show",
        "n": None,
        "estimate": None,
        "options": [],
    }
    assert "3 answers" not in text and "5.0 out of 5" not in text
    assert SUPPRESSED_FINDING not in text
    # The private question, its finding, the private decision.
    for hidden in ("secret", SECRET_LABEL, PRIVATE_FINDING, PRIVATE_DECISION, str(world.private)):
        assert hidden not in text
    # The open wave 8 (six answers of 1).
    assert "1.0 out of 5" not in text and '"number":8' not in text.replace(" ", "")
    # No response or respondent id, no free text, no per-response figure.
    for value in await _private_values(client, world.org):
        assert value not in text
    assert TEXT_ANSWER not in text and "comment" not in text
    for word in ("distribution", "respondent", "response_id", "ci_low", "sd"):
        assert f'"{word}"' not in text


async def test_a_text_question_forced_into_the_setting_stays_out(
    client: Client, world: World, settings: Settings
) -> None:
    async with database(settings.database_url) as conn:
        stored = (
            await conn.execute(sa.select(Survey.settings).where(Survey.id == world.survey_id))
        ).scalar_one()
        forced = stored | {"public_questions": ["comment", "trust", "nope"]}
        await conn.execute(
            sa.update(Survey).where(Survey.id == world.survey_id).values(settings=forced)
        )
        await conn.commit()
    got = await client.get(RESULTS)
    assert [q["key"] for q in got.json()["questions"]] == ["trust"]
    assert TEXT_ANSWER not in got.text and "Anything else?" not in got.text
    page = await client.get(PAGE)
    assert page.status_code == 200
    assert TEXT_ANSWER not in page.text and "Anything else?" not in page.text


async def test_localised_by_query_then_accept_language(client: Client, world: World) -> None:
    dutch = await _results(client, locale="nl-BE")
    assert dutch["locale"] == "nl"
    trust = _question(dutch, "trust")
    assert trust["label"] == "Ik vertrouw erop dat de organisatie iets met mijn mening doet"
    assert trust["waves"][0]["sentence"] == "Gemiddeld 3,8 van de 5 (5 antwoorden)"
    assert trust["waves"][1]["sentence"] == "Te weinig antwoorden om te tonen"
    priority = _question(dutch, "priority")["waves"][0]
    assert priority["sentence"] == "Klimaat 50%, Wonen 33%, Zorg 17% (6 antwoorden)"
    planned, done = dutch["decisions"]
    assert (done["title"], done["status_text"]) == (
        "We ruimen elke maand rivieren op",
        "Uitgevoerd",
    )
    assert done["description"] == "Elke eerste zaterdag."
    assert done["findings"][0]["sentence"] == "NL: Trust fell from 3.8 to 3.2"
    assert planned["title"] == "A housing forum in every city"  # one text for every language

    by_header = await client.get(RESULTS, headers={"Accept-Language": "fr;q=0.9, nl;q=0.8"})
    assert by_header.json()["locale"] == "nl"
    assert "Accept-Language" in by_header.headers["vary"]
    query_wins = await client.get(
        RESULTS, params={"locale": "en"}, headers={"Accept-Language": "nl"}
    )
    assert query_wins.json()["locale"] == "en"
    # A language the survey lacks: its default.
    assert (await _results(client, locale="de"))["locale"] == "en"


async def test_unknown_survey_or_no_public_results_is_404(client: Client, world: World) -> None:
    await make_survey(
        client,
        world.org,
        slug="quiet",
        definition=DEFINITION,
        schedule=MONTHLY,  # from January 2025: a decision may not predate its first wave
        settings={"locales": ["nl"]},
    )
    for url in (
        "/api/v1/public/acme/quiet/results",
        "/api/v1/public/acme/missing/results",
        "/api/v1/public/nobody/pulse/results",
    ):
        got = await client.get(url)
        assert got.status_code == 404, url
        assert got.headers["content-type"].startswith("application/problem+json")
    # One public decision is enough to have public results.
    made = await client.post(
        "/api/v1/surveys/quiet/decisions",
        json={"title": "Say it", "decided_at": "2025-03-01T00:00:00Z", "public": True},
        headers=world.org.auth("campaigner"),
    )
    assert made.status_code == 201, made.text
    quiet = await client.get("/api/v1/public/acme/quiet/results")
    assert quiet.status_code == 200
    assert quiet.json()["questions"] == []
    assert [d["title"] for d in quiet.json()["decisions"]] == ["Say it"]


async def test_cors_follows_the_surveys_allowed_origins(
    client: Client, world: World, settings: Settings
) -> None:
    patched = await client.patch(
        "/api/v1/surveys/pulse",
        json={
            "settings": {
                "public_questions": ["trust"],
                "locales": ["nl"],
                "allowed_origins": ["https://campaign.example"],
            }
        },
        headers=world.org.auth("campaigner"),
    )
    assert patched.status_code == 200, patched.text
    allowed = await client.get(RESULTS, headers={"Origin": "https://campaign.example"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://campaign.example"
    assert "Origin" in allowed.headers["vary"]
    other = await client.get(RESULTS, headers={"Origin": "https://elsewhere.example"})
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
    preflight = await client.options(
        RESULTS,
        headers={"Origin": "https://campaign.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://campaign.example"


# --- the page --------------------------------------------------------------------------------


def _page(html: str) -> Node:
    return parse(html)


async def test_the_page_is_semantic_localised_and_shareable(client: Client, world: World) -> None:
    got = await client.get(PAGE)
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/html")
    csp = got.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert got.headers["cache-control"] == "public, max-age=300"
    doc = _page(got.text)
    html = doc.find("html")
    assert (html["lang"], html["dir"]) == ("en", "ltr")
    assert not doc.find_all("script")
    assert doc.find("link", rel="canonical")["href"] == "http://127.0.0.1:8000/r/acme/pulse"
    description = doc.find("meta", name="description")["content"]
    assert description == "What supporters told us in “Pulse”, and what we did about it."
    assert doc.find("meta", property="og:title")["content"] == "Pulse – You said, we did"
    assert {a["hreflang"] for a in doc.find_all("link", rel="alternate")} == {"en", "nl"}
    assert [h.text for h in doc.find_all("h1")] == ["Pulse"]
    assert [h.text for h in doc.find_all("h2")] == ["What you told us", "What we did"]
    assert [h.text for h in doc.find_all("h3")] == [
        "I trust the organisation to act on my views",
        "How likely are you to recommend us?",
        "Which issue matters most to you?",
        "What did you do this month?",
        "Hours volunteered",
        "A housing forum in every city",
        "We started monthly river clean-ups",
    ]
    table = doc.find("table")
    assert table.find("caption").text == "Results by round, newest first"
    rows = [
        (r.find("th").text.strip(), r.find("td").text.strip())
        for r in table.find("tbody").find_all("tr")
    ]
    assert rows[0] == ("2025-07", "4.0 out of 5 on average (6 answers)")
    assert rows[4] == ("2025-03", "Not enough answers to show")
    assert len(rows) == 6
    # Bars are meters the CSP allows (no inline style anywhere).
    assert "style=" not in got.text
    meters = doc.find_all("meter")
    assert meters and all(m.get("aria-hidden") == "true" for m in meters)
    bars = doc.find("ul", class_="fb-bars").find_all("li")
    assert bars[0].text.split() == ["Climate", "50%"]
    times = [t.text for t in doc.find_all("time")]
    assert "Decided on 21 July 2025" in times and "Decided on 15 June 2025" in times
    assert doc.find("nav").find("a")["href"] == "/r/acme/pulse?locale=nl"
    assert "fewer than 5 answers is not shown" in doc.find("footer").text


async def test_the_page_never_shows_what_the_json_never_shows(client: Client, world: World) -> None:
    text = (await client.get(PAGE)).text
    for hidden in (SECRET_LABEL, PRIVATE_FINDING, PRIVATE_DECISION, SUPPRESSED_FINDING):
        assert hidden not in text
    assert "3 answers" not in text and "1.0 out of 5" not in text
    for value in await _private_values(client, world.org):
        assert value not in text


async def test_the_page_escapes_what_campaigners_wrote(client: Client, world: World) -> None:
    markup = '<script>window.pwned=1</script><img src=x onerror="alert(1)">'
    made = await client.post(
        "/api/v1/surveys/pulse/decisions",
        json={
            "title": markup,
            "description": markup,
            "decided_at": "2025-07-25T00:00:00Z",
            "public": True,
        },
        headers=world.org.auth("campaigner"),
    )
    assert made.status_code == 201, made.text
    page = await client.get(PAGE)
    assert markup not in page.text and "<script" not in page.text and "<img" not in page.text
    assert _page(page.text).find("h3", id=f"fb-d-{made.json()['id']}").text == markup


async def test_the_page_in_dutch(client: Client, world: World) -> None:
    got = await client.get(PAGE, headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"})
    doc = _page(got.text)
    assert doc.find("html")["lang"] == "nl"
    assert doc.find("link", rel="canonical")["href"].endswith("/r/acme/pulse?locale=nl")
    assert [h.text for h in doc.find_all("h2")] == ["Wat je ons vertelde", "Wat we hebben gedaan"]
    assert "Gemiddeld 4,0 van de 5 (6 antwoorden)" in got.text
    assert "Besloten op 15 juni 2025" in got.text
    assert doc.find("nav").find("a")["lang"] == "en"
    english = await client.get(PAGE, params={"locale": "en"}, headers={"Accept-Language": "nl"})
    assert _page(english.text).find("html")["lang"] == "en"


async def test_page_404s_speak_the_surveys_or_the_browsers_language(
    client: Client, world: World
) -> None:
    await make_survey(
        client,
        world.org,
        slug="stil",
        definition=DEFINITION,
        default_locale="nl",
        settings={"locales": ["en"]},
    )
    quiet = await client.get("/r/acme/stil", headers={"Accept-Language": "de"})
    assert quiet.status_code == 404 and quiet.headers["content-type"].startswith("text/html")
    doc = _page(quiet.text)
    assert doc.find("html")["lang"] == "nl"
    assert doc.find("h1").text == "Geen openbare resultaten"
    assert quiet.headers["cache-control"] == "no-store"
    missing = await client.get("/r/acme/missing", headers={"Accept-Language": "fr"})
    assert missing.status_code == 404
    assert _page(missing.text).find("h1").text == "Questionnaire introuvable"


async def test_head_answers_like_get_without_the_body(client: Client, world: World) -> None:
    # Newsletter tools and link checkers probe a results link with HEAD before sending it.
    for url, status in ((PAGE, 200), (RESULTS, 200), ("/r/acme/missing", 404)):
        got = await client.get(url)
        head = await client.head(url)
        assert (head.status_code, head.content) == (status, b""), url
        assert head.headers == got.headers, url


# --- links to the results --------------------------------------------------------------------


async def test_the_form_json_and_the_thank_you_page_link_to_the_results(client: Client) -> None:
    org = await make_org(client)
    public = {"public_questions": ["trust"], "locales": ["nl"]}
    await make_survey(client, org, slug="open", definition=DEFINITION, settings=public)
    await make_survey(
        client, org, slug="plain", definition=DEFINITION, settings={"locales": ["nl"]}
    )
    form = (await client.get("/api/v1/public/acme/open/form")).json()
    assert form["results_url"] == "http://127.0.0.1:8000/r/acme/open"
    assert (await client.get("/api/v1/public/acme/plain/form")).json()["results_url"] is None

    for slug, linked in (("open", True), ("plain", False)):
        form_page = _page((await client.get(f"/f/acme/{slug}", params={"locale": "nl"})).text)
        hidden = {
            i["name"]: i["value"] for i in form_page.find_all("input") if i.get("type") == "hidden"
        }
        posted = await client.post(
            f"/f/acme/{slug}",
            data=hidden | {"trust": "4"},
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert posted.status_code == 200, posted.text
        thanks = _page(posted.text)
        assert thanks.find("h1").text == "Bedankt"
        links = [(a["href"], a.text) for a in thanks.find_all("a", class_="fb-results-link")]
        expected = [("/r/acme/open?locale=nl", "Bekijk wat we met je antwoorden hebben gedaan")]
        assert links == (expected if linked else [])


async def test_a_closed_surveys_page_links_to_its_results(client: Client) -> None:
    org = await make_org(client)
    later = {"rrule": "FREQ=YEARLY", "starts_at": "2099-03-01T00:00:00Z", "timezone": "UTC"}
    public = {"public_questions": ["trust"], "locales": ["nl"]}
    await make_survey(
        client, org, slug="later", definition=DEFINITION, schedule=later, settings=public
    )
    closed = _page((await client.get("/f/acme/later")).text)
    assert closed.find("h2").text == "This survey is closed"
    links = [a["href"] for a in closed.find_all("a", class_="fb-results-link")]
    assert links == ["/r/acme/later?locale=en"]


# --- the setting -----------------------------------------------------------------------------


async def test_public_questions_are_checked_against_the_surveys_versions(client: Client) -> None:
    org = await make_org(client)

    async def create(public: list[str]) -> Any:
        return await client.post(
            "/api/v1/surveys",
            json={
                "slug": "checked",
                "title": "Checked",
                "default_locale": "en",
                "schedule": None,
                "settings": {"public_questions": public, "locales": ["nl"]},
                "definition": DEFINITION,
            },
            headers=org.auth("campaigner"),
        )

    malformed = await create(["trust", "Bad Key"])
    assert malformed.status_code == 422
    # (The settings being invalid, the labels' locales are checked against none declared.)
    assert "/settings/public_questions/1" in [e["pointer"] for e in malformed.json()["errors"]]
    unknown = await client.get("/api/v1/surveys/checked", headers=org.auth("analyst"))
    assert unknown.status_code == 404

    bad = await create(["trust", "comment", "nope", "trust"])
    assert bad.status_code == 422
    assert [(e["pointer"], e["message"]) for e in bad.json()["errors"]] == [
        ("/settings/public_questions/1", "is a text question: free-text answers are never public"),
        ("/settings/public_questions/2", "'nope' is not a question of this survey"),
        ("/settings/public_questions/3", "'trust' is listed twice"),
    ]
    made = await create(["trust", "priority"])
    assert made.status_code == 201, made.text
    assert made.json()["settings"]["public_questions"] == ["trust", "priority"]

    async def patch(public: list[str]) -> Any:
        return await client.patch(
            "/api/v1/surveys/checked",
            json={"settings": {"public_questions": public, "locales": ["nl"]}},
            headers=org.auth("campaigner"),
        )

    refused = await patch(["nps", "comment"])
    assert refused.status_code == 422
    assert [e["pointer"] for e in refused.json()["errors"]] == ["/settings/public_questions/1"]
    kept = await client.get("/api/v1/surveys/checked", headers=org.auth("analyst"))
    assert kept.json()["settings"]["public_questions"] == ["trust", "priority"]
    # A question of the draft (not yet published) may be listed.
    definition = json.loads(json.dumps(DEFINITION))
    mood = {"key": "mood", "type": "rating", "label": "Mood", "scale": {"min": 1, "max": 3}}
    definition["questions"].append(mood)
    draft = await client.put(
        "/api/v1/surveys/checked/draft",
        json={"definition": definition},
        headers=org.auth("campaigner"),
    )
    assert draft.status_code == 200, draft.text
    assert (await patch(["mood"])).status_code == 200


async def test_the_title_is_in_the_readers_language(client: Client, world: World) -> None:
    """A title given per locale is read in the results' locale, as the form shows it."""
    patched = await client.patch(
        "/api/v1/surveys/pulse",
        json={"title": {"en": "Supporter pulse", "nl": "Achterbanpeiling"}},
        headers=world.org.auth("campaigner"),
    )
    assert patched.status_code == 200, patched.text
    assert (await _results(client, locale="nl"))["title"] == "Achterbanpeiling"
    assert (await _results(client, locale="en"))["title"] == "Supporter pulse"
    page = _page((await client.get(PAGE, params={"locale": "nl"})).text)
    assert page.find("h1").text == "Achterbanpeiling"
    assert page.find("title").text.startswith("Achterbanpeiling – ")
