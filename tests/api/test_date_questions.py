"""A date question through the whole service: answered, imported, exported, counted by the
analysis and never trended (a reason, not a 500, wherever a metric would be needed)."""

from __future__ import annotations

import json
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.test_analysis import TRENDS, problem_at
from tests.builders.analysis import import_lines, line
from tests.builders.orgs import Org, make_org
from tests.builders.surveys import MONTHLY, make_survey, pulse_definition

Client = AsyncTestClient[Litestar]
JOINED: dict[str, Any] = {
    "key": "joined",
    "type": "date",
    "label": "When did you join?",
    "min": "1990-01-01",
    "max": "2025-12-31",
}


async def _survey(client: Client) -> Org:
    org = await make_org(client)
    definition = pulse_definition()
    definition["questions"].append(JOINED)
    await make_survey(client, org, schedule=MONTHLY, definition=definition)
    days = ["2020-02-29", "2021-07-01", "2024-12-31"]
    lines = [line(wave, {"trust": 4, "joined": days[i % 3]}) for wave in (1, 2) for i in range(6)]
    await import_lines(client, org, lines)
    return org


async def test_dates_are_counted_not_trended(client: Client) -> None:
    org = await _survey(client)
    auth = org.auth("analyst")
    got = await client.get(f"{TRENDS}?questions=joined&from=2025-01-01&to=2025-03-31", headers=auth)
    assert got.status_code == 200, got.text
    (joined,) = got.json()["questions"]
    assert joined["metric"] is None and joined["trend"] is None
    assert joined["trend_reason"] == "text and date answers have no metric to trend"
    assert [w["n"] for w in joined["waves"][:2]] == [6, 6]
    assert problem_at(await client.get(f"{TRENDS}/joined/chart.png", headers=auth)) == [
        ("/question", "path")
    ]
    panel = await client.get(
        "/api/v1/surveys/pulse/panel/joined?from_wave=1&to_wave=2", headers=auth
    )
    assert panel.status_code == 422
    assert panel.json()["errors"][0]["message"] == "is a date question: it has no panel test"


async def test_dates_are_exported_as_written(client: Client) -> None:
    org = await _survey(client)
    got = await client.get("/api/v1/surveys/pulse/export.csv", headers=org.auth("analyst"))
    assert got.status_code == 200
    assert got.text.count(",joined,2020-02-29") == 4


async def test_a_date_answer_outside_its_bounds_is_refused_at_its_pointer(client: Client) -> None:
    org = await _survey(client)
    at = "2025-01-15T12:00:00Z"
    body = "\n".join(
        json.dumps({"answers": {"trust": 3, "joined": day}, "submitted_at": at})
        for day in ("2026-01-01", "01/02/2024")
    )
    got = await client.post(
        "/api/v1/surveys/pulse/responses/import",
        content=body.encode(),
        headers={**org.auth("campaigner"), "Content-Type": "application/x-ndjson"},
    )
    assert got.status_code == 200, got.text
    assert got.json()["rejected"] == [
        {"line": 1, "pointer": "/answers/joined", "message": "must be on or before 2025-12-31"},
        {
            "line": 2,
            "pointer": "/answers/joined",
            "message": "must be a date written YYYY-MM-DD, such as 2025-01-31",
        },
    ]


async def test_a_date_questions_chart_and_impact_say_it_is_a_date_question(
    client: Client,
) -> None:
    org = await _survey(client)
    auth = org.auth("analyst")
    decided = await client.post(
        "/api/v1/surveys/pulse/decisions",
        json={"title": "Welcome calls", "decided_at": "2025-02-01T00:00:00Z"},
        headers=org.auth("campaigner"),
    )
    assert decided.status_code == 201, decided.text
    impact = f"/api/v1/surveys/pulse/decisions/{decided.json()['id']}/impact?question=joined"
    for url, message in (
        (f"{TRENDS}/joined/chart.svg", "is a date question: it has no chart, only n per wave"),
        (impact, "is a date question: it has no metric to change"),
    ):
        got = await client.get(url, headers=auth)
        assert got.status_code == 422, got.text
        assert got.json()["errors"][0]["message"] == message
