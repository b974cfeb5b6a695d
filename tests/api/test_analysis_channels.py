"""Channel as a segment and a filter on every analysis route, and unknown query parameters
answering 422 on each of them (docs/http-api.md "Analysis")."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html import unescape
from typing import Any

import numpy as np
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.clock import Clock, fixed_clock
from tests.builders.analysis import import_lines, line
from tests.builders.orgs import Org, make_org
from tests.builders.responses import responses_url, submission, submitted
from tests.builders.surveys import MONTHLY, make_survey

Client = AsyncTestClient[Litestar]
BASE = "/api/v1/surveys/pulse"
TRENDS = f"{BASE}/trends"
NOW = datetime(2025, 9, 20, 12, 0, tzinfo=UTC)
# Per wave 1–8: six answers from an event (trust 1 or 2, one higher in even waves and a point
# higher from wave 5), eight imported (trust 4 or 5), and one through the `paper-2025` label an
# import carried.
EVENT = [1, 2, 1, 2, 1, 2]
IMPORT = [4, 5, 4, 5, 4, 5, 4, 5]


@pytest.fixture
def clock() -> Clock:
    return fixed_clock(NOW)


async def channelled(client: Client) -> Org:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    lines = []
    for wave in range(1, 9):
        for i, value in enumerate(EVENT):
            value += (wave >= 5) + (i == 0 and wave % 2 == 0)
            lines.append({**line(wave, {"trust": value}, respondent=f"p{i}"), "channel": "event"})
        lines += [line(wave, {"trust": value}) for value in IMPORT]
        lines.append({**line(wave, {"trust": 3}), "channel": "paper-2025"})
    await import_lines(client, org, lines)
    return org


def ns(waves: list[dict[str, Any]]) -> list[int]:
    return [w["n"] for w in waves]


async def test_segment_channel_splits_by_each_responses_channel(client: Client) -> None:
    org = await channelled(client)
    got = await client.get(
        f"{TRENDS}?questions=trust&to=2025-04-30&segment=channel", headers=org.auth("analyst")
    )
    assert got.status_code == 200, got.text
    question = got.json()["questions"][0]
    segments = question["segments"]
    assert list(segments) == ["import", "event", "paper-2025"]
    assert ns(segments["import"]["waves"]) == [8, 8, 8, 8]
    assert ns(segments["event"]["waves"]) == [6, 6, 6, 6]
    # One answer on paper is too few to show, and the event's six are hidden with it so that
    # the total minus the shown import figures does not give it away.
    assert segments["paper-2025"]["waves"][0]["suppressed"] == "small"
    assert segments["event"]["waves"][0]["suppressed"] == "complementary"
    assert segments["import"]["waves"][0]["estimate"] == pytest.approx(4.5)
    assert ns(question["waves"]) == [15, 15, 15, 15]


async def test_the_channel_filter_counts_only_those_channels(client: Client) -> None:
    org = await channelled(client)
    auth = org.auth("analyst")
    query = "questions=trust&to=2025-04-30"
    event = (await client.get(f"{TRENDS}?{query}&channel=event", headers=auth)).json()
    waves = event["questions"][0]["waves"]
    assert ns(waves) == [6, 6, 6, 6] and waves[0]["estimate"] == pytest.approx(1.5)
    both = (await client.get(f"{TRENDS}?{query}&channel=event,paper-2025", headers=auth)).json()
    assert ns(both["questions"][0]["waves"]) == [7, 7, 7, 7]
    nothing = (await client.get(f"{TRENDS}?{query}&channel=embed", headers=auth)).json()
    assert ns(nothing["questions"][0]["waves"]) == [0, 0, 0, 0]
    # Filter and segment together: the segment split sees only the filtered responses.
    split = await client.get(f"{TRENDS}?{query}&channel=event&segment=channel", headers=auth)
    assert list(split.json()["questions"][0]["segments"]) == ["event"]


async def test_charts_panel_and_impact_take_the_channel_filter(client: Client) -> None:
    org = await channelled(client)
    auth = org.auth("analyst")
    svg = {
        channel: (await client.get(f"{TRENDS}/trust/chart.svg?channel={channel}", headers=auth))
        for channel in ("event", "import")
    }
    for got in svg.values():
        assert got.status_code == 200 and ET.fromstring(got.content).tag.endswith("svg")
    assert svg["event"].content != svg["import"].content
    png = await client.get(f"{TRENDS}/trust/chart.png?channel=event", headers=auth)
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    # The event respondents answered every wave: their pairs, and nobody else's.
    panel = await client.get(
        f"{BASE}/panel/trust?from_wave=1&to_wave=2&channel=event", headers=auth
    )
    assert panel.status_code == 200 and panel.json()["n_pairs"] == 6, panel.text
    unfiltered = await client.get(f"{BASE}/panel/trust?from_wave=1&to_wave=2", headers=auth)
    assert unfiltered.json()["n_pairs"] == 6
    imported = await client.get(
        f"{BASE}/panel/trust?from_wave=1&to_wave=2&channel=import", headers=auth
    )
    assert imported.json()["n_pairs"] == 0
    decided = await client.post(
        f"{BASE}/decisions",
        json={
            "title": "Doors open",
            "decided_at": "2025-04-20T00:00:00Z",
            "question_keys": ["trust"],
        },
        headers=org.auth("campaigner"),
    )
    assert decided.status_code == 201, decided.text
    impact = f"{BASE}/decisions/{decided.json()['id']}/impact"
    event = await client.get(f"{impact}?channel=event", headers=auth)
    every = await client.get(impact, headers=auth)
    assert event.status_code == 200 and every.status_code == 200, event.text
    waves = np.arange(1, 9)
    jump, even = (waves >= 5).astype(float), (waves % 2 == 0).astype(float)
    design = np.column_stack([np.ones(8), waves - 1, jump, (waves - 5) * jump])
    for got, sums, n in ((event, 9 + 6 * jump + even, 6), (every, 48 + 6 * jump + even, 15)):
        level = np.linalg.lstsq(design, sums / n, rcond=None)[0][2]
        assert got.json()["level_change"]["estimate"] == pytest.approx(level, abs=1e-9)


async def test_a_report_link_carries_the_channel_filter(client: Client) -> None:
    org = await channelled(client)
    made = await client.post(
        f"{BASE}/report-links", json={"channel": "event"}, headers=org.auth("analyst")
    )
    assert made.status_code == 201, made.text
    page = await client.get("/" + made.json()["url"].split("/", 3)[3])
    assert page.status_code == 200
    assert "only responses through event" in page.text
    row = re.search(r"<tr><td>2025-01</td>(.*?)</tr>", page.text, re.S)
    assert row is not None and re.sub(r"<[^>]+>", " ", row.group(1)).split()[0] == "6"
    chart = re.findall(r'<img src="([^"]+)"', page.text)[0]
    filtered = await client.get(unescape(chart).replace(".svg", ".png"))
    direct = await client.get(
        f"{TRENDS}/trust/chart.png?channel=event", headers=org.auth("analyst")
    )
    assert filtered.content == direct.content
    bad = await client.post(
        f"{BASE}/report-links", json={"channel": "Not A Channel"}, headers=org.auth("analyst")
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/channel"


async def test_a_revision_moves_its_response_to_the_revisions_channel(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    moved = await submitted(client, org, submission(channel="embed"))
    kept = await submitted(client, org, submission(channel="embed"))
    for created, channel in ((moved, "hosted"), (kept, None)):
        body: dict[str, Any] = {"version": 1, "answers": {"trust": 2}}
        if channel is not None:
            body["channel"] = channel
        got = await client.put(
            f"{responses_url(org)}/{created['response_id']}",
            json=body,
            headers={"X-Edit-Token": created["edit_token"]},
        )
        assert got.status_code == 200, got.text
    got = await client.get(
        f"{TRENDS}?questions=trust&segment=channel&min_n=1000", headers=org.auth("analyst")
    )
    segments = got.json()["questions"][0]["segments"]
    assert {name: s["waves"][-1]["n"] for name, s in segments.items()} == {
        "embed": 1,
        "hosted": 1,
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{TRENDS}?questions=trust"),
        ("GET", f"{TRENDS}/trust/chart.png?to=2025-04-30"),
        ("GET", f"{TRENDS}/trust/chart.svg?to=2025-04-30"),
        ("GET", f"{BASE}/panel/trust?from_wave=1&to_wave=2"),
        ("POST", f"{BASE}/report-links?"),
        ("GET", "IMPACT"),
    ],
)
async def test_unknown_query_parameters_answer_422_naming_them(
    client: Client, method: str, path: str
) -> None:
    org = await channelled(client)
    if path == "IMPACT":
        decided = await client.post(
            f"{BASE}/decisions",
            json={"title": "x", "decided_at": "2025-02-20T00:00:00Z", "question_keys": ["trust"]},
            headers=org.auth("campaigner"),
        )
        path = f"{BASE}/decisions/{decided.json()['id']}/impact?question=trust"
    auth = org.auth("analyst")
    known = await client.request(method, path, headers=auth)
    assert known.status_code in (200, 201), known.text
    got = await client.request(method, f"{path}&chanel=event&a/b=1", headers=auth)
    assert got.status_code == 422, got.text
    assert got.headers["content-type"].startswith("application/problem+json")
    assert [(e["pointer"], e["source"]) for e in got.json()["errors"]] == [
        ("/a~1b", "query"),
        ("/chanel", "query"),
    ]


async def test_a_filter_given_twice_is_refused_not_half_applied(client: Client) -> None:
    """Of `channel=event&channel=embed` only the last would be used: figures for another filter
    than the one asked for. A list is one parameter, separated by commas."""
    org = await channelled(client)
    auth = org.auth("analyst")
    for query in ("channel=event&channel=embed", "questions=trust&questions=nps&to=2025-04-30"):
        got = await client.get(f"{TRENDS}?{query}", headers=auth)
        assert got.status_code == 422, got.text
        name = query.split("=", 1)[0]
        assert [(e["pointer"], e["source"]) for e in got.json()["errors"]] == [
            (f"/{name}", "query")
        ]
    assert (await client.get(f"{TRENDS}?channel=event,embed", headers=auth)).status_code == 200


@pytest.mark.parametrize("path", [TRENDS, f"{BASE}/waves", f"{TRENDS}.csv"])
async def test_dates_are_written_yyyy_mm_dd_and_named_as_sent(client: Client, path: str) -> None:
    org = await channelled(client)
    auth = org.auth("analyst")
    for name, text in (("from", "2023-02-29"), ("to", "20250101"), ("from", "2025-1-01")):
        got = await client.get(f"{path}?{name}={text}", headers=auth)
        assert got.status_code == 422, got.text
        assert [(e["pointer"], e["source"]) for e in got.json()["errors"]] == [
            (f"/{name}", "query")
        ]
    # A range the wrong way round holds no wave: said, not answered as if there were no data.
    got = await client.get(f"{path}?from=2025-03-01&to=2025-02-28", headers=auth)
    assert got.status_code == 422, got.text
    assert [(e["pointer"], e["source"]) for e in got.json()["errors"]] == [("/from", "query")]
    one_day = await client.get(f"{path}?from=2025-03-01&to=2025-03-01", headers=auth)
    assert one_day.status_code == 200, one_day.text


async def test_trends_csv_names_its_charset_once(client: Client) -> None:
    org = await channelled(client)
    got = await client.get(f"{TRENDS}.csv?to=2025-04-30", headers=org.auth("analyst"))
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "text/csv; charset=utf-8"


async def test_a_bad_channel_is_a_problem_naming_the_parameter(client: Client) -> None:
    org = await channelled(client)
    got = await client.get(f"{TRENDS}?channel=Event!", headers=org.auth("analyst"))
    assert got.status_code == 422
    assert [(e["pointer"], e["source"]) for e in got.json()["errors"]] == [("/channel", "query")]


async def test_charts_tell_a_complementary_cell_from_a_small_one(client: Client) -> None:
    org = await channelled(client)
    got = await client.get(
        f"{TRENDS}/trust/chart.svg?segment=channel&to=2025-04-30", headers=org.auth("analyst")
    )
    assert got.status_code == 200
    svg = got.text
    # matplotlib keeps each text as a comment beside its outlines.
    assert "hidden to protect a small group" in svg and "suppressed (n&lt;5)" in svg
    assert "n=6: hidden to protect a small group" not in svg  # panels' gaps are unlabelled
