"""Decision impact over HTTP: answers imported through the real import route so that the wave
estimates have a known level shift; the route's figures equal statsmodels' on those estimates,
per segment and per option too; its refusals and errors; charts with `?impact=`; the report."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from html import unescape
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from litestar import Litestar
from litestar.testing import AsyncTestClient
from matplotlib.text import Text

from feedback.analysis import charts
from feedback.analysis.chart_adapter import chart_data
from feedback.analysis.decision_impact import impact_of
from feedback.analysis.service import TrendsQuery, survey_decision, survey_trends
from feedback.api.app import create_app
from feedback.clock import Clock, fixed_clock
from feedback.config import Settings
from tests.builders.analysis import import_lines, line, session_on, survey_row
from tests.builders.orgs import Org, make_org
from tests.builders.surveys import MONTHLY, make_survey, publish_version, pulse_definition

Client = AsyncTestClient[Litestar]

# Waves 1–8 (January to August 2025) have closed; wave 9 (September) is open and left out.
NOW = datetime(2025, 9, 5, 12, tzinfo=UTC)
# Wave 5 opens at 2025-04-30T23:00:00Z (the schedule starts at midnight UTC, 01:00 in
# Amsterdam): the decision's instant exactly, so wave 5 is the first after it ("at or after").
DECIDED = "2025-04-30T23:00:00Z"
TITLE = "We answer every email within a week"
# Sums of six answers (1–5) per closed wave: north's level rises by 1.2 at wave 5, south's
# stays where it was.
NORTH = (12, 13, 12, 13, 20, 21, 20, 21)
SOUTH = (18, 19, 18, 18, 19, 18, 18, 19)
# Of twelve answers per wave: climate's share rises at wave 5.
CLIMATE = (3, 4, 3, 4, 7, 8, 7, 8)
HEALTH = (3, 2, 3, 3, 2, 3, 3, 2)


@pytest.fixture
def clock() -> Clock:
    return fixed_clock(NOW)


@asynccontextmanager
async def client_at(settings: Settings, instant: datetime) -> AsyncIterator[Client]:
    """Another client on the same database whose requests happen at `instant`."""
    app = create_app(settings, clock=fixed_clock(instant))
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield client


def answers(total: int, k: int = 6) -> list[int]:
    """k answers summing to `total`, as even as integers allow."""
    base, extra = divmod(total, k)
    return [base + 1] * extra + [base] * (k - extra)


def priorities(wave: int) -> list[str]:
    climate, health = CLIMATE[wave - 1], HEALTH[wave - 1]
    return ["climate"] * climate + ["health"] * health + ["housing"] * (12 - climate - health)


async def world(client: Client, org: Org | None = None) -> Org:
    """Pulse with twelve respondents (six north, six south) answering waves 1–8, plus wave 9
    (still open at NOW) answered all-5 and all-climate: it must count nowhere."""
    org = org or await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    refs = [f"{region}{i}" for region in ("north", "south") for i in range(6)]
    for ref in refs:
        made = await client.post(
            "/api/v1/respondents",
            json={"external_ref": ref, "attributes": {"region": ref[:5]}},
            headers=org.auth("campaigner"),
        )
        assert made.status_code == 201, made.text
    lines = []
    for wave in range(1, 9):
        trust = answers(NORTH[wave - 1]) + answers(SOUTH[wave - 1])
        for ref, value, priority in zip(refs, trust, priorities(wave), strict=True):
            lines.append(line(wave, {"trust": value, "priority": priority}, respondent=ref))
    lines += [line(9, {"trust": 5, "priority": "climate"}, respondent=r, day=2) for r in refs]
    await import_lines(client, org, lines)
    return org


async def decide(
    client: Client, org: Org, keys: Sequence[str] = ("trust",), when: str = DECIDED, **more: Any
) -> str:
    got = await client.post(
        "/api/v1/surveys/pulse/decisions",
        json={"title": TITLE, "decided_at": when, "question_keys": list(keys), **more},
        headers=org.auth("campaigner"),
    )
    assert got.status_code == 201, got.text
    decision_id: str = got.json()["id"]
    return decision_id


def impact_url(decision: str, query: str = "") -> str:
    return f"/api/v1/surveys/pulse/decisions/{decision}/impact" + (f"?{query}" if query else "")


def statsmodels_impact(y: Sequence[float], first_post: int = 5) -> Any:
    t = np.arange(len(y), dtype=float)
    post = (t >= first_post - 1).astype(float)
    frame = pd.DataFrame(
        {"y": np.asarray(y, float), "t": t, "post": post, "t_since": (t - (first_post - 1)) * post}
    )
    return smf.ols("y ~ t + post + t_since", data=frame).fit()


def assert_figures(body: dict[str, Any], y: Sequence[float], first_post: int = 5) -> None:
    """Every figure of one impact equals statsmodels' fit of the known wave estimates."""
    fit = statsmodels_impact(y, first_post)
    ci = fit.conf_int()
    assert body["waves"] == list(range(1, len(y) + 1)) and body["df"] == fit.df_resid
    assert body["first_post_wave"] == first_post
    assert body["intercept"] == pytest.approx(fit.params["Intercept"], rel=1e-9, abs=1e-9)
    assert body["pre_slope"] == pytest.approx(fit.params["t"], rel=1e-9, abs=1e-9)
    for name, term in (("level_change", "post"), ("slope_change", "t_since")):
        got = body[name]
        expected = {
            "estimate": fit.params[term],
            "se": fit.bse[term],
            "t": fit.tvalues[term],
            "p": fit.pvalues[term],
            "ci_low": ci.loc[term, 0],
            "ci_high": ci.loc[term, 1],
        }
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-9), name


# --- the route ---------------------------------------------------------------------------------


async def test_the_impact_recovers_the_planted_level_shift(client: Client) -> None:
    org = await world(client)
    decision = await decide(client, org)
    got = await client.get(impact_url(decision, "question=trust"), headers=org.auth("analyst"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["decision"] == decision and body["question"] == "trust"
    assert body["decision_title"] == TITLE and body["decided_at"] == DECIDED
    assert (body["metric"], body["min_n"], body["segment"], body["segments"]) == (
        "mean",
        5,
        None,
        None,
    )
    assert (body["pre_waves"], body["post_waves"]) == (4, 4)  # wave 9 is still open
    assert body["verdict"] == "level increased" and body["reason"] is None
    assert body["summary"].startswith("Over 4 waves before the decision and 4 after it")
    assert body["level_change"]["ci_low"] < 0.6 < body["level_change"]["ci_high"]
    assert_figures(body, [(n + s) / 12 for n, s in zip(NORTH, SOUTH, strict=True)])
    # The decision names one question: it may be left out.
    implied = await client.get(impact_url(decision), headers=org.auth("analyst"))
    assert implied.status_code == 200 and implied.json() == body


async def test_a_wave_opening_a_moment_before_the_decision_counts_before_it(
    client: Client,
) -> None:
    org = await world(client)
    decision = await decide(client, org, when="2025-04-30T23:00:01Z")
    body = (await client.get(impact_url(decision), headers=org.auth("analyst"))).json()
    assert (body["pre_waves"], body["post_waves"], body["first_post_wave"]) == (5, 3, 6)
    assert_figures(body, [(n + s) / 12 for n, s in zip(NORTH, SOUTH, strict=True)], 6)


async def test_each_segment_value_has_its_own_impact(client: Client) -> None:
    org = await world(client)
    decision = await decide(client, org)
    got = await client.get(impact_url(decision, "segment=region"), headers=org.auth("analyst"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["segment"] == "region" and set(body["segments"]) == {"north", "south"}
    north, south = body["segments"]["north"], body["segments"]["south"]
    assert north["value"] == "north" and north["verdict"] == "level increased"
    assert south["verdict"] == "no significant change"
    assert_figures(north, [n / 6 for n in NORTH])
    assert_figures(south, [s / 6 for s in SOUTH])
    assert body["verdict"] == "level increased"  # the total is still there
    shares = await client.get(
        impact_url(decision, "question=priority&segment=region"), headers=org.auth("analyst")
    )
    assert shares.status_code == 200, shares.text
    north = shares.json()["segments"]["north"]
    assert north["verdict"] is None and set(north["options"]) == {"climate", "housing", "health"}
    north_climate = [min(c, 6) / 6 for c in CLIMATE]  # north answers first: climate first
    assert_figures(north["options"]["climate"], north_climate)


async def test_a_choice_question_has_an_impact_per_option(client: Client) -> None:
    org = await world(client)
    decision = await decide(client, org, keys=("trust", "priority"))
    got = await client.get(impact_url(decision, "question=priority"), headers=org.auth("analyst"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["metric"] == "share" and list(body["options"]) == ["climate", "housing", "health"]
    assert body["verdict"] is None and body["level_change"] is None
    assert (body["pre_waves"], body["post_waves"]) == (4, 4)
    assert body["reason"] == "a share metric has an impact per option (options)"
    options = body["options"]
    assert options["climate"]["verdict"] == "level increased"
    assert options["health"]["verdict"] == "no significant change"
    assert body["summary"].startswith("Climate: level increased")
    assert_figures(options["climate"], [c / 12 for c in CLIMATE])
    assert_figures(options["health"], [h / 12 for h in HEALTH])
    housing = [(12 - c - h) / 12 for c, h in zip(CLIMATE, HEALTH, strict=True)]
    assert_figures(options["housing"], housing)


async def test_a_series_break_between_the_sides_gives_no_verdict_and_names_it(
    client: Client,
) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    v2 = pulse_definition()
    v2["questions"][0]["scale"] = {"min": 1, "max": 7}  # a scale change breaks the series
    await publish_version(client, org, "pulse", v2, confirm_breaks=True)
    lines = [
        line(w, {"trust": 1 + (i + w) % 5}, version=1 if w < 5 else 2)
        for w in range(1, 9)
        for i in range(6)
    ]
    await import_lines(client, org, lines)
    decision = await decide(client, org)
    body = (await client.get(impact_url(decision), headers=org.auth("analyst"))).json()
    assert body["verdict"] == "insufficient data" and body["level_change"] is None
    assert body["reason"].startswith(
        "the series breaks at version 2 between wave 4, the last before the decision, and wave 5"
    )
    assert body["summary"] == f"No verdict: {body['reason']}."


async def test_too_few_closed_waves_after_the_decision_give_no_verdict(
    client: Client, settings: Settings
) -> None:
    org = await world(client)
    decision = await decide(client, org)
    # On 5 June only waves 1–5 have closed: one wave after the decision.
    async with client_at(settings, datetime(2025, 6, 5, tzinfo=UTC)) as early:
        body = (await early.get(impact_url(decision), headers=org.auth("analyst"))).json()
    assert (body["pre_waves"], body["post_waves"], body["verdict"]) == (4, 1, "insufficient data")
    assert body["reason"] == (
        "an impact needs at least 3 waves before the decision and 3 after it in one series; "
        "there are 4 before and 1 after"
    )
    assert body["level_change"] is None and body["slope_change"] is None


async def test_bad_requests_are_problems_that_name_the_field(client: Client) -> None:
    org = await world(client)
    auth = org.auth("analyst")
    one = await decide(client, org)
    none = await decide(client, org, keys=())
    two = await decide(client, org, keys=("trust", "priority"))

    async def problem(url: str, status: int = 422) -> list[tuple[str, str | None]]:
        got = await client.get(url, headers=auth)
        assert got.status_code == status, got.text
        assert got.headers["content-type"].startswith("application/problem+json")
        return [(e["pointer"], e.get("source")) for e in got.json().get("errors", [])]

    assert await problem(impact_url(none)) == [("/question", "query")]
    assert await problem(impact_url(two)) == [("/question", "query")]
    assert await problem(impact_url(one, "question=nope")) == [("/question", "query")]
    assert await problem(impact_url(one, "question=comment")) == [("/question", "query")]
    assert await problem(impact_url(one, "segment=Bad-Name")) == [("/segment", "query")]
    assert await problem(impact_url(str(uuid.uuid4())), 404) == []
    assert (await problem(impact_url("not-a-uuid"), 404)) == []
    # A decision of another survey of the same organisation is not this survey's.
    await make_survey(client, org, slug="other")
    other = await client.get(
        f"/api/v1/surveys/other/decisions/{one}/impact", headers=org.auth("analyst")
    )
    assert other.status_code == 404
    assert (await client.get(impact_url(one))).status_code == 401
    # With a decision that names no question, any question may be asked about.
    assert (await client.get(impact_url(none, "question=trust"), headers=auth)).status_code == 200


async def test_the_route_is_in_the_schema_with_its_fields(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    path = schema["paths"]["/api/v1/surveys/{slug}/decisions/{decision_id}/impact"]["get"]
    assert path["operationId"] == "GetDecisionImpact"
    assert {p["name"] for p in path["parameters"]} >= {"question", "segment", "decision_id"}
    components = schema["components"]["schemas"]
    read = components["DecisionImpactRead"]["properties"]
    assert {"decision", "question", "pre_waves", "post_waves", "level_change", "slope_change"} <= (
        set(read)
    )
    assert set(components["ImpactChangeRead"]["properties"]) == {
        "estimate",
        "se",
        "t",
        "p",
        "ci_low",
        "ci_high",
    }


# --- charts ------------------------------------------------------------------------------------


def chart_url(key: str, fmt: str, query: str = "") -> str:
    return f"/api/v1/surveys/pulse/trends/{key}/chart.{fmt}" + (f"?{query}" if query else "")


async def test_charts_draw_the_fitted_lines_when_asked(client: Client) -> None:
    org = await world(client)
    auth = org.auth("analyst")
    decision = await decide(client, org, keys=("trust", "priority"))
    for key in ("trust", "priority"):
        for fmt in ("png", "svg"):
            plain = await client.get(chart_url(key, fmt), headers=auth)
            fitted = await client.get(chart_url(key, fmt, f"impact={decision}"), headers=auth)
            assert plain.status_code == fitted.status_code == 200, fitted.text
            assert fitted.headers["content-type"].startswith(f"image/{fmt}")
            assert fitted.content != plain.content
            if fmt == "svg":
                ET.fromstring(fitted.content)
    segmented = await client.get(
        chart_url("trust", "png", f"impact={decision}&segment=region"), headers=auth
    )
    assert segmented.status_code == 200 and segmented.content[:4] == b"\x89PNG"


async def test_a_chart_draws_the_fit_statsmodels_gives(client: Client, settings: Settings) -> None:
    """The figure itself: two dashed vermillion lines from the fitted values at their first and
    last waves, keyed "Before/after …", and the verdict in the subtitle."""
    org = await world(client)
    decision = await decide(client, org)
    async with session_on(settings) as session:
        survey = await survey_row(session)
        trends = await survey_trends(session, survey, TrendsQuery(["trust"]), now=NOW)
        mark = (await survey_decision(session, survey, uuid.UUID(decision))).mark
    question = trends.questions[0]
    impact = impact_of(trends, question, mark, now=NOW)
    series = chart_data(
        trends, question, question.total, question.label, impact=(mark, impact.total)
    )
    figure = charts.chart(series)
    ax = figure.axes[0]
    slanted = [  # the decision's own mark is a vertical rule in the same colour
        line
        for line in ax.get_lines()
        if line.get_color() == charts.VERMILLION
        and len(line.get_xdata()) == 2
        and line.get_xdata()[0] != line.get_xdata()[1]
    ]
    assert all(line.get_linestyle() == "--" for line in slanted)
    drawn = sorted(
        (tuple(int(x) for x in line.get_xdata()), tuple(line.get_ydata())) for line in slanted
    )
    fitted = statsmodels_impact([(n + s) / 12 for n, s in zip(NORTH, SOUTH, strict=True)])
    values = fitted.fittedvalues
    assert [x for x, _ in drawn] == [(1, 4), (5, 8)]
    assert drawn[0][1] == pytest.approx((values[0], values[3]), rel=1e-9)
    assert drawn[1][1] == pytest.approx((values[4], values[7]), rel=1e-9)
    texts = [t.get_text() for t in figure.findobj(Text)]
    assert any(t.startswith("Before/after “We answer every email") for t in texts)
    assert any(t.startswith(f"Impact of “{TITLE}”: level increased") for t in texts)


async def test_a_chart_without_a_verdict_draws_no_lines_and_says_why(
    client: Client, settings: Settings
) -> None:
    org = await world(client)
    decision = await decide(client, org)
    async with session_on(settings) as session:
        survey = await survey_row(session)
        trends = await survey_trends(session, survey, TrendsQuery(["trust"]), now=NOW)
        mark = (await survey_decision(session, survey, uuid.UUID(decision))).mark
    question = trends.questions[0]
    early = impact_of(trends, question, mark, now=datetime(2025, 6, 5, tzinfo=UTC))
    series = chart_data(
        trends, question, question.total, question.label, impact=(mark, early.total)
    )
    assert series.fits == ()
    assert series.subtitle is not None and "no verdict, an impact needs at least 3" in (
        series.subtitle
    )
    async with client_at(settings, datetime(2025, 6, 5, tzinfo=UTC)) as at_june:
        auth = org.auth("analyst")
        plain = await at_june.get(chart_url("trust", "png"), headers=auth)
        refused = await at_june.get(chart_url("trust", "png", f"impact={decision}"), headers=auth)
    assert refused.status_code == 200 and refused.content != plain.content


async def test_chart_impact_errors(client: Client) -> None:
    org = await world(client)
    auth = org.auth("analyst")
    decision = await decide(client, org)
    unknown = await client.get(chart_url("trust", "png", f"impact={uuid.uuid4()}"), headers=auth)
    assert unknown.status_code == 404
    bad = await client.get(chart_url("trust", "png", "impact=yesterday"), headers=auth)
    assert bad.status_code == 422
    assert [e["pointer"] for e in bad.json()["errors"]] == ["/impact"]
    await make_survey(client, org, slug="other", schedule=MONTHLY)
    foreign = await client.get(
        f"/api/v1/surveys/other/trends/trust/chart.png?impact={decision}", headers=auth
    )
    assert foreign.status_code == 404
    text = await client.get(chart_url("comment", "png", f"impact={decision}"), headers=auth)
    assert text.status_code == 422


# --- the report --------------------------------------------------------------------------------


async def test_the_report_shows_each_decisions_impact(client: Client) -> None:
    org = await world(client)
    await decide(client, org, keys=("trust", "priority", "comment"))
    await decide(client, org, keys=(), when="2025-02-10T00:00:00Z")
    made = await client.post(
        "/api/v1/surveys/pulse/report-links", json={}, headers=org.auth("analyst")
    )
    assert made.status_code == 201, made.text
    page = await client.get("/" + made.json()["url"].split("/", 3)[3])
    assert page.status_code == 200, page.text
    text = unescape(re.sub(r"<[^>]+>", " ", page.text))
    text = " ".join(text.split())
    assert "Decisions and their impact" in text
    assert TITLE in text
    assert "level increased" in text and "no significant change" in text
    assert "Over 4 waves before the decision and 4 after it, the level rose by" in text
    assert "Climate" in text
    assert "text and date answers have no metric" in text
    assert "names no question" in text
