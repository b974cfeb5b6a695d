"""`count_per_respondent`: one respondent, one voice per wave (docs/statistics.md, "Ground
rules"), over the real app on both databases; anonymous responses each count."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.analysis.estimates import choice_estimate, number_estimate, scale_estimate
from feedback.analysis.sufficient import Moments, OptionCounts, ScaleCounts
from tests.builders.analysis import import_lines, line
from tests.builders.orgs import Org, make_org
from tests.builders.responses import make_respondent
from tests.builders.surveys import MONTHLY, make_survey
from tests.builders.wire import same as same_json
from tests.builders.wire import wire

Client = AsyncTestClient[Litestar]
ESTIMATE_FIELDS = ("n", "estimate", "ci_low", "ci_high", "distribution")


def history() -> list[dict[str, Any]]:
    """Wave 1: r1 answers three times (the last skips `hours`), r2 twice, five anonymous
    responses and r3..r6 once each; wave 2: r1..r6 once each."""
    lines = [
        line(1, {"trust": 1, "actions": ["petition"], "hours": 9.0}, respondent="r1", day=3),
        line(1, {"trust": 2, "actions": ["petition"], "hours": 8.0}, respondent="r1", day=9),
        line(1, {"trust": 5, "actions": ["march"]}, respondent="r1", day=20),
        line(1, {"trust": 1, "actions": [], "hours": 1.0}, respondent="r2", day=4),
        line(1, {"trust": 2, "actions": ["march"], "hours": 2.0}, respondent="r2", day=5),
    ]
    lines += [line(1, {"trust": 3, "actions": ["petition"], "hours": 3.0}) for _ in range(5)]
    lines += [
        line(1, {"trust": 4, "actions": ["march", "petition"], "hours": 4.0}, respondent=f"r{i}")
        for i in range(3, 7)
    ]
    lines += [
        line(2, {"trust": 1 + i % 5, "hours": float(i)}, respondent=f"r{i}") for i in range(1, 7)
    ]
    return lines


async def survey_with(client: Client, settings: dict[str, Any] | None) -> Org:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY, settings=settings)
    await import_lines(client, org, history())
    return org


async def wave_one(client: Client, org: Org, key: str) -> dict[str, Any]:
    got = await client.get(
        f"/api/v1/surveys/pulse/trends?questions={key}&from=2025-01-01&to=2025-02-28",
        headers=org.auth("analyst"),
    )
    assert got.status_code == 200, got.text
    entry: dict[str, Any] = got.json()["questions"][0]["waves"][0]
    assert entry["number"] == 1
    return entry


def scale(counts: list[int]) -> Any:
    return wire(scale_estimate(ScaleCounts(np.arange(1, 6), np.array(counts)), min_n=5))


def moments(values: list[float]) -> Any:
    x = np.array(values)
    shift = 0.0
    return wire(
        number_estimate(
            Moments(n=x.size, total=float(x.sum()), total_sq=float((x**2).sum()), shift=shift),
            min_n=5,
        )
    )


def shares(counts: dict[str, int], n: int) -> Any:
    options = ("petition", "march", "donate")
    counted = OptionCounts(options, np.array([counts.get(o, 0) for o in options]), n)
    return wire(choice_estimate(counted, min_n=5))


def same(entry: dict[str, Any], expected: dict[str, Any]) -> None:
    for field in ESTIMATE_FIELDS:
        if field in expected:
            assert entry[field] == pytest.approx(expected[field], abs=1e-9), field
    for option, share in expected.get("options", {}).items():
        assert entry["options"][option] == pytest.approx(share, abs=1e-9), option


@pytest.mark.parametrize("setting", [None, {"count_per_respondent": "latest"}])
async def test_latest_counts_a_respondents_last_response_of_the_wave_only(
    client: Client, setting: dict[str, Any] | None
) -> None:
    org = await survey_with(client, setting)
    # r1 counts with 5 (its third), r2 with 2, the five anonymous with 3, r3..r6 with 4.
    same(await wave_one(client, org, "trust"), scale([0, 1, 5, 4, 1]))
    # r1's latest response skipped `hours`: its earlier answers count nowhere.
    same(await wave_one(client, org, "hours"), moments([2.0] + [3.0] * 5 + [4.0] * 4))
    actions = await wave_one(client, org, "actions")
    assert actions["n"] == 11
    same(actions, shares({"march": 6, "petition": 9}, 11))
    panel = await client.get(
        "/api/v1/surveys/pulse/panel/trust?from_wave=1&to_wave=2", headers=org.auth("analyst")
    )
    assert panel.status_code == 200, panel.text
    assert panel.json()["n_pairs"] == 6


async def test_all_counts_every_response(client: Client) -> None:
    org = await survey_with(client, {"count_per_respondent": "all"})
    same(await wave_one(client, org, "trust"), scale([2, 2, 5, 4, 1]))
    same(
        await wave_one(client, org, "hours"),
        moments([9.0, 8.0, 1.0, 2.0] + [3.0] * 5 + [4.0] * 4),
    )
    same(
        await wave_one(client, org, "actions"),
        shares({"march": 6, "petition": 11}, 14),
    )
    panel = await client.get(
        "/api/v1/surveys/pulse/panel/trust?from_wave=1&to_wave=2", headers=org.auth("analyst")
    )
    # A respondent with several responses in a wave has no single answer to pair: r1, r2 out.
    assert panel.status_code == 200 and panel.json()["n_pairs"] == 4


def latest_lines() -> list[dict[str, Any]]:
    """Waves 1-3: p0..p8 once each, through two channels, and three anonymous responses."""
    lines = []
    for wave in (1, 2, 3):
        for i in range(9):
            answers = {
                "trust": 1 + (i + wave) % 5,
                "actions": ["petition", "march"][: 1 + (i * wave) % 2],
                "hours": round(0.1 * (i + 1) + wave / 3, 6),
            }
            channel = ("event", "paper")[i % 2]
            lines.append({**line(wave, answers, respondent=f"p{i}", day=20), "channel": channel})
        # 2.63: no wave's or group's mean hours ends in 5 at the digit its sentence rounds to,
        # where the last bits a subtraction leaves would decide which way it rounds.
        lines += [line(wave, {"trust": 3, "hours": 2.63}) for _ in range(3)]
    return lines


def superseded_lines() -> list[dict[str, Any]]:
    """Earlier responses of p0..p5 in each wave, through other channels, with other answers,
    and questions their latest response also answers or not."""
    lines = []
    for wave in (1, 2, 3):
        for i in range(6):
            answers: dict[str, Any] = {"trust": 5 - i % 5, "hours": 40.0 + i, "actions": ["donate"]}
            for day in (3, 9)[: 1 + i % 2]:
                lines.append({**line(wave, answers, respondent=f"p{i}", day=day), "channel": "web"})
    return lines


@pytest.mark.parametrize(
    "query",
    [
        "",
        "&segment=region",
        "&segment=channel",
        "&segment=region&channel=event,web",
        "&segment=region&from=2025-02-01&to=2025-02-28",
        "&segment=channel&from=2025-02-01&to=2025-03-31",
    ],
)
async def test_superseded_responses_count_in_no_split_and_no_channel(
    client: Client, query: str
) -> None:
    """Counted with their superseded responses, the trends equal the trends of the latest
    responses alone: split by attribute or by channel or not, over every wave or a few."""
    orgs = []
    for slug, lines in (("all", latest_lines() + superseded_lines()), ("latest", latest_lines())):
        org = await make_org(client, slug)
        await make_survey(client, org, schedule=MONTHLY)
        for i in range(9):
            await make_respondent(client, org, external_ref=f"p{i}", region=("n", "s", "e")[i % 3])
        await import_lines(client, org, lines)
        orgs.append(org)
    bodies = []
    for org in orgs:
        got = await client.get(
            "/api/v1/surveys/pulse/trends?questions=trust,actions,hours"
            + ("" if "from=" in query else "&from=2025-01-01&to=2025-03-31")
            + query,
            headers=org.auth("analyst"),
        )
        assert got.status_code == 200, got.text
        bodies.append(got.json()["questions"])
    # Nine known and three anonymous a wave; through event (or web) only p0, p2, .., p8.
    n = 5 if "channel=" in query else 12
    assert [w["n"] for w in bodies[0][0]["waves"]] == [n] * len(bodies[0][0]["waves"])
    # The superseded answers' sums are subtracted from the totals (one_voice.net_rows), and the
    # sums of squares of numbers far from the others (40 against 0.1 to 1.3) leave the last
    # digits of a variance to rounding: 1e-9 relative, not the 1e-12 of a sum in another order.
    assert same_json(bodies[0], bodies[1], rel=1e-9)


async def test_the_setting_is_checked_on_create_and_patch(client: Client) -> None:
    org = await make_org(client)
    bad = await client.post(
        "/api/v1/surveys",
        json={
            "slug": "pulse",
            "title": "Pulse",
            "default_locale": "en",
            "settings": {"count_per_respondent": "first"},
            "definition": {"questions": [{"key": "q", "type": "text", "label": "Q"}]},
        },
        headers=org.auth("campaigner"),
    )
    assert bad.status_code == 422, bad.text
    assert [e["pointer"] for e in bad.json()["errors"]] == ["/settings/count_per_respondent"]
    await make_survey(client, org)
    patched = await client.patch(
        "/api/v1/surveys/pulse",
        json={"settings": {"count_per_respondent": 1}},
        headers=org.auth("campaigner"),
    )
    assert patched.status_code == 422, patched.text
    assert [e["pointer"] for e in patched.json()["errors"]] == ["/settings/count_per_respondent"]
    ok = await client.patch(
        "/api/v1/surveys/pulse",
        json={"settings": {"count_per_respondent": "all"}},
        headers=org.auth("campaigner"),
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["settings"]["count_per_respondent"] == "all"
