"""Removing one option of a choice question breaks only what changed: the options that keep
their key and label keep their trend and their panel (issue 13, item 4), on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.analysis.option_series import kept_across, option_runs
from feedback.analysis.trend import mann_kendall
from feedback.clock import Clock
from feedback.surveys.definition import parse_definition
from tests.builders.analysis import import_lines, line
from tests.builders.orgs import Org, make_org
from tests.builders.surveys import MONTHLY, make_survey, pulse_definition
from tests.builders.webhooks import StepClock
from tests.builders.wire import unsaid, wire

Client = AsyncTestClient[Litestar]
STEP = StepClock(datetime(2025, 1, 2, 10, 0, tzinfo=UTC))
# Wave w: respondent i chooses climate when i < 3 + w, else housing (v1: health for i = 9).
PEOPLE = 10


def v2() -> dict[str, Any]:
    """`priority` without `health` (the series breaks) and `housing` relabelled."""
    definition = pulse_definition()
    definition["questions"][2]["options"] = [
        {"key": "climate", "label": "Climate"},
        {"key": "housing", "label": "Housing and rent"},
    ]
    return definition


def choice(wave: int, person: int) -> str:
    if person < 3 + wave:
        return "climate"
    return "health" if wave < 3 and person == PEOPLE - 1 else "housing"


@pytest.fixture
def clock() -> Clock:
    STEP.now = datetime(2025, 1, 2, 10, 0, tzinfo=UTC)
    return STEP


async def surveyed(client: Client) -> Org:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    STEP.now = datetime(2025, 3, 2, 10, 0, tzinfo=UTC)  # wave 3
    draft = await client.put(
        "/api/v1/surveys/pulse/draft", json={"definition": v2()}, headers=org.auth("campaigner")
    )
    assert draft.status_code == 200, draft.text
    published = await client.post(
        "/api/v1/surveys/pulse/publish",
        json={"confirm_breaks": True},
        headers=org.auth("campaigner"),
    )
    assert published.status_code == 201, published.text
    assert any(c["breaks_series"] for c in published.json()["changes"])
    STEP.now = datetime(2025, 7, 15, 10, 0, tzinfo=UTC)  # wave 7
    await import_lines(
        client,
        org,
        [
            line(
                w, {"trust": 3, "priority": choice(w, i)}, respondent=f"p{i}", version=1 + (w >= 3)
            )
            for w in range(1, 7)
            for i in range(PEOPLE)
        ],
    )
    return org


async def test_an_unchanged_option_keeps_its_trend_across_the_break(client: Client) -> None:
    org = await surveyed(client)
    got = await client.get(
        "/api/v1/surveys/pulse/trends?questions=priority&to=2025-06-30",
        headers=org.auth("analyst"),
    )
    assert got.status_code == 200, got.text
    question = got.json()["questions"][0]
    assert [b["wave"] for b in question["breaks"]] == [3]
    share = {w: sum(choice(w, i) == "climate" for i in range(PEOPLE)) / PEOPLE for w in range(1, 7)}
    trends = question["option_trends"]
    climate = mann_kendall(list(range(1, 7)), [share[w] for w in range(1, 7)])
    assert unsaid(trends["climate"]) == pytest.approx(wire(climate))
    # Relabelled: a new series from the break on (four waves).
    housing = mann_kendall([3, 4, 5, 6], [1 - share[w] for w in range(3, 7)])
    assert unsaid(trends["housing"]) == pytest.approx(wire(housing))
    assert "health" not in trends


async def test_the_panel_across_the_break_keeps_the_unchanged_options(client: Client) -> None:
    org = await surveyed(client)
    got = await client.get(
        "/api/v1/surveys/pulse/panel/priority?from_wave=2&to_wave=3", headers=org.auth("analyst")
    )
    assert got.status_code == 200, got.text
    panel = got.json()
    assert panel["n_pairs"] == PEOPLE and panel["excluded_across_break"] == 0
    assert set(panel["options"]) == {"climate"}
    # p5 moved to climate (b = 0, c = 1); p0..p4 chose it both times.
    climate = panel["options"]["climate"]
    assert (climate["both"], climate["b"], climate["c"], climate["neither"]) == (5, 0, 1, 4)


def test_options_keep_their_series_only_while_key_and_label_stay() -> None:
    first = parse_definition(pulse_definition(), locales=(), default_locale="en").question(
        "priority"
    )
    second = parse_definition(v2(), locales=(), default_locale="en").question("priority")
    third_definition = v2()
    third_definition["questions"][2]["type"] = "multi_choice"
    third = parse_definition(third_definition, locales=(), default_locale="en").question("priority")
    series = (first, second, third)
    assert option_runs(series, 1, "climate") == (0, 1)
    assert option_runs(series, 1, "housing") == (1,)
    # A change of type breaks every option.
    assert option_runs(series, 2, "climate") == (2,)
    assert kept_across(series) == {(0, 1): frozenset({"climate"})}
