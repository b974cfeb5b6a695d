"""Every number a question accepts can be analysed, and so can whatever is already stored: the
domain's edges through the API, and values outside it planted in the database, go through
every analysis route on both databases without an error."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.config import Settings
from tests.builders.analysis import import_lines, line
from tests.builders.orgs import make_org
from tests.builders.responses import database, submission, submit
from tests.builders.surveys import MONTHLY, make_survey

Client = AsyncTestClient[Litestar]
DEFINITION = {
    "questions": [
        {"key": "n", "type": "number", "label": "Any number"},
        {"key": "tiny", "type": "number", "label": "Near zero", "min": 0, "max": 1},
    ]
}
# The edges of what validation accepts: the magnitude cap and the finest decimal.
EDGES = [1e15, -1e15, 0.000001, -0.000001, 0.0, 123456.123456]
# Outside it, as a database written before the rule (or by hand) may hold.
PLANTED = [1e-170, -1e-170, 5e-324, 1e-300, 2.2250738585072014e-308]


async def test_numbers_at_and_beyond_the_domain_break_no_analysis(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY, definition=DEFINITION)
    lines = [
        line(wave, {"n": value, "tiny": 0.5}, respondent=f"r{i}")
        for wave in (1, 2)
        for i, value in enumerate(EDGES * 2)
    ]
    await import_lines(client, org, lines)
    # Refused at validation, so never stored from now on.
    for value, where in ((1e-7, "/answers/n"), (1e16, "/answers/n"), (1e-170, None)):
        got = await submit(client, org, submission(answers={"n": value}))
        if where is None:  # binary noise around 0 is 0
            assert got.status_code in (200, 201), got.text
        else:
            assert got.status_code == 422, got.text
            assert got.json()["errors"][0]["pointer"] == where
    async with database(settings.database_url) as conn:
        ids = (
            await conn.execute(
                sa.text("SELECT id FROM answer WHERE question_key IN ('n', 'tiny') ORDER BY id")
            )
        ).scalars()
        for answer_id, value in zip(ids, PLANTED * 10, strict=False):
            await conn.execute(
                sa.text("UPDATE answer SET value_num = :v WHERE id = :id"),
                {"v": value, "id": answer_id},
            )
        await conn.commit()
    analyst = org.auth("analyst")
    base = "/api/v1/surveys/pulse"
    routes = [
        f"{base}/trends",
        f"{base}/trends?questions=n,tiny&segment=country",
        f"{base}/trends/n/chart.png",
        f"{base}/trends/tiny/chart.svg",
        f"{base}/trends/n/chart.svg?segment=country",
        f"{base}/panel/n?from_wave=1&to_wave=2",
        f"{base}/panel/tiny?from_wave=1&to_wave=2",
        f"{base}/export.csv",
        f"{base}/export.csv?layout=wide",
        f"{base}/export.ndjson",
    ]
    for route in routes:
        got = await client.get(route, headers=analyst)
        assert got.status_code == 200, (route, got.text[:300])
    trends = (await client.get(f"{base}/trends?questions=n", headers=analyst)).json()
    for wave in trends["questions"][0]["waves"][:2]:
        assert wave["n"] == len(EDGES) * 2 or wave.get("suppressed")
    link = await client.post(f"{base}/report-links", json={}, headers=analyst)
    report = await client.get("/" + link.json()["url"].split("/", 3)[3])
    assert report.status_code == 200, report.text[:300]


@pytest.mark.parametrize("value", [1e15, 1e-6, 0.000001 * 3])
async def test_the_domain_edges_are_accepted_and_kept_exactly(
    client: Client, settings: Settings, value: float
) -> None:
    org = await make_org(client)
    await make_survey(client, org, definition=DEFINITION)
    got = await submit(client, org, submission(answers={"n": value}))
    assert got.status_code == 201, got.text
    async with database(settings.database_url) as conn:
        stored = (await conn.execute(sa.text("SELECT value_num FROM answer"))).scalar()
    assert stored == pytest.approx(value, rel=1e-12, abs=0)
