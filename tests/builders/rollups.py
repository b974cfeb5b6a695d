"""A survey whose trends splits are kept in rollups, and ways to look at what was kept: the
history that tests/analysis/test_rollups.py and test_warming.py read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.builders.analysis import import_lines, line
from tests.builders.orgs import Org, make_org
from tests.builders.responses import execute, make_respondent, scalar
from tests.builders.surveys import MONTHLY, make_survey

Client = AsyncTestClient[Litestar]


# Wave 4 (April 2025) is open; waves 1-3 are closed.
NOW = datetime(2025, 4, 20, 12, 0, tzinfo=UTC)
QUESTIONS = "questions=trust,actions,hours&to=2025-04-30"
BY_REGION = f"/api/v1/surveys/pulse/trends?{QUESTIONS}&segment=region"
BY_CHANNEL = f"/api/v1/surveys/pulse/trends?{QUESTIONS}&segment=channel"
REGIONS = ("north", "south", "east")


async def history(client: Client) -> tuple[Org, list[dict[str, Any]]]:
    """Twelve known respondents in three regions and four anonymous answers a wave, waves 1-3,
    numbers chosen so that their sums are not round in binary."""
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    people = [
        await make_respondent(client, org, external_ref=f"p{i}", region=REGIONS[i % 3])
        for i in range(12)
    ]
    lines = []
    for wave in (1, 2, 3):
        for i in range(12):
            answers = {
                "trust": 1 + (i + wave) % 5,
                "actions": ["petition", "march"][: 1 + (i + wave) % 2],
                "hours": round(0.1 * (i + 1) + wave / 3, 6),
            }
            lines.append(
                {**line(wave, answers, respondent=f"p{i}"), "channel": ("event", "paper")[i % 2]}
            )
        lines += [line(wave, {"trust": 3, "hours": 1e-6 * wave}) for _ in range(4)]
    await import_lines(client, org, lines)
    return org, people


async def trends(client: Client, org: Org, url: str = BY_REGION) -> dict[str, Any]:
    got = await client.get(url, headers=org.auth("analyst"))
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


def ns(body: dict[str, Any]) -> list[list[int]]:
    """Each question's n per wave."""
    return [[w["n"] for w in q["waves"]] for q in body["questions"]]


def wave(body: dict[str, Any], number: int) -> dict[tuple[str, str | None], Any]:
    """What each question says about one wave alone, its total and each segment's with answers
    there, without the change from the wave before (served pieces of other waves may differ)."""
    out: dict[tuple[str, str | None], Any] = {}
    for q in body["questions"]:
        groups = {None: q, **(q.get("segments") or {})}
        for name, group in groups.items():
            for w in group["waves"]:
                if w["number"] == number and (name is None or w["n"] > 0):
                    out[(q["key"], name)] = {
                        k: v for k, v in w.items() if k not in ("change", "option_changes")
                    }
    return out


async def place(
    client: Client, org: Org, person: dict[str, Any], region: Any, **others: Any
) -> None:
    """Set the respondent's attributes to this region and `others` (PUT: the whole set)."""
    got = await client.put(
        f"/api/v1/respondents/{person['id']}",
        json={"attributes": {"region": region, **others}},
        headers=org.auth("campaigner"),
    )
    assert got.status_code == 200, got.text


async def pieces(url: str) -> int:
    return int(await scalar(url, "SELECT count(*) FROM trend_rollup"))


async def tamper(url: str) -> None:
    """Every kept piece now says its wave had no answers: what is served from a piece shows 0."""
    await execute(url, "UPDATE trend_rollup SET rows = '[]'")


async def counted_afresh(client: Client, org: Org, database_url: str, url: str) -> dict[str, Any]:
    await execute(database_url, "DELETE FROM trend_rollup")
    return await trends(client, org, url)
