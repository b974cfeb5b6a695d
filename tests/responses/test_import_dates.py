"""An imported answer cannot be dated before the version it answers was published (issue 13,
item 6): the line is rejected at /submitted_at with the publication instant, the others import,
over the real app on both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.config import Settings
from tests.builders.orgs import Org, make_org
from tests.builders.responses import all_text, pulse_answers, scalar
from tests.builders.surveys import make_survey, publish_version, pulse_definition

Client = AsyncTestClient[Litestar]
DAILY = {"rrule": "FREQ=DAILY", "starts_at": "2026-01-01T00:00:00Z", "timezone": "UTC"}
V1 = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
V2 = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
TOO_EARLY = "00000000-0000-4000-8000-00000000dead"


def line(submitted_at: str, **fields: Any) -> str:
    return json.dumps({"submitted_at": submitted_at, "answers": pulse_answers(), **fields})


async def imported(client: Client, org: Org, body: str, content_type: str) -> Any:
    got = await client.post(
        "/api/v1/surveys/pulse/responses/import",
        content=body.encode(),
        headers={"Content-Type": content_type, **org.auth("campaigner")},
    )
    assert got.status_code == 200, got.text
    return got.json()


async def two_versions(client: Client) -> Org:
    """Version 1 published at V1, version 2 (a reworded question) at V2."""
    org = await make_org(client)
    await make_survey(client, org, schedule=DAILY, published_at=V1)
    v2 = pulse_definition()
    v2["questions"][0]["label"] = "I trust the organisation to listen to me"
    await publish_version(client, org, "pulse", v2, at=V2)
    return org


async def test_a_line_dated_before_its_version_is_rejected_and_the_rest_import(
    client: Client, settings: Settings
) -> None:
    org = await two_versions(client)
    body = "\n".join(
        [
            line("2026-03-05T09:59:59Z", version=1, response_id=TOO_EARLY),
            line("2026-03-05T10:00:00Z", version=1),  # exactly at publication
            # Before V2 on its local calendar, after it in UTC (11:30Z).
            line("2026-03-09T23:30:00-12:00", version=2),
            # After V2 on its local calendar, before it in UTC (05:00Z).
            line("2026-03-10T19:00:00+14:00", version=2),
            line("2026-03-08T12:00:00Z"),  # no version: the current one, version 2
            line("2026-03-08T12:00:00Z", version=1),
        ]
    )
    result = await imported(client, org, body + "\n", "application/x-ndjson")
    assert (result["imported"], result["duplicates"]) == (3, 0)
    assert result["rejected"] == [
        {
            "line": 1,
            "pointer": "/submitted_at",
            "message": "is before version 1 was published (2026-03-05T10:00:00Z)",
        },
        {
            "line": 4,
            "pointer": "/submitted_at",
            "message": "is before version 2 was published (2026-03-10T10:00:00Z)",
        },
        {
            "line": 5,
            "pointer": "/submitted_at",
            "message": "is before version 2, the current one, was published "
            "(2026-03-10T10:00:00Z): name the version it answered in `version`",
        },
    ]
    stored = await client.get("/api/v1/surveys/pulse/responses", headers=org.auth("analyst"))
    assert sorted((r["version"], r["submitted_at"]) for r in stored.json()["items"]) == [
        (1, "2026-03-05T10:00:00Z"),
        (1, "2026-03-08T12:00:00Z"),
        (2, "2026-03-10T11:30:00Z"),
    ]
    assert await scalar(settings.database_url, "SELECT count(*) FROM response") == 3
    assert TOO_EARLY not in await all_text(settings.database_url)


async def test_a_csv_row_dated_before_its_version_is_rejected(client: Client) -> None:
    org = await two_versions(client)
    csv_text = (
        "submitted_at,version,trust\r\n"
        "2026-03-10T09:00:00Z,2,4\r\n"
        "2026-03-10T09:00:00Z,1,4\r\n"
        "2026-03-10T11:59:00+02:00,2,5\r\n"
    )
    result = await imported(client, org, csv_text, "text/csv")
    assert result["imported"] == 1
    assert [(r["line"], r["pointer"], r["message"]) for r in result["rejected"]] == [
        (2, "/submitted_at", "is before version 2 was published (2026-03-10T10:00:00Z)"),
        (4, "/submitted_at", "is before version 2 was published (2026-03-10T10:00:00Z)"),
    ]
