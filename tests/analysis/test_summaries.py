"""Plain sentences for trends and changes (issue 13, item 7): in the trends JSON, on the chart
and in the report, in the survey's language, from the findings' sentence engine."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.analysis import service
from feedback.analysis.chart_adapter import chart_data
from feedback.analysis.service import TrendsQuery
from feedback.config import Settings
from tests.builders.analysis import counted, import_lines, session_on, survey_row
from tests.builders.orgs import Org, make_org
from tests.builders.surveys import MONTHLY, make_survey

Client = AsyncTestClient[Litestar]
# Waves 1..6 of `trust`, counts of answers 1..5: a steady rise, then a flat last step.
RISING = {
    1: [8, 6, 4, 2, 0],
    2: [6, 6, 5, 3, 0],
    3: [4, 6, 6, 4, 0],
    4: [2, 5, 6, 5, 2],
    5: [0, 3, 6, 7, 4],
    6: [0, 3, 6, 7, 5],
}
AFTER = datetime(2025, 8, 1, tzinfo=UTC)


async def rising(client: Client, default_locale: str = "en", **settings: Any) -> Org:
    org = await make_org(client)
    await make_survey(
        client, org, schedule=MONTHLY, default_locale=default_locale, settings=settings
    )
    await import_lines(
        client,
        org,
        [
            item
            for wave, counts in RISING.items()
            for item in counted(wave, "trust", {p + 1: c for p, c in enumerate(counts)})
        ],
    )
    return org


async def trust(client: Client, org: Org) -> dict[str, Any]:
    got = await client.get(
        "/api/v1/surveys/pulse/trends?questions=trust&to=2025-06-30", headers=org.auth("analyst")
    )
    assert got.status_code == 200, got.text
    question: dict[str, Any] = got.json()["questions"][0]
    return question


async def test_trends_and_changes_say_what_they_mean(client: Client) -> None:
    question = await trust(client, await rising(client))
    assert question["trend"]["direction"] == "increasing"
    assert question["trend"]["summary"] == (
        "“I trust the organisation to act on my views”: the average answer has been rising "
        "since January 2025 (6 waves), from 2.0 to 3.7 out of 5."
    )
    last = question["waves"][5]["change"]
    assert last["significant"] is False
    assert last["summary"] == (
        "“I trust the organisation to act on my views”: the average answer went from 3.6 to 3.7 "
        "out of 5 between May 2025 and June 2025, a difference too small to tell from chance."
    )


async def test_sentences_follow_the_surveys_language(client: Client) -> None:
    question = await trust(client, await rising(client, default_locale="nl"))
    assert question["trend"]["summary"].startswith(
        "‘I trust the organisation to act on my views’: het gemiddelde antwoord stijgt sinds "
        "januari 2025 (6 rondes)"
    )


async def test_the_chart_and_the_report_say_it_in_words(client: Client, settings: Settings) -> None:
    org = await rising(client)
    async with session_on(settings) as session:
        result = await service.survey_trends(
            session, await survey_row(session), TrendsQuery(["trust"]), now=AFTER
        )
    question = result.questions[0]
    data = chart_data(result, question, question.total, question.label)
    assert data.summary == (
        "The average answer has been rising since January 2025 (6 waves), from 2.0 to 3.7 out of 5."
    )
    made = await client.post(
        "/api/v1/surveys/pulse/report-links", json={}, headers=org.auth("analyst")
    )
    page = await client.get("/" + made.json()["url"].split("/", 3)[3])
    assert page.status_code == 200
    assert "The average answer has been rising since January 2025" in page.text
    assert "<summary>How this was tested</summary>" in page.text
    assert "Trend (Mann–Kendall): increasing" in page.text


async def test_the_chart_says_it_in_the_readers_language(
    client: Client, settings: Settings
) -> None:
    await rising(client, locales=["en", "nl"])
    async with session_on(settings) as session:
        query = TrendsQuery(["trust"], locales=("nl-BE", "en"))
        result = await service.survey_trends(session, await survey_row(session), query, now=AFTER)
    assert (result.locale, result.default_locale) == ("nl", "en")
    question = result.questions[0]
    data = chart_data(result, question, question.total, question.label)
    assert data.summary == (
        "Het gemiddelde antwoord stijgt sinds januari 2025 (6 rondes), van 2,0 naar 3,7 op een "
        "schaal van 1 tot 5."
    )
