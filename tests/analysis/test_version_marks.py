"""Every version change marked on the series, breaking or not: trends JSON, chart data and
report (issue 13, item 3), over the real app on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.analysis import service
from feedback.analysis.chart_adapter import chart_data
from feedback.analysis.charts import ChartChange
from feedback.analysis.service import TrendsQuery
from feedback.clock import Clock
from feedback.config import Settings
from tests.builders.analysis import import_lines, line, session_on, survey_row
from tests.builders.orgs import Org, make_org
from tests.builders.surveys import MONTHLY, make_survey, pulse_definition
from tests.builders.webhooks import StepClock

Client = AsyncTestClient[Litestar]
STEP = StepClock(datetime(2025, 1, 2, 10, 0, tzinfo=UTC))
PUBLISHED_V2 = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)  # in wave 3
LATER = datetime(2025, 6, 15, 10, 0, tzinfo=UTC)  # in wave 6


@pytest.fixture
def clock() -> Clock:
    STEP.now = datetime(2025, 1, 2, 10, 0, tzinfo=UTC)
    return STEP


async def surveyed(client: Client) -> Org:
    """Version 1 in wave 1; version 2 in wave 3 rewords `trust` (the series continues) and
    drops an option of `priority` (a single-choice series breaks)."""
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    STEP.now = PUBLISHED_V2
    v2 = pulse_definition()
    v2["questions"][0]["label"] = "I trust the organisation to listen to me"
    v2["questions"][2]["options"] = v2["questions"][2]["options"][:2]
    draft = await client.put(
        "/api/v1/surveys/pulse/draft", json={"definition": v2}, headers=org.auth("campaigner")
    )
    assert draft.status_code == 200, draft.text
    published = await client.post(
        "/api/v1/surveys/pulse/publish",
        json={"confirm_breaks": True},
        headers=org.auth("campaigner"),
    )
    assert published.status_code == 201, published.text
    STEP.now = LATER
    lines = [
        line(w, {"trust": 1 + (i + w) % 5, "priority": "climate"}, version=1 if w < 3 else 2)
        for w in range(1, 6)
        for i in range(6)
    ]
    await import_lines(client, org, lines)
    return org


async def test_every_change_is_marked_with_its_kind(client: Client) -> None:
    org = await surveyed(client)
    got = await client.get(
        "/api/v1/surveys/pulse/trends?questions=trust,priority,hours", headers=org.auth("analyst")
    )
    assert got.status_code == 200, got.text
    questions = {q["key"]: q for q in got.json()["questions"]}
    assert questions["trust"]["version_changes"] == [
        {
            "version": 2,
            "wave": 3,
            "published_at": "2025-03-10T10:00:00Z",
            "kind": "reworded",
            "breaks_series": False,
            "detail": "label changed",
        }
    ]
    assert questions["trust"]["breaks"] == []
    changes: list[dict[str, Any]] = questions["priority"]["version_changes"]
    assert [(c["version"], c["wave"], c["kind"], c["breaks_series"]) for c in changes] == [
        (2, 3, "options_changed", True)
    ]
    assert "removed health" in changes[0]["detail"]
    # A question that never changed, and a question's first appearance, carry no mark.
    assert questions["hours"]["version_changes"] == []


async def test_changes_before_the_range_are_not_marked(client: Client) -> None:
    org = await surveyed(client)
    got = await client.get(
        "/api/v1/surveys/pulse/trends?questions=trust&from=2025-04-01",
        headers=org.auth("analyst"),
    )
    assert got.status_code == 200, got.text
    assert got.json()["questions"][0]["version_changes"] == []


async def test_the_chart_and_the_report_mark_the_change(client: Client, settings: Settings) -> None:
    org = await surveyed(client)
    async with session_on(settings) as session:
        survey = await survey_row(session)
        result = await service.survey_trends(
            session, survey, TrendsQuery(["trust", "priority"]), now=LATER
        )
    trust, priority = result.questions
    assert chart_data(result, trust, trust.total, trust.label).changes == (
        ChartChange(3, 2, ("reworded",)),
    )
    # A breaking version is drawn as the break.
    assert chart_data(result, priority, priority.total, priority.label).changes == ()
    made = await client.post(
        "/api/v1/surveys/pulse/report-links", json={}, headers=org.auth("analyst")
    )
    assert made.status_code == 201, made.text
    page = await client.get("/" + made.json()["url"].split("/", 3)[3])
    assert page.status_code == 200
    assert (
        "Version 2 (2025-03-10, wave 3): reworded, label changed; the series continues."
        in page.text
    )
    assert "options changed, removed health; the series breaks here." in page.text
