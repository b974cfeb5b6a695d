"""Signed, expiring report links and the HTML report they open."""

from __future__ import annotations

import math
import re
import statistics
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.analysis import report
from feedback.analysis.mdc import Z_DETECT
from feedback.clock import Clock, fixed_clock
from feedback.config import Settings
from tests.builders.analysis import import_lines, line, session_on, survey_row
from tests.builders.orgs import Org, make_org
from tests.builders.surveys import MONTHLY, clock_reading, make_survey, pulse_definition

Client = AsyncTestClient[Litestar]
LINKS = "/api/v1/surveys/pulse/report-links"
# Links expire by the app's clock: these tests stand on one instant, after the waves they read.
NOW = datetime(2026, 2, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return fixed_clock(NOW)


async def link(client: Client, org: Org, body: dict[str, Any] | None = None) -> dict[str, Any]:
    got = await client.post(LINKS, json=body, headers=org.auth("analyst"))
    assert got.status_code == 201, got.text
    out: dict[str, Any] = got.json()
    return out


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


async def surveyed(client: Client, slug: str = "acme", hidden: tuple[int, ...] = (1, 1)) -> Org:
    org = await make_org(client, slug)
    definition = pulse_definition()
    definition["questions"][0]["label"] = "Do you <b>trust</b> us? & why"
    await make_survey(client, org, schedule=MONTHLY, definition=definition)
    lines = [
        line(w, {"trust": 1 + (i + w) % 5, "priority": "climate", "comment": "x"})
        for w in (1, 3)
        for i in range(6)
    ]
    lines += [line(2, {"trust": v}) for v in hidden]  # wave 2: under min_n
    await import_lines(client, org, lines)
    return org


async def test_a_link_opens_the_report_without_a_key(client: Client, settings: Settings) -> None:
    org = await surveyed(client)
    made = await link(client, org, {"expires_in": 3600})
    assert made["url"].startswith(settings.base_url + "/reports/")
    assert datetime.fromisoformat(made["expires_at"]) == NOW + timedelta(seconds=3600)
    page = await client.get(path_of(made["url"]))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "private, no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    # Every question, labels escaped, a chart beside the table of each one with a metric.
    assert "Do you &lt;b&gt;trust&lt;/b&gt; us? &amp; why" in html and "<b>trust" not in html
    for label in (
        "How likely are you to recommend us",
        "Which issue matters most",
        "What did you do this month",
        "Hours volunteered",
        "Anything else?",
    ):
        assert label in html
    charts = re.findall(r'<img src="([^"]+)"', html)
    assert len(charts) == 5 and not any("comment" in c for c in charts)
    for chart in charts:
        got = await client.get(unescape(chart))
        assert got.status_code == 200 and got.headers["content-type"].startswith("image/svg")
        assert ET.fromstring(got.content).tag.endswith("svg")
    png = await client.get(unescape(charts[0]).replace(".svg", ".png"))
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    # The hidden wave shows its n and nothing else.
    row = re.search(r"<tr><td>2025-02</td>(.*?)</tr>", html)
    assert row is not None and "suppressed (n &lt; 5)" in row.group(1)
    assert re.sub(r"<[^>]+>", " ", row.group(1)).split()[0] == "2"


async def test_links_are_audited_bounded_and_default_to_a_week(client: Client) -> None:
    org = await surveyed(client)
    made = await link(client, org)
    expires_at = datetime.fromisoformat(made["expires_at"])
    assert expires_at - NOW == timedelta(days=7)
    for bad in (59, 90 * 86400 + 1, "soon"):
        got = await client.post(LINKS, json={"expires_in": bad}, headers=org.auth("analyst"))
        assert got.status_code == 422, got.text
        assert got.json()["errors"][0]["pointer"] == "/expires_in"
    extra = await client.post(LINKS, json={"expires": 60}, headers=org.auth("analyst"))
    assert extra.status_code == 422
    audit = (await client.get("/api/v1/audit", headers=org.auth("admin"))).json()["items"]
    assert any(e["action"] == "report_link.created" and e["object_id"] == "pulse" for e in audit)
    other = await make_org(client, "other")
    assert (await client.post(LINKS, json={}, headers=other.auth("analyst"))).status_code == 404


async def test_tampered_expired_and_foreign_tokens_open_nothing(
    client: Client, settings: Settings
) -> None:
    org = await surveyed(client)
    token = path_of((await link(client, org))["url"]).rsplit("/", 1)[1]
    secret = settings.resolved_secret_key()
    async with session_on(settings) as session:
        survey = await survey_row(session)
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    expired = report.sign(
        secret, report.ReportGrant(survey.org_id, survey.id, NOW - timedelta(seconds=1))
    )
    forged = report.sign(
        "another-secret",
        report.ReportGrant(survey.org_id, survey.id, NOW + timedelta(1)),
    )
    # Signed correctly, but naming the survey under another organisation.
    foreign = report.sign(secret, report.ReportGrant(uuid.uuid4(), survey.id, NOW + timedelta(1)))
    for bad in (flipped, token[:-2], token + "AA", "x", "%00", expired, forged, foreign):
        for suffix in ("", "/charts/trust.svg"):
            got = await client.get(f"/reports/{bad}{suffix}")
            assert got.status_code == 404, (bad, suffix, got.status_code)
            assert got.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(f"/reports/{token}/charts/trust.gif")).status_code == 404
    assert (await client.get(f"/reports/{token}/charts/nope.svg")).status_code == 404
    assert (await client.get(f"/reports/{token}/charts/comment.svg")).status_code == 422
    assert (await client.get(f"/reports/{token}")).status_code == 200


def test_verify_checks_expiry_against_the_clock() -> None:
    grant = report.ReportGrant(uuid.uuid4(), uuid.uuid4(), datetime(2030, 1, 1, tzinfo=UTC))
    token = report.sign("k", grant)
    assert report.verify("k", token, now=datetime(2029, 12, 31, tzinfo=UTC)) == grant
    for now in (datetime(2030, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC)):
        try:
            report.verify("k", token, now=now)
        except report.NotFound:
            continue
        raise AssertionError("an expired token verified")


async def test_the_report_shows_nothing_of_a_hidden_wave(client: Client) -> None:
    """Two surveys that differ only in a suppressed wave give the same report page."""
    pages = []
    for slug, hidden in (("low", (1, 1)), ("high", (5, 4))):
        org = await surveyed(client, slug, hidden)
        page = (await client.get(path_of((await link(client, org))["url"]))).text
        page = re.sub(r"/reports/[A-Za-z0-9_-]+/", "/reports/TOKEN/", page)
        pages.append(re.sub(r"Generated [^·]+·|valid until [^<]+", "", page))
    assert pages[0] == pages[1]


async def test_the_report_shows_each_waves_smallest_detectable_change(client: Client) -> None:
    org = await surveyed(client)
    trends = await client.get(
        "/api/v1/surveys/pulse/trends?questions=trust,priority&to=2025-01-31",
        headers=org.auth("analyst"),
    )
    trust, priority = trends.json()["questions"]
    values = [1 + (i + 1) % 5 for i in range(6)]
    mdc = Z_DETECT * statistics.stdev(values) * math.sqrt(2 / 6)
    assert trust["waves"][0]["mdc"] == pytest.approx(mdc, rel=1e-12)
    assert priority["waves"][0]["options"]["climate"]["mdc"] == 0.0  # all six chose it
    html = (await client.get(path_of((await link(client, org))["url"]))).text
    assert "Smallest detectable change" in html
    row = re.search(r"<tr><td>2025-01</td>(.*?)</tr>", html, re.S)
    assert row is not None and f"±{mdc:.2f}" in row.group(1)


async def test_the_report_says_the_latest_change_in_plain_words(client: Client) -> None:
    org = await surveyed(client)
    trends = await client.get(
        "/api/v1/surveys/pulse/trends?questions=trust", headers=org.auth("analyst")
    )
    waves = trends.json()["questions"][0]["waves"]
    shown = [w for w in waves if w.get("change")]
    sentence = shown[-1]["change"]["summary"]
    assert sentence and "2025" in sentence  # wave 3 against wave 1, wave 2 being hidden
    html = unescape((await client.get(path_of((await link(client, org))["url"]))).text)
    # The JSON names the question; under its own chart the report does not.
    said = re.findall(r'class="summary">(.*?)</p>', html)
    assert sentence.split(": ", 1)[-1].rstrip(".").lower() in said[0].lower()


async def test_a_link_lasts_its_seconds_across_a_clock_change(
    client: Client, settings: Settings
) -> None:
    """Expiry is counted in elapsed seconds, not on a wall clock: a day's link made the day
    before Amsterdam moves its clocks forward lasts 24 hours, not 23, and says so in UTC."""
    org = await surveyed(client)
    amsterdam = ZoneInfo("Europe/Amsterdam")
    made_at = datetime(2025, 3, 29, 12, 0, tzinfo=amsterdam)  # 11:00 UTC
    with clock_reading(client, made_at):
        made = await link(client, org, {"expires_in": 86400})
    expires_at = datetime.fromisoformat(made["expires_at"])
    assert expires_at == datetime(2025, 3, 30, 11, 0, tzinfo=UTC)
    assert expires_at.utcoffset() == timedelta(0)
    with clock_reading(client, datetime(2025, 3, 30, 10, 30, tzinfo=UTC)):
        page = await client.get(path_of(made["url"]))
    assert page.status_code == 200
    assert "Generated 2025-03-30 10:30 UTC" in page.text
    assert "valid until 2025-03-30 11:00 UTC" in page.text
    with clock_reading(client, datetime(2025, 3, 30, 13, 30, tzinfo=amsterdam)):
        page = await client.get(path_of(made["url"]))  # 11:30 UTC
    assert page.status_code == 404


async def test_a_date_question_is_called_a_date_question(client: Client) -> None:
    org = await make_org(client)
    definition = pulse_definition()
    definition["questions"].append({"key": "joined", "type": "date", "label": "When did you join?"})
    await make_survey(client, org, schedule=MONTHLY, definition=definition)
    await import_lines(client, org, [line(1, {"trust": 3, "joined": "2024-05-01"})] * 6)
    html = (await client.get(path_of((await link(client, org))["url"]))).text
    section = html.split('id="q-joined"', 1)[1].split("</section>", 1)[0]
    assert "Date answers: only the number of answers is reported." in section
    assert "Text answers" not in section
