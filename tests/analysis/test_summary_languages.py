"""Plain sentences for choice questions' changes, in the reader's language, and the channels a
trends answer counted (issue 13, items 7 and 1), over the real app on both databases."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.builders.analysis import import_lines, line
from tests.builders.orgs import Org, make_org
from tests.builders.surveys import MONTHLY, make_survey

Client = AsyncTestClient[Litestar]


def answers(wave: int) -> list[dict[str, Any]]:
    """40 answers a wave: `petition` chosen by 10, then by 30, `march` by 20, then 22;
    `priority` mostly climate, then mostly housing."""
    out = []
    for i in range(40):
        petition = i < (10 if wave == 1 else 30)
        priority = ("climate" if i < 30 else "health") if wave == 1 else "housing"
        if wave == 2 and i >= 30:
            priority = "climate" if i < 35 else "health"
        march = i >= 40 - (20 if wave == 1 else 22)
        chosen = ["petition"] * petition + ["march"] * march or ["donate"]
        out.append(line(wave, {"actions": chosen, "priority": priority, "trust": 1 + i % 5}))
    return out


async def surveyed(client: Client) -> Org:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY, settings={"locales": ["en", "nl", "es"]})
    await import_lines(client, org, answers(1) + answers(2))
    return org


async def trends(client: Client, org: Org, query: str = "", **headers: str) -> dict[str, Any]:
    got = await client.get(
        f"/api/v1/surveys/pulse/trends?questions=actions,priority,trust&to=2025-02-28{query}",
        headers={**org.auth("analyst"), **headers},
    )
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


def by_key(body: dict[str, Any]) -> dict[str, Any]:
    return {q["key"]: q for q in body["questions"]}


async def test_choice_changes_say_what_they_mean_per_option(client: Client) -> None:
    questions = by_key(await trends(client, await surveyed(client)))
    changes = questions["actions"]["waves"][1]["option_changes"]
    assert changes["petition"]["significant"] is True
    assert changes["petition"]["summary"] == (
        "“What did you do this month?”: the share choosing Signed a petition rose from 25% to "
        "75% between January 2025 and February 2025."
    )
    assert changes["march"]["summary"] == (
        "“What did you do this month?”: the share choosing Joined a march went from 50% to "
        "55% between January 2025 and February 2025, a difference too small to tell from "
        "chance."
    )
    # A single choice is tested as a whole: its sentence names the option that moved most.
    single = questions["priority"]["waves"][1]["change"]
    assert single["significant"] is True
    assert single["summary"] == (
        "“Which issue matters most to you?”: the share choosing Housing rose from 0% to 75% "
        "between January 2025 and February 2025."
    )


async def test_summaries_follow_the_readers_language_when_the_survey_has_it(
    client: Client,
) -> None:
    org = await surveyed(client)
    dutch = await trends(client, org, "&locale=nl")
    assert dutch["locale"] == "nl"
    petition = by_key(dutch)["actions"]["waves"][1]["option_changes"]["petition"]["summary"]
    assert petition == (
        "‘What did you do this month?’: het aandeel dat Signed a petition kiest steeg van 25% "
        "naar 75% tussen januari 2025 en februari 2025."
    )
    # Accept-Language: the first language the survey has (German it has not).
    spanish = await trends(client, org, **{"Accept-Language": "de-DE, es;q=0.8, nl;q=0.5"})
    assert spanish["locale"] == "es"
    assert by_key(spanish)["trust"]["waves"][1]["change"]["summary"].startswith(
        "«I trust the organisation to act on my views»: la respuesta media pasó de"
    )
    # `locale=` wins over the header; a language the survey does not have: its default.
    assert (await trends(client, org, "&locale=nl", **{"Accept-Language": "es"}))["locale"] == "nl"
    french = await trends(client, org, "&locale=fr")
    assert french["locale"] == "en"
    assert by_key(french)["actions"]["waves"][1]["option_changes"]["petition"][
        "summary"
    ].startswith("“What did you do this month?”: the share choosing Signed a petition rose")


async def test_the_answer_says_which_channels_it_counted(client: Client) -> None:
    org = await surveyed(client)
    assert (await trends(client, org))["channels"] is None
    body = await trends(client, org, "&channel=import,event")
    assert body["channels"] == ["import", "event"]
    assert by_key(body)["trust"]["waves"][1]["n"] == 40
    assert by_key(await trends(client, org, "&channel=event"))["trust"]["waves"][1]["n"] == 0
