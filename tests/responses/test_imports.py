"""Offline import over the real app: NDJSON and CSV, line-level rejections, no double import."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.api.app import create_app
from feedback.config import Settings
from feedback.responses import imports
from tests.builders.orgs import Org, make_org
from tests.builders.responses import (
    concurrent_client,
    pulse_answers,
    scalar,
    submission,
    submitted,
)
from tests.builders.surveys import MONTHLY, make_survey

Client = AsyncTestClient[Litestar]
DAILY = {"rrule": "FREQ=DAILY", "starts_at": "2026-01-01T00:00:00Z", "timezone": "UTC"}
NDJSON = {"Content-Type": "application/x-ndjson"}
CSV = {"Content-Type": "text/csv"}


def line(submitted_at: str = "2026-03-05T10:00:00Z", **fields: Any) -> str:
    return json.dumps({"submitted_at": submitted_at, "answers": pulse_answers(), **fields})


async def post_import(
    client: Client, org: Org, body: str | bytes, headers: dict[str, str], slug: str = "pulse"
) -> Any:
    return await client.post(
        f"/api/v1/surveys/{slug}/responses/import",
        content=body.encode() if isinstance(body, str) else body,
        headers={**headers, **org.auth("campaigner")},
    )


async def test_ndjson_stores_every_valid_line_and_reports_every_invalid_one(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=DAILY)
    fixed = str(uuid.uuid4())
    body = "\n".join(
        [
            line(response_id=fixed, channel="paper", respondent_ref="crm-7"),
            line(answers=pulse_answers(trust=9)),
            "{not json",
            "",
            line("2025-06-01T00:00:00Z"),
            line(answers=pulse_answers(), version=5),
            line(submitted_at="2026-03-06T09:00:00+01:00", channel="event"),
            json.dumps({"answers": {"trust": 3}}),
        ]
    )
    got = await post_import(client, org, body + "\n", NDJSON)
    assert got.status_code == 200, got.text
    result = got.json()
    assert (result["imported"], result["duplicates"]) == (2, 0)
    assert [(r["line"], r["pointer"]) for r in result["rejected"]] == [
        (2, "/answers/trust"),
        (3, ""),
        (5, "/submitted_at"),
        (6, "/version"),
        (8, "/submitted_at"),
    ]
    listed = (
        await client.get("/api/v1/surveys/pulse/responses", headers=org.auth("analyst"))
    ).json()["items"]
    by_channel = {r["channel"]: r for r in listed}
    assert set(by_channel) == {"paper", "event"}
    paper = by_channel["paper"]
    assert paper["response_id"] == fixed
    assert paper["submitted_at"] == "2026-03-05T10:00:00Z" and paper["wave"] == 64
    assert paper["respondent_id"] is not None
    assert by_channel["event"]["wave"] == 65
    # The ref is hashed like any other; the same ref later names the same respondent.
    assert "crm-7" not in json.dumps(listed)
    again = await client.post(
        "/api/v1/respondents", json={"external_ref": "crm-7"}, headers=org.auth("campaigner")
    )
    assert again.status_code == 409 and again.json()["id"] == paper["respondent_id"]

    resent = (await post_import(client, org, body, NDJSON)).json()
    assert (resent["imported"], resent["duplicates"]) == (0, 2)
    assert len(resent["rejected"]) == 5
    assert await scalar(settings.database_url, "SELECT count(*) FROM response") == 2
    audit = (await client.get("/api/v1/audit", headers=org.auth())).json()["items"]
    imported = [e for e in audit if e["action"] == "responses.imported"]
    assert [e["details"]["imported"] for e in imported] == [2]


async def test_a_reused_response_id_with_other_answers_is_a_rejected_line(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    live = await submitted(client, org)
    body = "\n".join(
        [
            line(response_id=live["response_id"]),
            line(submitted_at="2099-01-01T00:00:00Z"),
        ]
    )
    result = (await post_import(client, org, body, NDJSON)).json()
    assert result["imported"] == 0
    assert [(r["line"], r["pointer"]) for r in result["rejected"]] == [
        (1, "/response_id"),
        (2, "/submitted_at"),
    ]


async def test_a_line_the_survey_refuses_creates_no_respondent(
    client: Client, settings: Settings
) -> None:
    """A line's ref becomes a respondent only with the line's response: a line refused for its
    time or its reused response_id leaves no respondent behind, in a batch that stores others."""
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY | {"wave_duration": "P7D"})
    kept = line("2026-03-03T10:00:00Z", respondent_ref="crm-kept")
    body = "\n".join(
        [
            kept,
            line("2026-03-20T10:00:00Z", respondent_ref="crm-between-waves"),
            line("2026-03-04T10:00:00Z", respondent_ref="crm-kept"),
        ]
    )
    result = (await post_import(client, org, body, NDJSON)).json()
    assert (result["imported"], result["duplicates"]) == (2, 0)
    assert [(r["line"], r["pointer"]) for r in result["rejected"]] == [(2, "/submitted_at")]
    assert await scalar(settings.database_url, "SELECT count(*) FROM respondent") == 1
    reused = json.loads(kept) | {"response_id": str(uuid.uuid4())}
    first = (await post_import(client, org, json.dumps(reused), NDJSON)).json()
    assert first["imported"] == 1
    other = reused | {"answers": pulse_answers(trust=1), "respondent_ref": "crm-reused-id"}
    refused = (await post_import(client, org, json.dumps(other), NDJSON)).json()
    assert [(r["line"], r["pointer"]) for r in refused["rejected"]] == [(1, "/response_id")]
    assert await scalar(settings.database_url, "SELECT count(*) FROM respondent") == 1
    # Re-sending the first file stores nothing and makes no one.
    resent = (await post_import(client, org, body, NDJSON)).json()
    assert (resent["imported"], resent["duplicates"], len(resent["rejected"])) == (0, 2, 1)
    listed = await client.get("/api/v1/respondents", headers=org.auth("admin"))
    assert len(listed.json()["items"]) == 1


async def test_csv_rows_are_responses_and_columns_question_keys(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=DAILY)
    csv_text = (
        "submitted_at,respondent_ref,channel,trust,nps,priority,actions,hours,comment\r\n"
        "2026-02-01T12:00:00Z,crm-1,paper,4,10,housing,petition;donate,1.5,"
        '"Two lines,\nwith a comma"\r\n'
        "2026-02-01T13:00:00Z,,paper,6,,,,,\r\n"
        "2026-02-01T14:00:00Z,,,2,,health,march,,\r\n"
        "2026-02-01T15:00:00Z,,,3,x,,,,\r\n"
        "2026-02-01T16:00:00Z,,too,many,cells,,,,,,\r\n"
    )
    result = (await post_import(client, org, csv_text, CSV)).json()
    assert result["imported"] == 2
    assert [(r["line"], r["pointer"]) for r in result["rejected"]] == [
        (4, "/answers/trust"),
        (6, "/answers/nps"),
        (7, ""),
    ]
    listed = (
        await client.get("/api/v1/surveys/pulse/responses", headers=org.auth("analyst"))
    ).json()["items"]
    first = next(r for r in listed if r["channel"] == "paper")
    assert first["answers"] == {
        "trust": 4,
        "nps": 10,
        "priority": "housing",
        "actions": ["petition", "donate"],
        "hours": 1.5,
        "comment": "Two lines,\nwith a comma",
    }
    assert first["wave"] == 32
    assert next(r for r in listed if r["channel"] == "import")["answers"] == {
        "trust": 2,
        "priority": "health",
        "actions": ["march"],
    }
    resent = (await post_import(client, org, csv_text, CSV)).json()
    assert (resent["imported"], resent["duplicates"]) == (0, 2)


async def test_a_csv_header_must_name_its_columns(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    got = await post_import(client, org, "trust,trust,\r\n3,4,\r\n", CSV)
    assert got.status_code == 422
    assert {e["pointer"] for e in got.json()["errors"]} == {
        "/header/1",
        "/header/2",
        "/header",
    }


async def test_an_export_imports_as_is(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    await make_survey(client, org, slug="copy")
    for trust in (1, 2, 3):
        answers = pulse_answers(trust=trust, comment=f"c{trust}", actions=["march", "donate"])
        await submitted(client, org, submission(answers=answers))
    wide = await client.get(
        "/api/v1/surveys/pulse/export.csv?layout=wide", headers=org.auth("analyst")
    )
    result = (await post_import(client, org, wide.content, CSV, slug="copy")).json()
    assert (result["imported"], result["rejected"]) == (3, [])
    copied = await client.get(
        "/api/v1/surveys/copy/export.csv?layout=wide", headers=org.auth("analyst")
    )

    def answers_by_id(text: str) -> dict[str, tuple[str, ...]]:
        rows = csv.DictReader(io.StringIO(text))
        keys = ("submitted_at", "trust", "nps", "priority", "actions", "hours", "comment")
        return {row["response_id"]: tuple(row[k] for k in keys) for row in rows}

    assert answers_by_id(copied.text) == answers_by_id(wide.text)
    # Re-importing the same export adds nothing.
    again = (await post_import(client, org, wide.content, CSV, slug="copy")).json()
    assert (again["imported"], again["duplicates"]) == (0, 3)


async def test_large_imports_stream_in_batches(app: Litestar, settings: Settings) -> None:
    lines = [
        line(submitted_at="2099-01-01T00:00:00Z") if i == 4321 else line() for i in range(5000)
    ]

    async def chunks() -> AsyncIterator[bytes]:
        data = "\n".join(lines).encode()
        for start in range(0, len(data), 7000):  # chunk edges fall inside lines
            yield data[start : start + 7000]

    async with concurrent_client(app) as client:
        org = await make_org(client)
        await make_survey(client, org, schedule=DAILY)
        got = await client.post(
            "/api/v1/surveys/pulse/responses/import",
            content=chunks(),
            headers={**NDJSON, **org.auth("campaigner")},
        )
        result = got.json()
        assert result["imported"] == 4999
        assert result["rejected"] == [
            {"line": 4322, "pointer": "/submitted_at", "message": "must not be in the future"}
        ]
        audit = (await client.get("/api/v1/audit", headers=org.auth())).json()["items"]
    assert await scalar(settings.database_url, "SELECT count(*) FROM answer") == 4999 * 7
    batches = [e["details"] for e in audit if e["action"] == "responses.imported"]
    assert sum(b["imported"] for b in batches) == 4999 and len(batches) == 3


async def test_import_media_types_roles_and_tenancy(client: Client) -> None:
    org = await make_org(client)
    other = await make_org(client, "other")
    await make_survey(client, org)
    assert (
        await post_import(client, org, "{}", {"Content-Type": "application/json"})
    ).status_code == 415
    assert (await post_import(client, other, line(), NDJSON)).status_code == 404
    analyst = await client.post(
        "/api/v1/surveys/pulse/responses/import",
        content=line(),
        headers={**NDJSON, **org.auth("analyst")},
    )
    assert analyst.status_code == 403


@pytest.fixture
async def small_imports(settings: Settings) -> AsyncIterator[Client]:
    app = create_app(settings.model_copy(update={"import_max_bytes": 4096}))
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield client


async def test_an_import_over_its_cap_is_413(small_imports: Client, settings: Settings) -> None:
    org = await make_org(small_imports)
    await make_survey(small_imports, org)
    body = "\n".join(line() for _ in range(40))
    assert len(body) > 4096
    got = await post_import(small_imports, org, body, NDJSON)
    assert got.status_code == 413
    # A file over the submission cap but under the import cap is fine.
    assert len(line()) * 10 > 1024
    assert (
        await post_import(small_imports, org, "\n".join(line() for _ in range(10)), NDJSON)
    ).status_code == 200


async def test_hostile_lines_are_rejected_where_they_are_and_the_rest_stored(
    client: Client, settings: Settings
) -> None:
    """Bad lines after two thousand good ones (so that a batch is already stored): each is a
    rejected line with its pointer, the request answers 200, and every good line is kept."""
    org = await make_org(client)
    await make_survey(client, org, schedule=DAILY)
    good = [line() for _ in range(2500)]
    bad = {
        "lone surrogate": ('{"submitted_at": "2026-03-05T10:00:00Z", "answers": '
                           '{"comment": "\\ud800"}}', "/answers/comment"),
        "NUL": ('{"submitted_at": "2026-03-05T10:00:00Z", "locale": "en\\u0000", "answers": {}}',
                "/locale"),
        "deep nesting": ('{"answers": ' + "[" * 5000 + "]" * 5000 + "}", ""),
        "version 2^31": (line(version=2**31), "/version"),
        "year 1": (line("0001-01-01T00:00:00+01:00"), "/submitted_at"),
        "year 9999": (line("9999-12-31T23:59:59-05:00"), "/submitted_at"),
    }  # fmt: skip
    body = "\n".join([*good, *(text for text, _ in bad.values())])
    got = await post_import(client, org, body, NDJSON)
    assert got.status_code == 200, got.text
    summary = got.json()
    assert summary["imported"] == len(good)
    rejected = {r["line"]: r["pointer"] for r in summary["rejected"]}
    for offset, (name, (_, where)) in enumerate(bad.items()):
        assert rejected.get(len(good) + 1 + offset) == where, (name, summary["rejected"])
    stored = await scalar(settings.database_url, "SELECT count(*) FROM response")
    assert stored == len(good)


async def test_a_csv_cell_of_thousands_of_digits_is_a_rejected_line(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=DAILY)
    rows = ["submitted_at,version,hours,trust"]
    rows += ["2026-03-05T10:00:00Z,1,2.5,4"] * 3
    rows.append("2026-03-05T10:00:00Z,1," + "9" * 5000 + ",4")
    rows.append("2026-03-05T10:00:00Z," + "9" * 5000 + ",2.5,4")
    got = await post_import(client, org, "\n".join(rows), CSV)
    assert got.status_code == 200, got.text
    summary = got.json()
    assert summary["imported"] == 3
    assert [(r["line"], r["pointer"]) for r in summary["rejected"]] == [
        (5, "/answers/hours"),
        (6, "/version"),
    ]


async def test_a_csv_number_cell_is_ascii_decimals_only(client: Client) -> None:
    """Python reads `1_0` as 10 and other scripts' digits (`３`, `٣`) as 3; a spreadsheet's
    cell meaning those never holds them, so each is its line's refusal, at its column."""
    org = await make_org(client)
    await make_survey(client, org, schedule=DAILY)
    rows = ["submitted_at,hours,trust"]
    rows += [f"2026-03-05T10:00:00Z,{hours},{trust}" for hours, trust in (("1_0", 3), ("1.5", 4))]
    rows += [f"2026-03-05T10:00:00Z,2,{trust}" for trust in ("３", "٣", "1e0", "+2")]
    got = await post_import(client, org, "\n".join(rows), CSV)
    assert got.status_code == 200, got.text
    summary = got.json()
    assert summary["imported"] == 3  # 1.5 hours; trust 1e0 and +2 (plain decimal notation)
    assert [(r["line"], r["pointer"]) for r in summary["rejected"]] == [
        (2, "/answers/hours"),
        (4, "/answers/trust"),
        (5, "/answers/trust"),
    ]


async def test_a_survey_changed_between_imports_stores_each_answer_once(
    client: Client, settings: Settings
) -> None:
    """The writer remembers the survey between batches; after a change it redoes the batch on
    a fresh read, in the same transaction, and the answer rows it had staged (PostgreSQL:
    COPYed into a temporary table) are not stored twice."""
    org = await make_org(client)
    await make_survey(client, org, schedule=DAILY)
    first = await post_import(client, org, "\n".join(line() for _ in range(3)), NDJSON)
    assert first.json()["imported"] == 3
    changed = await client.patch(
        "/api/v1/surveys/pulse", json={"title": "Renamed"}, headers=org.auth("campaigner")
    )
    assert changed.status_code == 200, changed.text
    more = "\n".join(line(response_id=str(uuid.uuid4())) for _ in range(4))
    second = await post_import(client, org, more, NDJSON)
    assert (second.json()["imported"], second.json()["rejected"]) == (4, [])
    assert await scalar(settings.database_url, "SELECT count(*) FROM answer") == 7 * 7
    again = await post_import(client, org, more, NDJSON)
    assert (again.json()["imported"], again.json()["duplicates"]) == (0, 4)
    assert await scalar(settings.database_url, "SELECT count(*) FROM answer") == 7 * 7


async def test_unsafe_text_without_an_escape_is_still_found(client: Client) -> None:
    """Lines are checked for NULs and lone surrogates only when they may hold one: a JSON
    line holding a surrogate's UTF-8 bytes (which json.loads decodes) and a CSV cell holding a
    raw NUL are rejected lines all the same."""
    org = await make_org(client)
    await make_survey(client, org, schedule=DAILY)
    surrogate = line(answers={"x\ud800": 1}).replace("\\ud800", "\ud800")
    body = line().encode() + b"\n" + surrogate.encode("utf-8", "surrogatepass")
    got = (await post_import(client, org, body, NDJSON)).json()
    assert got["imported"] == 1
    assert [(r["line"], r["pointer"]) for r in got["rejected"]] == [(2, "/answers/x\ufffd")]
    at = "2026-03-05T10:00:00Z"
    rows = f"submitted_at,trust,respondent_ref\r\n{at},4,fine\r\n{at},4,a\x00b\r\n"
    got = (await post_import(client, org, rows, CSV)).json()
    assert got["imported"] == 1
    assert [(r["line"], r["pointer"]) for r in got["rejected"]] == [(3, "/respondent_ref")]


async def test_polling_by_since_sees_an_import_that_outlasts_a_live_submission(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every batch of an import was stamped with the instant the import began: a batch stored
    # after a live submission had the earlier `revised_at`, so polling with the last
    # `revised_at` seen (as docs/http-api.md says to) never saw it.
    monkeypatch.setattr(imports, "BATCH_LINES", 2)
    release = asyncio.Event()
    async with concurrent_client(create_app(settings)) as client:
        org = await make_org(client)
        await make_survey(client, org, schedule=DAILY)

        async def chunks() -> AsyncIterator[bytes]:
            yield (line() + "\n" + line(answers=pulse_answers(trust=2)) + "\n").encode()
            await release.wait()
            yield (line(answers=pulse_answers(trust=3)) + "\n").encode()

        url = "/api/v1/surveys/pulse/responses"

        async def listed(**params: str) -> list[dict[str, Any]]:
            got = await client.get(url, params=params, headers=org.auth("analyst"))
            assert got.status_code == 200, got.text
            items: list[dict[str, Any]] = got.json()["items"]
            return items

        importing = asyncio.create_task(
            client.post(
                f"{url}/import", content=chunks(), headers={**NDJSON, **org.auth("campaigner")}
            )
        )
        for _ in range(500):  # the first batch is stored
            if len(await listed()) == 2:
                break
            await asyncio.sleep(0.01)
        live = await submitted(client, org)
        seen = await listed()
        assert seen[-1]["response_id"] == live["response_id"]
        release.set()
        result = await importing
        assert result.json()["imported"] == 3, result.text
        later = await listed(since=seen[-1]["revised_at"])
    assert [r["answers"]["trust"] for r in later] == [4, 3]  # the live one again, and the last
