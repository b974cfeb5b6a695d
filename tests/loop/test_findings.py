"""Findings: found once a wave has closed, once each, from the figures of the trends; answers
planted through the import route into a monthly survey, checks run at pinned instants."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.config import Settings
from feedback.db import transaction
from feedback.loop.findings import check_findings, closed_through
from tests.builders.analysis import import_lines, line, survey_row
from tests.builders.loop import (
    DEFINITION,
    check,
    closed_after,
    deliveries,
    pulse,
    rising,
    scale_lines,
    sessions_on,
    stored_findings,
    subscribe,
)
from tests.builders.orgs import make_org
from tests.builders.surveys import MONTHLY, make_survey, publish_version

Client = AsyncTestClient[Litestar]

FLAT = {2: 10, 3: 10, 4: 10}
HIGH = {4: 15, 5: 15}


async def test_a_jump_opens_one_change_finding_once_its_wave_has_closed(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await pulse(client, org)
    await subscribe(settings, org.slug, ["finding.opened"])
    lines = scale_lines(1, "trust", FLAT) + scale_lines(2, "trust", FLAT)
    await import_lines(client, org, lines + scale_lines(3, "trust", HIGH))
    # While March is open, nothing about it is known yet.
    assert await check(settings, datetime(2025, 3, 20, tzinfo=UTC)) == []
    opened = await check(settings, closed_after(3))
    assert [(f.question_key, f.option_key, f.kind, f.wave_number, f.direction) for f in opened] == [
        ("trust", "", "change", 3, "increasing")
    ]
    figures = opened[0].figures
    assert figures["test"] == "mann_whitney" and figures["q"] <= 0.05
    assert (figures["from_wave"], figures["to_wave"]) == (2, 3)
    assert (figures["from_label"], figures["to_label"]) == ("2025-02", "2025-03")
    assert figures["from_estimate"] == pytest.approx(3.0)
    assert figures["to_estimate"] == pytest.approx(4.5)
    assert (figures["from_n"], figures["to_n"]) == (30, 30)
    assert figures["diff"] == pytest.approx(1.5)
    assert opened[0].sentences["en"] == (
        "“Trust that we act on your views”: the average answer rose from 3.0 to 4.5 out of 5 "
        "between February 2025 and March 2025."
    )
    # Checked again, or later: still one.
    assert await check(settings, closed_after(3)) == []
    assert await check(settings, closed_after(4)) == []
    assert len(await stored_findings(settings)) == 1
    events = await deliveries(settings)
    assert [d.event_type for d in events] == ["finding.opened"]
    assert events[0].payload["data"]["finding"]["id"] == str(opened[0].id)
    assert (
        events[0]
        .payload["data"]["finding"]["sentences"]["nl"]
        .startswith(
            "‘Vertrouwen dat we naar je luisteren’: het gemiddelde antwoord steeg van 3,0 naar 4,5"
        )
    )


async def test_concurrent_checks_open_each_finding_once(client: Client, settings: Settings) -> None:
    org = await make_org(client)
    await pulse(client, org)
    await import_lines(client, org, scale_lines(1, "trust", FLAT) + scale_lines(2, "trust", HIGH))
    now = closed_after(2)

    async def one_check() -> int:
        async with sessions_on(settings) as sessions, transaction(sessions) as session:
            survey = await survey_row(session)
            return len(await check_findings(session, survey, now=now))

    counts = await asyncio.gather(*(one_check() for _ in range(3)))
    assert sorted(counts) == [0, 0, 1]
    assert len(await stored_findings(settings)) == 1


async def test_a_steady_rise_opens_a_trend_finding_then_none_while_it_is_open(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await pulse(client, org)
    await import_lines(
        client, org, [x for w in range(1, 9) for x in scale_lines(w, "trust", rising(w))]
    )
    opened = await check(settings, closed_after(6))
    assert [(f.kind, f.wave_number, f.direction) for f in opened] == [("trend", 5, "increasing")]
    figures = opened[0].figures
    assert figures["test"] == "mann_kendall" and figures["p"] < 0.05
    assert (figures["s"], figures["waves"], figures["first_wave"], figures["last_wave"]) == (
        10,
        5,
        1,
        5,
    )
    assert figures["first_estimate"] == pytest.approx(2.6)
    assert figures["last_estimate"] == pytest.approx(3.0)
    assert figures["slope"] == pytest.approx(0.1)
    assert opened[0].sentences["en"] == (
        "“Trust that we act on your views”: the average answer has been rising since "
        "January 2025 (5 waves), from 2.6 to 3.0 out of 5."
    )
    assert opened[0].sentences["es"] == (
        "«Confianza en que actuamos según tu opinión»: la respuesta media sube desde "
        "enero de 2025 (5 oleadas), de 2,6 a 3,0 en una escala de 1 a 5."
    )
    # Once a decision answers it, a wave that still trends opens a new one.
    made = await client.post(
        "/api/v1/surveys/pulse/decisions",
        json={
            "title": "Answer every email",
            "decided_at": "2025-07-03T00:00:00Z",
            "finding_ids": [str(opened[0].id)],
        },
        headers=org.auth("campaigner"),
    )
    assert made.status_code == 201, made.text
    again = await check(settings, closed_after(7))
    assert [(f.kind, f.wave_number) for f in again] == [("trend", 7)]
    assert again[0].sentences["en"].endswith("(7 waves), from 2.6 to 3.2 out of 5.")
    assert await check(settings, closed_after(8)) == []  # wave 7's is open


async def test_a_flat_series_opens_nothing(client: Client, settings: Settings) -> None:
    org = await make_org(client)
    await pulse(client, org)
    await import_lines(client, org, [x for w in range(1, 7) for x in scale_lines(w, "trust", FLAT)])
    assert await check(settings, closed_after(6)) == []
    async with sessions_on(settings) as sessions, sessions() as session:
        survey = await survey_row(session)
        assert closed_through(survey, closed_after(6)) == 6


async def test_choice_questions_per_option(client: Client, settings: Settings) -> None:
    org = await make_org(client)
    await pulse(client, org)
    lines = (
        [line(1, {"actions": ["petition", "march"]}) for _ in range(10)]
        + [line(1, {"actions": ["march"]}) for _ in range(30)]
        + [line(2, {"actions": ["petition", "march"]}) for _ in range(35)]
        + [line(2, {"actions": ["march"]}) for _ in range(5)]
        + [line(1, {"priority": "climate"}) for _ in range(20)]
        + [line(1, {"priority": "housing"}) for _ in range(10)]
        + [line(1, {"priority": "health"}) for _ in range(10)]
        + [line(2, {"priority": "climate"}) for _ in range(5)]
        + [line(2, {"priority": "housing"}) for _ in range(30)]
        + [line(2, {"priority": "health"}) for _ in range(5)]
    )
    await import_lines(client, org, lines)
    opened = await check(settings, closed_after(2))
    got = {(f.question_key, f.option_key): f for f in opened}
    assert set(got) == {("actions", "petition"), ("priority", "")}
    petition = got[("actions", "petition")]
    assert petition.direction == "increasing"
    assert petition.figures["test"] == "two_proportion_z"
    assert (petition.figures["from_estimate"], petition.figures["to_estimate"]) == (0.25, 0.875)
    assert petition.sentences["en"] == (
        "“What did you do this month?”: the share choosing Signed a petition rose from 25% to "
        "88% between January 2025 and February 2025."
    )
    priority = got[("priority", "")]
    assert priority.figures["test"] == "chi_square"
    assert priority.figures["option"] == "housing" and priority.direction == "increasing"
    assert priority.figures["options"]["climate"] == {"from": 0.5, "to": 0.125}
    assert priority.sentences["nl"] == (
        "‘Which issue matters most to you?’: het aandeel dat Wonen kiest steeg van 25% naar 75% "
        "tussen januari 2025 en februari 2025."
    )


async def test_suppressed_waves_yield_nothing(client: Client, settings: Settings) -> None:
    org = await make_org(client)
    await pulse(client, org, min_n=10)
    lines = [line(1, {"trust": 1}) for _ in range(9)] + [line(2, {"trust": 5}) for _ in range(9)]
    lines += [x for w in range(3, 8) for x in scale_lines(w, "trust", {1: 4, 5: 4})]
    await import_lines(client, org, lines)
    assert await check(settings, closed_after(7)) == []


async def test_no_change_across_a_series_break(client: Client, settings: Settings) -> None:
    org = await make_org(client)
    await pulse(client, org)
    wider = copy.deepcopy(DEFINITION)
    wider["questions"][0]["scale"] = {"min": 1, "max": 7}
    published = await publish_version(client, org, "pulse", wider, confirm_breaks=True)
    assert [c["breaks_series"] for c in published["changes"] if c["key"] == "trust"] == [True]
    lines = [{**x, "version": 1} for w in (1, 2) for x in scale_lines(w, "trust", FLAT)]
    lines += [line(3, {"trust": 7}, version=2) for _ in range(30)]
    await import_lines(client, org, lines)
    assert await check(settings, closed_after(3)) == []
    # The same jump within one version is a finding (the break is what stops it).
    lines = [line(4, {"trust": 1}, version=2) for _ in range(30)]
    await import_lines(client, org, lines)
    opened = await check(settings, closed_after(4))
    assert [(f.kind, f.wave_number, f.direction) for f in opened] == [("change", 4, "decreasing")]
    assert "out of 7" in opened[0].sentences["en"]


async def test_waves_checked_later_use_only_what_was_known_then(
    client: Client, settings: Settings
) -> None:
    """A first check long after several waves closed finds what checks after each wave would
    have found: q over the tests up to each wave, and trend runs up to each wave."""
    org = await make_org(client)
    await pulse(client, org)
    lines = scale_lines(1, "trust", FLAT) + scale_lines(2, "trust", HIGH)
    lines += [x for w in range(3, 9) for x in scale_lines(w, "trust", HIGH)]
    await import_lines(client, org, lines)
    first = await check(settings, closed_after(8))
    assert [(f.kind, f.wave_number) for f in first] == [("change", 2)]
    q_then = first[0].figures["q"]
    # Over all eight waves' tests the same jump has a larger q (seven tests, one small p).
    assert q_then == pytest.approx(first[0].figures["p"])


async def test_closed_through_between_and_during_waves(client: Client, settings: Settings) -> None:
    org = await make_org(client)
    weekly = {**MONTHLY, "wave_duration": "P7D"}  # a week open, then closed until next month
    await make_survey(client, org, slug="weekly", schedule=weekly)
    await make_survey(client, org, slug="always")
    async with sessions_on(settings) as sessions, sessions() as session:
        survey = await survey_row(session, "weekly")
        assert closed_through(survey, datetime(2025, 2, 3, tzinfo=UTC)) == 1  # wave 2 open
        assert closed_through(survey, datetime(2025, 2, 20, tzinfo=UTC)) == 2  # between waves
        assert closed_through(survey, datetime(2024, 12, 1, tzinfo=UTC)) == 0  # before any
        always = await survey_row(session, "always")
        assert closed_through(always, datetime(2030, 1, 1, tzinfo=UTC)) == 0  # never closes
