"""The analysis service: figures assembled from the database equal the pure functions fed with
hand-built counts; suppression, series breaks, segments and decisions as docs/statistics.md says."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.analysis import service
from feedback.analysis.changes import (
    chi_square,
    mann_whitney,
    nps_z,
    two_proportion_z,
    welch_t,
    with_q_values,
)
from feedback.analysis.chart_adapter import chart_data
from feedback.analysis.charts import decision_position
from feedback.analysis.estimates import (
    choice_estimate,
    nps_estimate,
    number_estimate,
    scale_estimate,
)
from feedback.analysis.figures import SurveyTrends
from feedback.analysis.results import TrendTest
from feedback.analysis.service import TrendsQuery
from feedback.analysis.sufficient import Moments, OptionCounts, ScaleCounts
from feedback.analysis.trend import mann_kendall
from feedback.config import Settings
from feedback.errors import Invalid
from tests.builders.analysis import counted, import_lines, line, session_on, survey_row
from tests.builders.orgs import Org, make_org
from tests.builders.surveys import MONTHLY, make_survey, publish_version, pulse_definition
from tests.builders.wire import wire

Client = AsyncTestClient[Litestar]
HALF_YEAR = date(2025, 6, 30)  # waves 1..6 of MONTHLY
# Every wave these tests answer has closed by then.
AFTER_THE_WAVES = datetime(2026, 1, 1, tzinfo=UTC)
LIKERT = {
    1: [2, 3, 5, 4, 1],
    2: [1, 2, 6, 5, 3],
    3: [0, 1, 1, 1, 0],  # n = 3: suppressed
    4: [0, 2, 4, 7, 5],
    5: [1, 1, 3, 8, 6],
    6: [0, 1, 2, 8, 9],
}


async def trends_of(settings: Settings, query: TrendsQuery) -> SurveyTrends:
    async with session_on(settings) as session:
        survey = await survey_row(session)
        return await service.survey_trends(session, survey, query, now=AFTER_THE_WAVES)


def question(result: SurveyTrends, key: str) -> dict[str, Any]:
    return next(wire(q) for q in result.questions if q.meta.key == key)


def likert(counts: list[int]) -> ScaleCounts:
    return ScaleCounts(np.arange(1, 6), np.array(counts))


async def monthly(client: Client, **settings: Any) -> Org:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY, settings=settings or None)
    return org


def figures(entry: dict[str, Any]) -> dict[str, Any]:
    """A wave entry without its place in time (number, label, dates, version, change)."""
    skip = {"number", "label", "opens_at", "closes_at", "version", "change", "option_changes"}
    return {k: v for k, v in entry.items() if k not in skip}


async def test_likert_figures_equal_the_pure_functions_on_the_same_counts(
    client: Client, settings: Settings
) -> None:
    org = await monthly(client)
    await import_lines(
        client,
        org,
        [
            item
            for wave, counts in LIKERT.items()
            for item in counted(wave, "trust", {p + 1: c for p, c in enumerate(counts)})
        ],
    )
    got = question(await trends_of(settings, TrendsQuery(["trust"], end=HALF_YEAR)), "trust")
    assert got["metric"] == "mean" and got["type"] == "likert"
    assert [w["number"] for w in got["waves"]] == [1, 2, 3, 4, 5, 6]
    estimates = {w: scale_estimate(likert(c), min_n=5) for w, c in LIKERT.items()}
    for entry in got["waves"]:
        assert figures(entry) == wire(estimates[entry["number"]])
    # Wave 3 is suppressed: only number, label, n; wave 4 is compared with wave 2.
    assert got["waves"][2] == {"number": 3, "label": "2025-03", "n": 3, "suppressed": True}
    pairs = [(1, 2), (2, 4), (4, 5), (5, 6)]
    tests = with_q_values(
        [mann_whitney(likert(LIKERT[a]), likert(LIKERT[b]), from_wave=a) for a, b in pairs]
    )
    changes = {b: wire(t) for (_, b), t in zip(pairs, tests, strict=True)}
    assert got["waves"][0]["change"] is None
    for entry in got["waves"]:
        if entry["number"] in changes:
            assert entry["change"] == changes[entry["number"]]
    shown = [1, 2, 4, 5, 6]
    trend = mann_kendall(shown, [estimates[w].estimate for w in shown])  # type: ignore[misc]
    assert isinstance(trend, TrendTest)
    assert got["trend"] == wire(trend) and got["trend_series"] == 0
    assert got["series"] == [
        {
            "series": 0,
            "version": 1,
            "metric": "mean",
            "first_wave": 1,
            "last_wave": 6,
            "trend": wire(trend),
        }
    ]
    assert got["breaks"] == [] and got["decisions"] == []


async def test_nps_number_and_choice_figures_equal_the_pure_functions(
    client: Client, settings: Settings
) -> None:
    org = await monthly(client)
    nps = {1: {9: 4, 10: 2, 7: 3, 3: 2}, 2: {10: 6, 8: 2, 5: 1}}
    hours = {1: [1.5, 2.0, 0.5, 4.0, 2.5, 3.0], 2: [5.0, 6.5, 4.0, 5.5, 7.0]}
    priority = {1: {"climate": 6, "housing": 3}, 2: {"climate": 2, "housing": 5, "health": 3}}
    actions = {
        1: [["petition"], ["petition", "march"], [], ["donate"], ["petition"]],
        2: [["march"], ["march", "donate"], ["march"], [], ["petition"], ["march"]],
    }
    lines = [item for w, c in nps.items() for item in counted(w, "nps", c, trust=3)]
    lines += [line(w, {"trust": 3, "hours": h}) for w, hs in hours.items() for h in hs]
    lines += [item for w, c in priority.items() for item in counted(w, "priority", c, trust=3)]
    lines += [line(w, {"trust": 3, "actions": a}) for w, al in actions.items() for a in al]
    await import_lines(client, org, lines)
    result = await trends_of(
        settings, TrendsQuery(["nps", "hours", "priority", "actions"], end=date(2025, 2, 28))
    )

    def scale11(counts: dict[int, int]) -> ScaleCounts:
        return ScaleCounts(np.arange(11), np.array([counts.get(p, 0) for p in range(11)]))

    got = question(result, "nps")
    assert [figures(w) for w in got["waves"]] == [
        wire(nps_estimate(scale11(nps[w]), min_n=5)) for w in (1, 2)
    ]
    assert got["waves"][1]["change"] == wire(
        with_q_values([nps_z(scale11(nps[1]), scale11(nps[2]), from_wave=1)])[0]
    )

    def moments(values: list[float]) -> Moments:
        raw = np.array(values)
        return Moments(raw.size, float(raw.sum()), float((raw * raw).sum()))

    got = question(result, "hours")
    assert [figures(w) for w in got["waves"]] == [
        wire(number_estimate(moments(hours[w]), min_n=5)) for w in (1, 2)
    ]
    welch = with_q_values([welch_t(moments(hours[1]), moments(hours[2]), from_wave=1)])[0]
    assert got["waves"][1]["change"] == wire(welch)

    options = ("climate", "housing", "health")

    def single(counts: dict[str, int]) -> OptionCounts:
        return OptionCounts.from_rows(counts.items(), options=options)

    got = question(result, "priority")
    assert got["metric"] == "share" and got["options"] == {
        "climate": "Climate",
        "housing": "Housing",
        "health": "Health",
    }
    assert [figures(w) for w in got["waves"]] == [
        wire(choice_estimate(single(priority[w]), min_n=5)) for w in (1, 2)
    ]
    assert "estimate" not in got["waves"][0] and "options" in got["waves"][0]
    chi = with_q_values([chi_square(single(priority[1]), single(priority[2]), from_wave=1)])[0]
    assert got["waves"][1]["change"] == wire(chi)

    def multi(chosen: list[list[str]]) -> OptionCounts:
        keys = ("petition", "march", "donate")
        ticks = [sum(o in c for c in chosen) for o in keys]
        return OptionCounts(keys, np.array(ticks), len(chosen))

    got = question(result, "actions")
    assert [figures(w) for w in got["waves"]] == [
        wire(choice_estimate(multi(actions[w]), min_n=5)) for w in (1, 2)
    ]
    per_option = two_proportion_z(multi(actions[1]), multi(actions[2]), from_wave=1)
    adjusted = with_q_values(list(per_option.values()))  # one family: every option's test
    assert got["waves"][1]["option_changes"] == {
        o: wire(t) for o, t in zip(per_option, adjusted, strict=True)
    }
    assert "change" not in got["waves"][1]
    assert got["trend"] is None and set(got["option_trends"]) == {"petition", "march", "donate"}
    assert all(t is None for t in got["option_trends"].values())
    assert got["trend_reason"].startswith("a trend needs at least 4")


async def test_share_trends_are_per_option(client: Client, settings: Settings) -> None:
    org = await monthly(client)
    share = {1: 2, 2: 4, 3: 6, 4: 8, 5: 10}  # climate rises against housing, 12 a wave
    lines = [
        item
        for w, k in share.items()
        for item in counted(w, "priority", {"climate": k, "housing": 12 - k}, trust=3)
    ]
    await import_lines(client, org, lines)
    got = question(
        await trends_of(settings, TrendsQuery(["priority"], end=date(2025, 5, 31))), "priority"
    )
    climate = mann_kendall([1, 2, 3, 4, 5], [k / 12 for k in share.values()])
    housing = mann_kendall([1, 2, 3, 4, 5], [1 - k / 12 for k in share.values()])
    assert isinstance(climate, TrendTest) and isinstance(housing, TrendTest)
    assert got["option_trends"]["climate"] == wire(climate)
    assert got["option_trends"]["housing"] == wire(housing)
    assert climate.direction == "increasing" and housing.direction == "decreasing"


async def test_text_questions_report_only_n(client: Client, settings: Settings) -> None:
    org = await monthly(client)
    await import_lines(
        client, org, [line(1, {"trust": 3, "comment": f"note {i}"}) for i in range(6)]
    )
    got = question(
        await trends_of(settings, TrendsQuery(["comment"], end=date(2025, 2, 28))), "comment"
    )
    assert got["metric"] is None and got["trend"] is None
    assert got["trend_reason"] == "text answers have no metric to trend"
    assert set(got["waves"][0]) == {
        "number",
        "label",
        "opens_at",
        "closes_at",
        "version",
        "n",
        "suppressed",
    }
    assert got["waves"][0]["n"] == 6 and got["waves"][1] == {
        "number": 2,
        "label": "2025-02",
        "n": 0,
        "suppressed": True,
    }


async def test_a_request_raises_min_n_but_never_lowers_it(
    client: Client, settings: Settings
) -> None:
    org = await monthly(client, min_n=8)
    await import_lines(client, org, counted(1, "trust", {4: 9}) + counted(2, "trust", {2: 7}))
    lowered = await trends_of(settings, TrendsQuery(["trust"], end=date(2025, 2, 28), min_n=2))
    assert lowered.min_n == 8
    assert [w["suppressed"] for w in question(lowered, "trust")["waves"]] == [False, True]
    raised = await trends_of(settings, TrendsQuery(["trust"], end=date(2025, 2, 28), min_n=10))
    assert raised.min_n == 10
    assert [set(w) for w in question(raised, "trust")["waves"]] == [
        {"number", "label", "n", "suppressed"}
    ] * 2


async def test_a_break_splits_the_series_and_a_straddling_wave(
    client: Client, settings: Settings
) -> None:
    """trust's scale grows to 1..7 in version 2, published during wave 3: wave 3 holds answers
    under both versions, reported apart; no test crosses the break; each series has its trend."""
    org = await monthly(client)
    v2 = pulse_definition()
    v2["questions"][0]["scale"] = {"min": 1, "max": 7}
    await publish_version(client, org, "pulse", v2)
    old = {1: {2: 3, 3: 3}, 2: {3: 3, 4: 4}, 3: {4: 6}}
    new = {3: {6: 5, 7: 2, 5: 1}, 4: {7: 5, 6: 4}, 5: {5: 5, 6: 2}, 6: {6: 3, 7: 6}}
    lines = [
        line(w, {"trust": p}, version=1)
        for w, c in old.items()
        for p, k in c.items()
        for _ in range(k)
    ]
    lines += [
        line(w, {"trust": p}, version=2)
        for w, c in new.items()
        for p, k in c.items()
        for _ in range(k)
    ]
    await import_lines(client, org, lines)
    result = await trends_of(settings, TrendsQuery(["trust"], end=HALF_YEAR))
    got = question(result, "trust")
    placed = [(w["number"], w["series"], w["version"]) for w in got["waves"]]
    assert placed == [(1, 0, 1), (2, 0, 1), (3, 0, 1), (3, 1, 2), (4, 1, 2), (5, 1, 2), (6, 1, 2)]

    def scale(counts: dict[int, int], high: int) -> ScaleCounts:
        return ScaleCounts(
            np.arange(1, high + 1), np.array([counts.get(p, 0) for p in range(1, high + 1)])
        )

    old_tests = with_q_values(
        [mann_whitney(scale(old[a], 5), scale(old[a + 1], 5), from_wave=a) for a in (1, 2)]
        + [mann_whitney(scale(new[a], 7), scale(new[a + 1], 7), from_wave=a) for a in (3, 4, 5)]
    )
    changes = [w.get("change") for w in got["waves"]]
    assert changes[0] is None and changes[3] is None  # each series' first wave
    assert [c for c in changes if c is not None] == [wire(t) for t in old_tests]
    assert [s["series"] for s in got["series"]] == [0, 1]
    assert [(s["version"], s["first_wave"], s["last_wave"]) for s in got["series"]] == [
        (1, 1, 3),
        (2, 3, 6),
    ]
    trend = mann_kendall(
        [3, 4, 5, 6],
        [scale(new[w], 7).mean for w in (3, 4, 5, 6)],  # type: ignore[misc]
    )
    assert got["trend"] == wire(trend) and got["trend_series"] == 1
    assert got["breaks"] == [{"version": 2, "wave": 3, "series": 1}]
    # The chart draws wave 3 once, from the part with most answers (8 under version 2).
    trust = result.questions[0]
    chart = chart_data(result, trust, trust.total, "Trust")
    assert [p.wave for p in chart.points] == [1, 2, 3, 4, 5, 6]
    assert chart.points[2].n == 8 and chart.points[2].estimate == scale(new[3], 7).mean
    assert [(b.wave, b.version) for b in chart.breaks] == [(3, 2)]


async def test_decisions_are_placed_at_their_wave_and_drawn(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    weekly = {**MONTHLY, "wave_duration": "P7D"}  # a week open, then closed until next month
    await make_survey(client, org, schedule=weekly)
    await import_lines(
        client, org, [line(w, {"trust": 3}, day=3) for w in (1, 2, 3) for _ in range(5)]
    )
    made = {}
    for title, at, keys in (
        ("Open meetings", "2025-02-03T10:00:00Z", ["trust"]),  # during wave 2
        ("New newsletter", "2025-02-20T10:00:00Z", []),  # between waves 2 and 3: wave 3
        ("Other question", "2025-01-05T10:00:00Z", ["nps"]),
    ):
        got = await client.post(
            "/api/v1/surveys/pulse/decisions",
            json={"title": title, "decided_at": at, "question_keys": keys},
            headers=org.auth("campaigner"),
        )
        assert got.status_code == 201, got.text
        made[title] = got.json()["id"]
    result = await trends_of(settings, TrendsQuery(["trust"], end=date(2025, 3, 31)))
    got = question(result, "trust")
    assert [(d["title"], d["wave"]) for d in got["decisions"]] == [
        ("Open meetings", 2),
        ("New newsletter", 3),
    ]
    assert str(got["decisions"][0]["id"]) == made["Open meetings"]
    trust = result.questions[0]
    chart = chart_data(result, trust, trust.total, "Trust")
    openings = [(w.number, w.opens_at) for w in result.waves]
    assert [(d.title, d.position) for d in chart.decisions] == [
        ("Open meetings", decision_position(datetime(2025, 2, 3, 10, tzinfo=UTC), openings)),
        ("New newsletter", decision_position(datetime(2025, 2, 20, 10, tzinfo=UTC), openings)),
    ]


async def test_segments_hide_cells_that_subtraction_would_reveal(
    client: Client, settings: Settings
) -> None:
    org = await monthly(client)
    people = {"north": 6, "south": 7, "east": 2}
    lines = []
    for region, size in people.items():
        for i in range(size):
            ref = f"{region}-{i}"
            made = await client.post(
                "/api/v1/respondents",
                json={"external_ref": ref, "attributes": {"region": region}},
                headers=org.auth("campaigner"),
            )
            assert made.status_code == 201
            lines += [
                line(1, {"trust": 1 + i % 5}, respondent=ref),
                line(2, {"trust": 1 + i % 5}, respondent=ref),
            ]
    lines += [line(2, {"trust": 5}, respondent="unknown-region") for _ in range(5)]
    await import_lines(client, org, lines)
    result = await trends_of(
        settings, TrendsQuery(["trust"], end=date(2025, 2, 28), segment="region")
    )
    got = question(result, "trust")
    segments = got["segments"]
    # Largest first, respondents without the attribute last.
    assert list(segments) == ["south", "north", "east", "null"]
    assert segments["null"]["value"] is None and segments["east"]["value"] == "east"
    assert got["waves"][0]["suppressed"] is False and got["waves"][0]["n"] == 15

    def wave(name: str, number: int) -> dict[str, Any]:
        return next(w for w in segments[name]["waves"] if w["number"] == number)

    # Wave 1: east (2) is below min_n; 15 − 6 − 7 would give it away, so the smallest other
    # cell (north, 6) is hidden too.
    assert wave("east", 1) == {"number": 1, "label": "2025-01", "n": 2, "suppressed": True}
    assert wave("north", 1) == {"number": 1, "label": "2025-01", "n": 6, "suppressed": True}
    assert wave("south", 1)["suppressed"] is False and "estimate" in wave("south", 1)
    # Wave 2: east (2) is hidden again, and the null segment (5) is the smallest shown.
    assert wave("null", 2) == {"number": 2, "label": "2025-02", "n": 5, "suppressed": True}
    for name in segments:
        for entry in segments[name]["waves"]:
            if entry["suppressed"]:
                assert set(entry) == {"number", "label", "n", "suppressed"}
    # The segment chart carries no figure of a hidden cell either.
    trust = result.questions[0]
    assert trust.segments is not None
    for value, figures_ in trust.segments.items():
        chart = chart_data(result, trust, figures_, str(value))
        for point in chart.points:
            if point.suppressed:
                assert (point.estimate, point.ci_low, point.ci_high, point.shares) == (
                    None,
                    None,
                    None,
                    None,
                )


async def test_unknown_questions_and_bad_segments_are_named(
    client: Client, settings: Settings
) -> None:
    await monthly(client)
    with pytest.raises(Invalid) as raised:
        await trends_of(settings, TrendsQuery(["trust", "nope", "gone"]))
    assert [e.pointer for e in raised.value.errors] == ["/questions"] * 2
    assert "nope" in raised.value.errors[0].message
    with pytest.raises(Invalid) as raised:
        await trends_of(settings, TrendsQuery(segment="Region; DROP"))
    assert raised.value.errors[0].pointer == "/segment"


async def test_a_survey_without_answers_has_waves_but_no_figures(
    client: Client, settings: Settings
) -> None:
    await monthly(client)
    result = await trends_of(settings, TrendsQuery(end=date(2025, 3, 31)))
    assert [q.meta.key for q in result.questions] == [
        "trust",
        "nps",
        "priority",
        "actions",
        "hours",
        "comment",
    ]
    for entry in (wire(q) for q in result.questions):
        assert [w["n"] for w in entry["waves"]] == [0, 0, 0]
        assert entry["trend"] is None and entry["series"] == []
