"""GET /surveys/{slug}/questions/{key}/texts: a wave's text answers, paged and filtered, and the
terms that distinguish the wave from the previous one; small waves shown only by their n."""

from __future__ import annotations

from collections import Counter
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.analysis.distinct_terms import distinct_terms
from feedback.analysis.stopwords import stop_words
from feedback.analysis.text_terms import terms_of
from tests.api.test_public_revisions import revise
from tests.builders.analysis import import_lines, line
from tests.builders.orgs import Org, make_org
from tests.builders.responses import make_respondent, pulse_answers, submission, submitted
from tests.builders.surveys import MONTHLY, make_survey

Client = AsyncTestClient[Litestar]
TEXTS = "/api/v1/surveys/pulse/questions/comment/texts"

# Wave 1 talks of both, wave 2 mostly of late buses, wave 3 mostly of friendly meetings and a
# new assembly; wave 4 has three answers only.
BUSES = "The buses were late again"
MEETINGS = "Friendly meetings, thank you"
ASSEMBLY = "The assembly was great"
WAVES = {
    1: [BUSES] * 20 + [MEETINGS] * 20,
    2: [BUSES] * 60 + [MEETINGS] * 10,
    3: [BUSES] * 10 + [MEETINGS] * 60 + [ASSEMBLY] * 8,
    4: [BUSES] * 3,
}


async def texts_world(client: Client) -> Org:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    lines = [line(w, {"trust": 3, "comment": t}) for w, texts in WAVES.items() for t in texts]
    await import_lines(client, org, lines)
    return org


def counts(*texts: list[str]) -> list[Counter[str]]:
    stop = stop_words(["en"])
    out = []
    for wave in texts:
        c: Counter[str] = Counter()
        for t in wave:
            c.update(terms_of(t, stop))
        out.append(c)
    return out


async def test_a_wave_answers_its_texts_and_the_terms_that_set_it_apart(client: Client) -> None:
    org = await texts_world(client)
    got = await client.get(f"{TEXTS}?wave=3&limit=500", headers=org.auth("analyst"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["question"], body["wave"], body["n"], body["min_n"]) == ("comment", 3, 78, 5)
    assert (body["suppressed"], body["previous_wave"], body["previous_n"]) == (None, 2, 70)
    assert Counter(a["text"] for a in body["items"]) == Counter(WAVES[3])
    assert body["next_cursor"] is None
    assert {a["channel"] for a in body["items"]} == {"import"}
    assert body["terms_reason"] is None
    terms = body["terms"]
    rising = [s["term"] for s in terms["rising"]]
    falling = [s["term"] for s in terms["falling"]]
    assert {"meetings", "friendly", "friendly meetings"} <= set(rising)
    assert {"buses", "late"} <= set(falling)  # "were" parts them: no pair
    # No earlier wave used them: listed as new, most used first, then by the term.
    assert [(t["term"], t["count"]) for t in terms["new"]] == [("assembly", 8), ("great", 8)]
    # The same figures as the pure function over the same answers.
    first, second, third = counts(WAVES[1], WAVES[2], WAVES[3])
    expected = distinct_terms(third, second, first + second, min_n=5)
    assert terms["n_terms"] == expected.n_terms
    assert terms["prior_n_terms"] == expected.prior_n_terms
    assert [(s["term"], s["z"]) for s in terms["rising"]] == [
        (s.term, s.z) for s in expected.rising
    ]
    assert [(s["term"], s["delta"], s["prior"]) for s in terms["falling"]] == [
        (s.term, s.delta, s.prior) for s in expected.falling
    ]


async def test_pages_hold_every_answer_once(client: Client) -> None:
    org = await texts_world(client)
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        got = await client.get(
            f"{TEXTS}?wave=2&limit=30&cursor={cursor}", headers=org.auth("analyst")
        )
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["n"] == 70 and len(body["items"]) <= 30
        seen += [a["response_id"] for a in body["items"]]
        pages += 1
        if body["next_cursor"] is None:
            break
        cursor = body["next_cursor"]
    assert pages == 3 and len(seen) == len(set(seen)) == 70


async def test_a_small_wave_shows_only_its_n_and_the_first_wave_has_no_terms(
    client: Client,
) -> None:
    org = await texts_world(client)
    small = (await client.get(f"{TEXTS}?wave=4", headers=org.auth("analyst"))).json()
    assert small["n"] == 3 and small["suppressed"] == "small"
    assert small["items"] == [] and small["terms"] is None
    assert small["terms_reason"] == "suppressed"
    first = (await client.get(f"{TEXTS}?wave=1", headers=org.auth("analyst"))).json()
    assert first["n"] == 40 and first["terms"] is None and first["terms_reason"] == "first_wave"
    after_small = (await client.get(f"{TEXTS}?wave=5", headers=org.auth("analyst"))).json()
    assert after_small["n"] == 0 and after_small["suppressed"] == "small"


async def test_filters_by_channel_and_by_a_respondent_attribute(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    for ref, country in (("a", "NL"), ("b", "NL"), ("c", "DE")):
        await make_respondent(client, org, external_ref=ref, country=country)
    lines: list[dict[str, Any]] = []
    for i in range(6):
        lines.append(line(1, {"trust": 3, "comment": f"from the hall {i}"}) | {"channel": "event"})
        lines.append(
            line(1, {"trust": 3, "comment": f"online words {i}"}, respondent="a" if i % 2 else "b")
        )
        lines.append(line(1, {"trust": 3, "comment": f"german words {i}"}, respondent="c"))
    await import_lines(client, org, lines)
    auth = org.auth("analyst")
    event = (await client.get(f"{TEXTS}?wave=1&channel=event", headers=auth)).json()
    assert event["n"] == 6 and all(a["text"].startswith("from the hall") for a in event["items"])
    as_segment = (
        await client.get(f"{TEXTS}?wave=1&segment=channel&segment_value=event", headers=auth)
    ).json()
    assert as_segment["n"] == 6
    dutch = (
        await client.get(f"{TEXTS}?wave=1&segment=country&segment_value=NL", headers=auth)
    ).json()
    assert dutch["n"] == 6 and all(a["text"].startswith("online") for a in dutch["items"])
    both = (
        await client.get(
            f"{TEXTS}?wave=1&segment=country&segment_value=DE&channel=event", headers=auth
        )
    ).json()
    assert both["n"] == 0 and both["suppressed"] == "small"


async def test_only_the_latest_revision_and_never_an_erased_respondent(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    created = [
        await submitted(client, org, submission(answers=pulse_answers(comment=f"first {i}")))
        for i in range(6)
    ]
    revised = await revise(client, org, created[0], pulse_answers(comment="second thoughts"))
    assert revised.status_code == 200, revised.text
    person = await make_respondent(client, org, external_ref="erase-me")
    forget = pulse_answers(comment="please forget me")
    await submitted(client, org, submission(answers=forget, respondent_token=person["token"]))
    auth = org.auth("analyst")
    wave = created[0]["wave"]
    before = (await client.get(f"{TEXTS}?wave={wave}", headers=auth)).json()
    texts = {a["text"] for a in before["items"]}
    assert "second thoughts" in texts and "first 0" not in texts and before["n"] == 7
    erased = await client.delete(f"/api/v1/respondents/{person['id']}", headers=org.auth())
    assert erased.status_code == 200, erased.text
    after = (await client.get(f"{TEXTS}?wave={wave}", headers=auth)).json()
    assert "please forget me" not in {a["text"] for a in after["items"]}
    assert after["n"] == 6


async def test_bad_requests_name_their_field(client: Client) -> None:
    org = await texts_world(client)
    auth = org.auth("analyst")

    async def problem(url: str, status: int = 422) -> list[str]:
        got = await client.get(url, headers=auth)
        assert got.status_code == status, got.text
        assert got.headers["content-type"].startswith("application/problem+json")
        return [e["pointer"] for e in got.json().get("errors", [])]

    assert await problem(TEXTS) == ["/wave"]
    assert await problem(f"{TEXTS}?wave=0") == ["/wave"]
    assert await problem(f"{TEXTS}?wave=1&segment=country") == ["/segment_value"]
    assert await problem(f"{TEXTS}?wave=1&segment_value=NL") == ["/segment"]
    assert await problem(f"{TEXTS}?wave=1&segment=Not-A-Name&segment_value=x") == ["/segment"]
    assert await problem(f"{TEXTS}?wave=1&cursor=garbage") == ["/cursor"]
    assert await problem(f"{TEXTS}?wave=1&limit=0") == ["/limit"]
    trust = "/api/v1/surveys/pulse/questions/trust/texts?wave=1"
    assert await problem(trust) == ["/key"]
    await problem("/api/v1/surveys/pulse/questions/nope/texts?wave=1", 404)
    await problem("/api/v1/surveys/nope/questions/comment/texts?wave=1", 404)


async def test_texts_need_an_analyst_key_of_the_same_organisation(client: Client) -> None:
    await texts_world(client)
    assert (await client.get(f"{TEXTS}?wave=1")).status_code == 401
    other = await make_org(client, "other")
    assert (await client.get(f"{TEXTS}?wave=1", headers=other.auth("analyst"))).status_code == 404
