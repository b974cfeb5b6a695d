"""What the fuzzer found (tests/api/test_fuzz.py, RELIABILITY.md "Fuzzing"), kept as plain
regression tests."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.builders.orgs import make_org
from tests.builders.responses import scalar
from tests.builders.surveys import MONTHLY, make_survey

Client = AsyncTestClient[Litestar]


async def test_a_csv_import_of_stray_bytes_is_refused_not_a_500(
    client: Client, database_url: str
) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    got = await client.post(
        "/api/v1/surveys/pulse/responses/import",
        content="3Ã\r".encode() + b"\xf1\x8d\x82\xbb",
        headers={**org.auth("campaigner"), "Content-Type": "text/csv"},
    )
    assert got.status_code < 500, got.text
    assert got.headers["content-type"].startswith("application/"), got.headers
    assert await scalar(database_url, "SELECT count(*) FROM response") == 0


async def test_a_csv_row_that_is_not_csv_is_rejected_with_its_line(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    rows = [
        "submitted_at,trust",
        "2025-01-15T12:00:00Z,4",
        "2025-01-15T12:00:00Z,3\r5",  # a bare carriage return inside an unquoted cell
        "2025-01-15T12:00:00Z," + "9" * 200_000,  # over the csv module's field limit
        "2025-01-15T12:00:00Z,5",
    ]
    got = await client.post(
        "/api/v1/surveys/pulse/responses/import",
        content="\n".join(rows).encode(),
        headers={**org.auth("campaigner"), "Content-Type": "text/csv"},
    )
    assert got.status_code == 200, got.text
    summary = got.json()
    assert summary["imported"] == 2, summary
    assert [(r["line"], r["pointer"]) for r in summary["rejected"]] == [(3, ""), (4, "")]
    assert summary["rejected"][1]["message"] == (
        "is not a CSV row (field larger than field limit (131072))"
    )
