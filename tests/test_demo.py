"""The demo README's first command loads: complete on any day, at any hour, in any host time
zone; resumed, never half-loaded, after a failure; and re-runnable."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.api.app import create_app
from feedback.clock import fixed_clock
from feedback.config import Settings
from feedback.demo import (
    COHORT_AGES,
    DECISION_WAVE,
    MONTHS,
    DemoSize,
    Timeline,
    _lines,
    load_demo,
)
from feedback.errors import TooLarge
from feedback.responses.imports import BATCH_LINES
from feedback.surveys.schedule import wave_at
from feedback.surveys.settings import parse_schedule

NOW = datetime(2026, 12, 4, 17, 30, tzinfo=UTC)
SMALL = DemoSize(respondents=40, per_wave=(8, 14))

# The instants that break calendars: month edges, a leap day, the year's last minute, the nights
# clocks change in Europe (last Sundays of March and October, 01:00 UTC) and the US (second
# Sunday of March and first of November, 2am local).
CALENDAR_EDGES = {
    "first of the month, 00:00 UTC": datetime(2027, 3, 1, 0, 0, tzinfo=UTC),
    "first of the month, 23:59 UTC": datetime(2027, 3, 1, 23, 59, 59, tzinfo=UTC),
    "29 February": datetime(2028, 2, 29, 12, 0, tzinfo=UTC),
    "1 March after a leap day, 00:00 UTC": datetime(2028, 3, 1, 0, 0, tzinfo=UTC),
    "31 December, 23:59 UTC": datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC),
    "Europe springs forward": datetime(2027, 3, 28, 1, 0, tzinfo=UTC),
    "Europe falls back": datetime(2027, 10, 31, 1, 0, tzinfo=UTC),
    "US springs forward": datetime(2027, 3, 14, 7, 0, tzinfo=UTC),
    "US falls back": datetime(2027, 11, 7, 6, 0, tzinfo=UTC),
}


def key_of(summary: str) -> str:
    return summary.split("admin key (shown once): ")[1].split()[0]


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def answered_waves(app: Litestar, key: str) -> list[dict[str, object]]:
    async with AsyncTestClient(app=app) as client:
        waves = await client.get("/api/v1/surveys/pulse/waves", headers=auth(key))
        assert waves.status_code == 200, waves.text
        return [w for w in waves.json() if w["responses"]]


async def test_demo_loads_once_and_hands_out_working_keys(settings: Settings) -> None:
    first = await load_demo(settings, now=NOW)
    assert f"loaded: survey 'pulse', {MONTHS} monthly waves" in first
    again = await load_demo(settings, now=NOW + timedelta(days=40))
    assert "already loaded" in again
    app = create_app(settings, clock=fixed_clock(NOW))
    async with AsyncTestClient(app=app) as client:
        for key in (key_of(first), key_of(again)):
            survey = await client.get("/api/v1/surveys/pulse", headers=auth(key))
            assert survey.status_code == 200
            assert survey.json()["current_version"] == 3
            # The month `now` falls in is open, for a supporter to answer live.
            assert survey.json()["current_wave"]["number"] == MONTHS + 1
    answered = await answered_waves(app, key_of(first))
    assert [w["number"] for w in answered] == list(range(1, MONTHS + 1))
    low, high = DemoSize().per_wave
    assert all(low <= int(str(w["responses"])) <= high for w in answered)
    assert sum(int(str(w["responses"])) for w in answered) >= 19_000
    async with AsyncTestClient(app=app) as client:
        findings = await client.get(
            "/api/v1/surveys/pulse/findings?question=trust", headers=auth(key_of(first))
        )
        assert findings.status_code == 200, findings.text
        # The assemblies decision lifted trust: the loop found it, in the wave after.
        assert any(f["wave"] == DECISION_WAVE for f in findings.json()["items"])
    async with AsyncTestClient(app=app) as client:
        # "You said, we did": the public questions' latest closed waves, the public decision.
        results = (await client.get("/api/v1/public/demo/pulse/results")).json()
        assert [q["key"] for q in results["questions"]] == ["trust", "nps", "priority"]
        for question in results["questions"]:
            assert [w["number"] for w in question["waves"]] == list(range(MONTHS - 5, MONTHS + 1))
            assert not any(w["suppressed"] for w in question["waves"])
        assert [d["title"] for d in results["decisions"]] == ["Monthly supporter assemblies"]
        assert (await client.get("/r/demo/pulse")).status_code == 200
    await _the_story_is_there_to_find(app, first)


async def _the_story_is_there_to_find(app: Litestar, summary: str) -> None:
    """What the demo is for: each part of its story can be found through the API."""
    analyst = auth(summary.split("analyst key:")[1].split()[0])
    async with AsyncTestClient(app=app) as client:
        decisions = (await client.get("/api/v1/surveys/pulse/decisions", headers=analyst)).json()
        impact = await client.get(
            f"/api/v1/surveys/pulse/decisions/{decisions['items'][0]['id']}/impact",
            headers=analyst,
        )
        assert impact.status_code == 200, impact.text
        level = impact.json()["level_change"]
        assert level["estimate"] > 0.2 and level["p"] < 0.05, level
        panel = await client.get(
            f"/api/v1/surveys/pulse/panel/trust?from_wave={DECISION_WAVE - 1}"
            f"&to_wave={DECISION_WAVE}",
            headers=analyst,
        )
        assert panel.status_code == 200 and panel.json()["n_pairs"] > 200, panel.text
        trends = await client.get(
            "/api/v1/surveys/pulse/trends?questions=nps,energy&segment=cohort", headers=analyst
        )
        assert trends.status_code == 200, trends.text
        nps, energy = trends.json()["questions"]
        assert nps["trend"]["direction"] == "increasing"
        # Each cohort, and the answers from the hosted page without a personal link.
        assert len(nps["segments"]) == len(COHORT_AGES) + 1
        # Version 3 widened energy's scale: its series breaks at the first wave under it.
        assert [b["version"] for b in energy["breaks"]] == [3], energy["breaks"]
        report = summary.split("report:")[1].split()[0]
        page = await client.get(report.split("127.0.0.1:8000")[-1])
        assert page.status_code == 200 and "energy" in page.text


async def test_an_interrupted_load_is_resumed_and_never_called_loaded(
    settings: Settings,
) -> None:
    # A demo of about three import batches (the full one takes minutes), and a cap on the
    # import's bytes that lets the first batch in and then stops the import part-way.
    per_wave = 3 * BATCH_LINES // MONTHS
    size = DemoSize(respondents=2 * per_wave, per_wave=(per_wave, per_wave + 10))
    lines = [json.dumps(line) for line in _lines(Timeline.ending_before(NOW), size)]
    cap = sum(len(line) + 1 for line in lines[: BATCH_LINES + BATCH_LINES // 2])
    cramped = settings.model_copy(update={"import_max_bytes": cap})
    with pytest.raises(TooLarge):
        await load_demo(cramped, now=NOW, size=size)
    app = create_app(settings, clock=fixed_clock(NOW))
    resumed = await load_demo(settings, now=NOW + timedelta(hours=1), size=size)
    assert "loaded: survey 'pulse'" in resumed and "already loaded" not in resumed
    imported = int(resumed.split(" monthly waves, ")[1].split(" responses")[0])
    assert 0 < imported < len(lines)  # only what the first run left out
    answered = await answered_waves(app, key_of(resumed))
    assert sum(int(str(w["responses"])) for w in answered) == len(lines)
    assert "already loaded" in await load_demo(settings, now=NOW + timedelta(days=3), size=size)


@settings(max_examples=120, deadline=None)
@given(
    instant=st.datetimes(
        min_value=datetime(1990, 1, 1),
        max_value=datetime(2100, 12, 31),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-11, minutes=-30))]
        ),
    )
)
def test_the_timeline_never_dates_an_answer_after_now_or_outside_its_wave(
    instant: datetime,
) -> None:
    timeline = Timeline.ending_before(instant)
    schedule = parse_schedule(
        {
            "rrule": "FREQ=MONTHLY;BYMONTHDAY=1",
            "starts_at": timeline.start.isoformat(),
            "timezone": "UTC",
        }
    )
    assert schedule is not None
    current = wave_at(schedule, instant)
    assert current is not None and current.number == MONTHS + 1
    assert timeline.created_at < timeline.published_at(1) < timeline.start
    assert timeline.opens(DECISION_WAVE - 1) < timeline.decided_at < timeline.opens(DECISION_WAVE)
    for line in _lines(timeline, SMALL):
        at = datetime.fromisoformat(str(line["submitted_at"]))
        assert at < instant
        window = wave_at(schedule, at)
        assert window is not None
        assert window.number <= MONTHS
        assert line["version"] == Timeline.version_of(window.number)
        assert at >= timeline.published_at(Timeline.version_of(window.number))


@pytest.fixture
def host_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test with the host's local time zone set to `request.param`."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield str(request.param)
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


@pytest.mark.parametrize("host_zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"], indirect=True)
@pytest.mark.parametrize("edge", list(CALENDAR_EDGES))
async def test_the_demo_loads_and_serves_on_the_days_that_break_calendars(
    settings: Settings, edge: str, host_zone: str
) -> None:
    now = CALENDAR_EDGES[edge]
    summary = await load_demo(settings, now=now, size=SMALL)
    assert "loaded: survey 'pulse'" in summary, (edge, host_zone)
    app = create_app(settings, clock=fixed_clock(now))
    key = key_of(summary)
    answered = await answered_waves(app, key)
    assert [w["number"] for w in answered] == list(range(1, MONTHS + 1)), (edge, host_zone)
    async with AsyncTestClient(app=app) as client:
        trends = await client.get("/api/v1/surveys/pulse/trends?questions=trust", headers=auth(key))
        assert trends.status_code == 200, trends.text
        shown = [w for w in trends.json()["questions"][0]["waves"] if not w.get("suppressed")]
        assert len(shown) == MONTHS
        form = await client.get("/f/demo/pulse")
        assert form.status_code == 200 and "<form" in form.text
        sent = await client.post(
            "/api/v1/public/demo/pulse/responses",
            json={"response_id": str(uuid.uuid4()), "version": 3, "answers": {"trust": 4}},
        )
        assert sent.status_code == 201, sent.text
        assert sent.json()["wave"] == MONTHS + 1
