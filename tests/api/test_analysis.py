"""The analysis routes over HTTP: trends, charts and panels, their parameters and problems, and
proof that nothing under min_n leaks through any of them."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from typing import Any

import numpy as np
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.analysis.panel import mcnemar, paired_t, wilcoxon_signed_rank
from feedback.analysis.sufficient import Moments, OptionPairs, PairTable
from tests.builders.analysis import import_lines, line
from tests.builders.orgs import Org, make_org
from tests.builders.surveys import MONTHLY, make_survey, publish_version, pulse_definition
from tests.builders.wire import wire

Client = AsyncTestClient[Litestar]
TRENDS = "/api/v1/surveys/pulse/trends"
HALF_YEAR = "from=2025-01-01&to=2025-06-30"
KEYS = ("trust", "nps", "priority", "actions", "hours", "comment")


def problem_at(got: Any, status: int = 422) -> list[tuple[str, str | None]]:
    assert got.status_code == status, got.text
    assert got.headers["content-type"].startswith("application/problem+json")
    return [(e["pointer"], e.get("source")) for e in got.json().get("errors", [])]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def every_type(wave: int, i: int) -> dict[str, Any]:
    return {
        "trust": 1 + (i + wave) % 5,
        "nps": (3 * i + wave) % 11,
        "priority": ("climate", "housing", "health")[i % 3],
        "actions": [["petition"], ["march", "donate"], []][i % 3],
        "hours": (i % 7) / 2,
        "comment": f"note {i}",
    }


async def pulse(
    client: Client, *, waves: tuple[int, ...] = (1, 2, 3, 4, 5), size: int = 8, **settings: Any
) -> Org:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY, settings=settings or None)
    lines = [line(w, every_type(w, i)) for w in waves for i in range(size + w)]
    if lines:
        await import_lines(client, org, lines)
    return org


async def test_trends_answer_the_contract_for_every_question(client: Client) -> None:
    org = await pulse(client)
    got = await client.get(f"{TRENDS}?{HALF_YEAR}", headers=org.auth("analyst"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["survey"] == "pulse" and body["min_n"] == 5 and body["from"] == "2025-01-01"
    assert [q["key"] for q in body["questions"]] == list(KEYS)
    for q in body["questions"]:
        assert {"key", "type", "metric", "label", "waves", "trend", "breaks", "decisions"} <= set(q)
        assert [w["number"] for w in q["waves"]] == [1, 2, 3, 4, 5, 6]
        assert q["waves"][5] == {"number": 6, "label": "2025-06", "n": 0, "suppressed": "small"}
    trust = body["questions"][0]
    wave = trust["waves"][1]
    assert {
        "number",
        "label",
        "opens_at",
        "closes_at",
        "version",
        "n",
        "suppressed",
        "estimate",
        "ci_low",
        "ci_high",
        "distribution",
        "change",
    } <= set(wave)
    listed = (await client.get("/api/v1/surveys/pulse/waves", headers=org.auth("analyst"))).json()
    assert (wave["opens_at"], wave["closes_at"]) == (listed[1]["opens_at"], listed[1]["closes_at"])
    assert set(wave["change"]) >= {
        "from_wave",
        "test",
        "statistic",
        "p",
        "q",
        "significant",
        "diff",
        "diff_ci_low",
        "diff_ci_high",
    }
    assert wave["change"]["test"] == "mann_whitney" and wave["change"]["from_wave"] == 1
    assert trust["trend"]["test"] == "mann_kendall"
    assert set(trust["trend"]) >= {"s", "tau", "z", "p", "slope", "direction", "waves"}
    priority = body["questions"][2]
    assert "estimate" not in priority["waves"][0]
    assert set(priority["waves"][0]["options"]["climate"]) == {
        "count",
        "estimate",
        "ci_low",
        "ci_high",
        "mdc",
    }
    assert priority["waves"][1]["change"]["test"] == "chi_square"
    actions = body["questions"][3]
    assert actions["waves"][1]["option_changes"]["march"]["test"] == "two_proportion_z"
    assert set(actions["option_trends"]) == {"petition", "march", "donate"}
    assert body["questions"][4]["waves"][1]["change"]["test"] == "welch_t"
    assert body["questions"][1]["waves"][1]["change"]["test"] == "nps_z"
    comment = body["questions"][5]
    assert comment["metric"] is None and comment["waves"][0]["n"] == 9
    only = await client.get(f"{TRENDS}?questions=hours,trust", headers=org.auth("analyst"))
    assert [q["key"] for q in only.json()["questions"]] == ["hours", "trust"]


async def test_trends_parameters_are_validated_and_named(client: Client) -> None:
    org = await pulse(client, waves=(1,), size=4)
    auth = org.auth("analyst")
    assert problem_at(await client.get(f"{TRENDS}?questions=trust,nope", headers=auth)) == [
        ("/questions", "query")
    ]
    assert problem_at(await client.get(f"{TRENDS}?from=2025-13-01", headers=auth))[0] == (
        "/from",
        "query",
    )
    assert problem_at(
        await client.get(f"{TRENDS}?from=2025-05-01&to=2025-01-01", headers=auth)
    ) == [("/from", "query")]
    assert problem_at(await client.get(f"{TRENDS}?segment=Bad-Name", headers=auth)) == [
        ("/segment", "query")
    ]
    assert problem_at(await client.get(f"{TRENDS}?min_n=0", headers=auth))[0][0] == "/min_n"
    assert problem_at(await client.get(f"{TRENDS}?min_n=x", headers=auth))[0][0] == "/min_n"
    # A lower min_n than the survey's is not an error: the survey's applies, and says so.
    lowered = await client.get(f"{TRENDS}?min_n=1&to=2025-01-31", headers=auth)
    assert lowered.json()["min_n"] == 5
    first = lowered.json()["questions"][0]["waves"][0]
    assert (first["n"], first["suppressed"]) == (5, False) and "estimate" in first
    raised = await client.get(f"{TRENDS}?min_n=6&to=2025-01-31", headers=auth)
    assert raised.json()["min_n"] == 6
    assert raised.json()["questions"][0]["waves"][0]["suppressed"] == "small"


async def test_analysis_needs_a_key_and_allows_analysts(client: Client) -> None:
    org = await pulse(client, waves=(1,), size=4)
    assert (await client.get(TRENDS)).status_code == 401
    for role in ("analyst", "campaigner", "admin"):
        assert (await client.get(TRENDS, headers=org.auth(role))).status_code == 200


@pytest.mark.parametrize("key", ["trust", "nps", "priority", "actions", "hours"])
async def test_charts_render_for_every_question_type(client: Client, key: str) -> None:
    org = await pulse(client, waves=(1, 2, 3, 4), size=5)
    png = await client.get(f"{TRENDS}/{key}/chart.png?{HALF_YEAR}", headers=org.auth("analyst"))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png_size(png.content) == (800, 450)
    svg = await client.get(f"{TRENDS}/{key}/chart.svg?{HALF_YEAR}", headers=org.auth("analyst"))
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert ET.fromstring(svg.content).tag.endswith("svg")


async def test_chart_problems(client: Client) -> None:
    org = await pulse(client, waves=(1,), size=4)
    auth = org.auth("analyst")
    assert problem_at(await client.get(f"{TRENDS}/comment/chart.png", headers=auth)) == [
        ("/question", "path")
    ]
    assert problem_at(await client.get(f"{TRENDS}/nope/chart.svg", headers=auth), 404) == []
    assert problem_at(await client.get(f"{TRENDS}/trust/chart.png?min_n=0", headers=auth))


@pytest.mark.parametrize(
    ("waves", "size"),
    [((), 0), ((3,), 6), ((1, 2, 3), 1)],
    ids=["empty", "single wave", "all suppressed"],
)
async def test_charts_render_for_thin_surveys(
    client: Client, waves: tuple[int, ...], size: int
) -> None:
    org = await pulse(client, waves=waves, size=size)
    for key in ("trust", "priority", "actions"):
        for fmt in ("png", "svg"):
            got = await client.get(
                f"{TRENDS}/{key}/chart.{fmt}?{HALF_YEAR}", headers=org.auth("analyst")
            )
            assert got.status_code == 200, got.text
    segmented = await client.get(
        f"{TRENDS}/trust/chart.png?{HALF_YEAR}&segment=region", headers=org.auth("analyst")
    )
    assert segmented.status_code == 200 and png_size(segmented.content) == (800, 450)


async def test_segment_charts_and_charts_with_breaks_and_decisions_render(
    client: Client,
) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    v2 = pulse_definition()
    v2["questions"][0]["scale"] = {"min": 1, "max": 7}
    await publish_version(client, org, "pulse", v2, confirm_breaks=True)
    for region in ("north", "south", "east"):
        for i in range(8):
            made = await client.post(
                "/api/v1/respondents",
                json={"external_ref": f"{region}{i}", "attributes": {"region": region}},
                headers=org.auth("campaigner"),
            )
            assert made.status_code == 201
    lines = [
        line(w, {"trust": 1 + i % 5}, respondent=f"{r}{i}", version=1 if w < 3 else 2)
        for w in range(1, 6)
        for r in ("north", "south", "east")
        for i in range(8)
    ]
    await import_lines(client, org, lines)
    decided = await client.post(
        "/api/v1/surveys/pulse/decisions",
        json={"title": "We now publish minutes", "decided_at": "2025-02-20T00:00:00Z"},
        headers=org.auth("campaigner"),
    )
    assert decided.status_code == 201
    auth = org.auth("analyst")
    for query in (HALF_YEAR, f"{HALF_YEAR}&segment=region"):
        got = await client.get(f"{TRENDS}/trust/chart.png?{query}", headers=auth)
        assert got.status_code == 200 and png_size(got.content) == (800, 450)
    body = (await client.get(f"{TRENDS}?questions=trust&{HALF_YEAR}", headers=auth)).json()
    trust = body["questions"][0]
    assert trust["breaks"] == [{"version": 2, "wave": 3, "series": 1}]
    assert trust["decisions"][0]["wave"] == 2  # monthly waves leave no gap: February's


# --- panels ------------------------------------------------------------------------------------


async def panel_world(client: Client, pairs: int) -> Org:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    lines = []
    for i in range(pairs):
        ref = f"p{i}"
        lines.append(
            line(
                1,
                {"trust": 1 + i % 4, "hours": float(i), "actions": ["petition"] if i % 2 else []},
                respondent=ref,
            )
        )
        lines.append(
            line(
                2,
                {
                    "trust": 2 + i % 4,
                    "hours": float(i) + i % 3,
                    "actions": ["petition", "march"] if i % 3 else [],
                },
                respondent=ref,
            )
        )
    await import_lines(client, org, lines)
    return org


async def test_panel_equals_the_pure_tests_on_the_same_pairs(client: Client) -> None:
    org = await panel_world(client, 9)
    auth = org.auth("analyst")
    got = await client.get("/api/v1/surveys/pulse/panel/trust?from_wave=1&to_wave=2", headers=auth)
    assert got.status_code == 200, got.text
    before = [1 + i % 4 for i in range(9)]
    after = [2 + i % 4 for i in range(9)]
    table = PairTable.from_rows(((a, b, 1) for a, b in zip(before, after, strict=True)))
    expected = wilcoxon_signed_rank(table.differences(), min_n=5)
    assert got.json() == {
        "question": "trust",
        "type": "likert",
        "from_wave": 1,
        "to_wave": 2,
        "min_n": 5,
        "excluded_across_break": 0,
        **wire(expected),
    }
    hours = (
        await client.get("/api/v1/surveys/pulse/panel/hours?from_wave=1&to_wave=2", headers=auth)
    ).json()
    d = np.array([i % 3 for i in range(9)], dtype=float)
    assert hours["test"] == "paired_t"
    assert (
        hours["statistic"]
        == paired_t(Moments(9, float(d.sum()), float((d * d).sum())), min_n=5).statistic
    )
    actions = (
        await client.get("/api/v1/surveys/pulse/panel/actions?from_wave=1&to_wave=2", headers=auth)
    ).json()
    chose_before = [["petition"] if i % 2 else [] for i in range(9)]
    chose_after = [["petition", "march"] if i % 3 else [] for i in range(9)]
    rows = [
        (o, o in b, o in a, 1)
        for b, a in zip(chose_before, chose_after, strict=True)
        for o in ("petition", "march", "donate")
    ]
    reference = mcnemar(
        OptionPairs.from_rows(rows, options=("petition", "march", "donate"), n_pairs=9), min_n=5
    )
    assert actions["test"] == "mcnemar" and actions["n_pairs"] == 9
    assert reference.options is not None
    assert actions["options"]["march"]["p"] == reference.options["march"].p


async def test_a_small_panel_is_suppressed_and_bad_requests_are_named(client: Client) -> None:
    org = await panel_world(client, 4)
    auth = org.auth("analyst")
    got = await client.get("/api/v1/surveys/pulse/panel/trust?from_wave=1&to_wave=2", headers=auth)
    assert got.json() == {
        "question": "trust",
        "type": "likert",
        "from_wave": 1,
        "to_wave": 2,
        "min_n": 5,
        "excluded_across_break": 0,
        "test": "wilcoxon",
        "n_pairs": 4,
        "suppressed": True,
    }
    panel = "/api/v1/surveys/pulse/panel"
    assert ("/to_wave", "query") in problem_at(
        await client.get(f"{panel}/trust?from_wave=1", headers=auth)
    )
    assert problem_at(await client.get(f"{panel}/trust?from_wave=2&to_wave=2", headers=auth)) == [
        ("/from_wave", "query")
    ]
    assert problem_at(await client.get(f"{panel}/comment?from_wave=1&to_wave=2", headers=auth)) == [
        ("/question", "path")
    ]
    assert (
        problem_at(await client.get(f"{panel}/nope?from_wave=1&to_wave=2", headers=auth), 404) == []
    )


# --- nothing under min_n leaks ------------------------------------------------------------------


async def twin(client: Client, slug: str, hidden: list[int]) -> Org:
    """A survey whose shown waves are the same in every twin; only wave 2 (3 answers, under
    min_n) differs."""
    org = await make_org(client, slug)
    await make_survey(client, org, schedule=MONTHLY)
    lines = [line(w, every_type(w, i)) for w in (1, 3, 4, 5) for i in range(7)]
    lines += [
        line(
            2,
            {
                **every_type(2, 0),
                "trust": v,
                "nps": 2 * v,
                "hours": v / 2.0,
                "priority": ("climate", "health")[v % 2],
                "actions": ["donate"] * (v % 2),
            },
        )
        for v in hidden
    ]
    await import_lines(client, org, lines)
    return org


async def test_no_hidden_wave_changes_any_route(client: Client) -> None:
    """Two surveys differ only in a suppressed wave: trends, charts, panels answer the same,
    byte for byte (PNG rendering is deterministic), so nothing about that wave gets out."""
    low = await twin(client, "twin-low", [1, 1, 2])
    high = await twin(client, "twin-high", [5, 5, 4])
    answers: list[list[bytes]] = []
    for org in (low, high):
        auth = org.auth("analyst")
        got = [(await client.get(f"{TRENDS}?{HALF_YEAR}", headers=auth)).content]
        for key in ("trust", "nps", "priority", "actions", "hours"):
            got.append(
                (await client.get(f"{TRENDS}/{key}/chart.png?{HALF_YEAR}", headers=auth)).content
            )
        got.append(
            (
                await client.get(
                    "/api/v1/surveys/pulse/panel/trust?from_wave=1&to_wave=2", headers=auth
                )
            ).content
        )
        answers.append(got)
    assert b'"n":3,"suppressed":"small"' in answers[0][0]
    assert answers[0] == answers[1]


async def test_no_hidden_segment_cell_changes_any_route(client: Client) -> None:
    """Complementary suppression: east (2 answers) and north (6, hidden so that the total minus
    the shown cells does not give east away) swap values between twins; the total, south and
    every route's answer stay the same."""
    bodies = []
    for slug, east, north in (
        ("seg-a", [1, 1], [5, 5, 3, 3, 3, 3]),
        ("seg-b", [5, 5], [1, 1, 3, 3, 3, 3]),
    ):
        org = await make_org(client, slug)
        await make_survey(client, org, schedule=MONTHLY)
        lines = []
        for region, values in (("east", east), ("north", north), ("south", [2, 4, 4, 5, 5, 1, 2])):
            for i, value in enumerate(values):
                ref = f"{region}{i}"
                made = await client.post(
                    "/api/v1/respondents",
                    json={"external_ref": ref, "attributes": {"region": region}},
                    headers=org.auth("campaigner"),
                )
                assert made.status_code == 201
                lines.append(line(1, {"trust": value}, respondent=ref))
        await import_lines(client, org, lines)
        auth = org.auth("analyst")
        query = "questions=trust&to=2025-01-31&segment=region"
        body = (await client.get(f"{TRENDS}?{query}", headers=auth)).json()
        chart = (await client.get(f"{TRENDS}/trust/chart.png?{query}", headers=auth)).content
        bodies.append((body, chart))
    (a, chart_a), (b, chart_b) = bodies
    segments = a["questions"][0]["segments"]
    assert segments["east"]["waves"][0] == {
        "number": 1,
        "label": "2025-01",
        "n": 2,
        "suppressed": "small",
    }
    assert segments["north"]["waves"][0] == {
        "number": 1,
        "label": "2025-01",
        "n": 6,
        "suppressed": "complementary",
    }
    assert segments["south"]["waves"][0]["suppressed"] is False
    assert a == b and chart_a == chart_b


async def test_boolean_and_number_segments_have_the_same_names_on_every_database(
    client: Client,
) -> None:
    """Segments are named by PostgreSQL's text of the attribute: 'true'/'false' for booleans
    (SQLite's json_extract gives 1/0), numbers as their JSON says them."""
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    people = [(True, 2.5), (True, 2.5), (False, 3), (False, 0.1 + 0.2), (True, 1.0), (False, 2**70)]
    lines = []
    for i, (member, score) in enumerate(people):
        made = await client.post(
            "/api/v1/respondents",
            json={"external_ref": f"p{i}", "attributes": {"member": member, "score": score}},
            headers=org.auth("campaigner"),
        )
        assert made.status_code == 201, made.text
        lines.append(line(1, {"trust": 4}, respondent=f"p{i}"))
    lines.append(line(1, {"trust": 2}))  # anonymous: the null segment
    await import_lines(client, org, lines)
    auth = org.auth("analyst")
    expected = {
        "member": {"true": 3, "false": 3, "null": 1},
        "score": {
            "2.5": 2,
            "3": 1,
            "0.30000000000000004": 1,
            "1.0": 1,
            "1180591620717411303424": 1,
            "null": 1,
        },
    }
    for segment, counts in expected.items():
        got = await client.get(
            f"{TRENDS}?questions=trust&to=2025-01-31&segment={segment}", headers=auth
        )
        assert got.status_code == 200, got.text
        segments = got.json()["questions"][0]["segments"]
        assert {name: s["waves"][0]["n"] for name, s in segments.items()} == counts
        assert all(s["value"] == (None if name == "null" else name) for name, s in segments.items())


async def test_blank_and_the_text_null_are_the_segment_null(client: Client) -> None:
    """One key, one group: a CRM's "null" and "" mean unknown, as a missing attribute or JSON
    null does, and the segment `null` holds them all (and the answers of nobody in particular);
    the texts of that segment are asked for by its key."""
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    regions: list[Any] = ["north", "north", "null", "", None, "NULL", " "]
    lines = []
    for i, region in enumerate(regions):
        made = await client.post(
            "/api/v1/respondents",
            json={"external_ref": f"p{i}", "attributes": {"region": region}},
            headers=org.auth("campaigner"),
        )
        assert made.status_code == 201, made.text
        lines.append(line(1, {"trust": 4, "comment": f"from {i}"}, respondent=f"p{i}"))
    made = await client.post(
        "/api/v1/respondents", json={"external_ref": "nobody"}, headers=org.auth("campaigner")
    )
    assert made.status_code == 201, made.text
    lines.append(line(1, {"trust": 2, "comment": "no region"}, respondent="nobody"))
    lines.append(line(1, {"trust": 1, "comment": "anonymous"}))
    await import_lines(client, org, lines)
    auth = org.auth("analyst")
    got = await client.get(f"{TRENDS}?questions=trust&to=2025-01-31&segment=region", headers=auth)
    assert got.status_code == 200, got.text
    segments = got.json()["questions"][0]["segments"]
    # Only "" and "null" exactly: "NULL" and " " are values someone wrote.
    assert {name: s["waves"][0]["n"] for name, s in segments.items()} == {
        "north": 2,
        "null": 5,
        "NULL": 1,
        " ": 1,
    }
    assert segments["null"]["value"] is None
    texts = "/api/v1/surveys/pulse/questions/comment/texts?wave=1&limit=50&segment=region"
    for value in ("null", ""):
        got = await client.get(f"{texts}&segment_value={value}", headers=auth)
        assert got.status_code == 200, got.text
        assert sorted(a["text"] for a in got.json()["items"]) == [
            "anonymous",
            "from 2",
            "from 3",
            "from 4",
            "no region",
        ]
    got = await client.get(f"{texts}&segment_value=north", headers=auth)
    assert (got.json()["n"], got.json()["suppressed"]) == (2, "small")


async def test_the_schema_types_the_trends_and_panel_answers(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    components = schema["components"]["schemas"]

    def answer(path: str) -> dict[str, Any]:
        response = schema["paths"][f"/api/v1/surveys/{{slug}}{path}"]["get"]["responses"]["200"]
        ref = response["content"]["application/json"]["schema"]["$ref"]
        found: dict[str, Any] = components[ref.rsplit("/", 1)[-1]]
        return found

    def fields(name: str) -> set[str]:
        return set(components[name]["properties"])

    trends = answer("/trends")
    assert {
        "survey",
        "min_n",
        "from",
        "to",
        "segment",
        "small_groups",
        "channels",
        "locale",
        "questions",
    } == set(trends["properties"])
    assert fields("QuestionTrendsRead") >= {
        "key", "metric", "waves", "trend", "trend_series", "series", "breaks", "decisions",
        "segments", "other",
    }  # fmt: skip
    assert fields("OtherWaveRead") >= {"number", "n", "suppressed", "members"}
    assert fields("WaveFiguresRead") >= {
        "number",
        "n",
        "suppressed",
        "estimate",
        "change",
        "series",
    }
    assert fields("RunRead") >= {"series", "first_wave", "last_wave", "trend", "trend_reason"}
    assert fields("TrendRead") >= {"s", "tau", "p", "slope", "direction"}
    assert fields("WaveChangeRead") >= {"test", "from_wave", "p", "q", "significant"}
    panel = answer("/panel/{question}")
    assert set(panel["properties"]) >= {
        "question", "from_wave", "to_wave", "min_n", "test", "n_pairs", "suppressed", "options",
    }  # fmt: skip
    # nothing of either answer is a bare object without fields
    for name in ("TrendsRead", "QuestionTrendsRead", "WaveFiguresRead", "RunRead", "PanelRead"):
        assert components[name].get("properties"), name
