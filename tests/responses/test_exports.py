"""The analyst side: lists, details, streamed exports and the codebook."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from datetime import UTC, datetime

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from feedback.orgs.models import Organisation
from feedback.orgs.principal import Principal
from feedback.responses import exports
from tests.builders.orgs import Org, make_org
from tests.builders.responses import (
    concurrent_client,
    pulse_answers,
    responses_url,
    submission,
    submitted,
)
from tests.builders.surveys import make_survey, publish_version, pulse_definition

Client = AsyncTestClient[Litestar]


async def _two_versions(client: Client) -> tuple[Org, dict[str, str]]:
    """Version 1 (pulse), version 2 (without `comment`, with `mood`); one response on each,
    the first of them revised."""
    org = await make_org(client)
    await make_survey(client, org)
    v2 = pulse_definition()
    v2["questions"] = [q for q in v2["questions"] if q["key"] != "comment"]
    v2["questions"].append(
        {"key": "mood", "type": "rating", "label": "Mood", "scale": {"min": 1, "max": 3}}
    )
    first = submission(answers=pulse_answers(comment="=HYPERLINK(1)", hours=3), channel="embed")
    created = await submitted(client, org, first)
    await publish_version(client, org, "pulse", v2)
    second = submission(version=2, answers={"trust": 5, "mood": 2, "actions": []})
    await submitted(client, org, second)
    revised = await client.put(
        f"{responses_url(org)}/{first['response_id']}",
        json={"version": 2, "answers": {"trust": 1, "mood": 3, "actions": ["donate"]}},
        headers={"X-Edit-Token": created["edit_token"], "If-Match": '"1"'},
    )
    assert revised.status_code == 200
    return org, {"first": first["response_id"], "second": second["response_id"]}


async def test_long_csv_is_one_row_per_current_answer(client: Client) -> None:
    org, ids = await _two_versions(client)
    got = await client.get("/api/v1/surveys/pulse/export.csv", headers=org.auth("analyst"))
    assert got.status_code == 200
    assert got.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="pulse-long.csv"' in got.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert list(rows[0]) == list(exports.LONG_COLUMNS)
    first = [(r["question_key"], r["value"]) for r in rows if r["response_id"] == ids["first"]]
    assert first == [("trust", "1"), ("actions", "donate"), ("mood", "3")]
    assert {
        (r["revision"], r["version"], r["channel"])
        for r in rows
        if r["response_id"] == ids["first"]
    } == {("2", "2", "embed")}
    second = [(r["question_key"], r["value"]) for r in rows if r["response_id"] == ids["second"]]
    # An empty multi-choice answer is an answer (it counts the respondent), with no option.
    assert second == [("trust", "5"), ("actions", ""), ("mood", "2")]
    assert all(r["wave"] == "1" for r in rows)


async def test_wide_csv_is_one_row_per_response_and_a_column_per_key(client: Client) -> None:
    org, ids = await _two_versions(client)
    got = await client.get(
        "/api/v1/surveys/pulse/export.csv", params={"layout": "wide"}, headers=org.auth("analyst")
    )
    reader = csv.DictReader(io.StringIO(got.text))
    assert reader.fieldnames == [
        *("response_id", "revision", "wave", "version", "channel", "submitted_at"),
        *("revised_at", "respondent_id", "locale"),
        *("trust", "nps", "priority", "actions", "hours", "comment", "mood"),
    ]
    rows = {r["response_id"]: r for r in reader}
    assert rows[ids["first"]]["revision"] == "2" and rows[ids["first"]]["actions"] == "donate"
    assert rows[ids["first"]]["comment"] == ""  # version 2 has no comment question
    assert rows[ids["second"]]["mood"] == "2" and rows[ids["second"]]["nps"] == ""


async def test_text_that_a_spreadsheet_would_run_is_defused(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    await submitted(
        client, org, submission(answers=pulse_answers(comment="=1+1", actions=["march", "donate"]))
    )
    wide = await client.get(
        "/api/v1/surveys/pulse/export.csv?layout=wide", headers=org.auth("analyst")
    )
    row = next(csv.DictReader(io.StringIO(wide.text)))
    assert row["comment"] == "'=1+1" and row["actions"] == "march;donate"
    long = await client.get("/api/v1/surveys/pulse/export.csv", headers=org.auth("analyst"))
    assert "'=1+1" in long.text


async def test_ndjson_is_one_object_per_response(client: Client) -> None:
    org, ids = await _two_versions(client)
    got = await client.get("/api/v1/surveys/pulse/export.ndjson", headers=org.auth("analyst"))
    assert got.headers["content-type"].startswith("application/x-ndjson")
    objects = [json.loads(line) for line in got.text.splitlines()]
    by_id = {o["response_id"]: o for o in objects}
    assert set(by_id) == set(ids.values())
    first = by_id[ids["first"]]
    assert {k: first[k] for k in ("wave", "version", "revision", "channel")} == {
        "wave": 1,
        "version": 2,
        "revision": 2,
        "channel": "embed",
    }
    assert first["answers"] == {"trust": 1, "mood": 3, "actions": ["donate"]}


async def test_exports_and_lists_are_the_callers_own(client: Client) -> None:
    await _two_versions(client)
    other = await make_org(client, "other")
    for url in ("export.csv", "export.ndjson", "codebook", "responses"):
        got = await client.get(f"/api/v1/surveys/pulse/{url}", headers=other.auth())
        assert got.status_code == 404, url
    assert (await client.get("/api/v1/surveys/pulse/export.ndjson")).status_code == 401


async def test_the_codebook_lists_every_question_of_every_version(client: Client) -> None:
    org, _ = await _two_versions(client)
    got = await client.get("/api/v1/surveys/pulse/codebook", headers=org.auth("analyst"))
    book = got.json()
    assert book["versions"] == [1, 2]
    by_key = {q["key"]: q for q in book["questions"]}
    assert by_key["comment"]["versions"] == [1] and by_key["mood"]["versions"] == [2]
    assert by_key["trust"]["versions"] == [1, 2]
    assert by_key["trust"]["definitions"][0]["scale"]["min"] == 1
    assert [o["key"] for o in by_key["priority"]["definitions"][1]["options"]] == [
        "climate",
        "housing",
        "health",
    ]
    assert book["columns"][-7:] == [
        "trust",
        "nps",
        "priority",
        "actions",
        "hours",
        "comment",
        "mood",
    ]


async def test_the_list_pages_and_filters_current_revisions(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    made = [await submitted(client, org) for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get(
                "/api/v1/surveys/pulse/responses", params=params, headers=org.auth("analyst")
            )
        ).json()
        seen += [r["response_id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [m["response_id"] for m in made]
    # Revising moves a response to the end of the `since` order, so polling sees it again.
    middle = made[2]
    since = datetime.now(UTC).isoformat()
    await client.put(
        f"{responses_url(org)}/{middle['response_id']}",
        json={"version": 1, "answers": pulse_answers(trust=1)},
        headers={"X-Edit-Token": middle["edit_token"]},
    )
    changed = (
        await client.get(
            "/api/v1/surveys/pulse/responses", params={"since": since}, headers=org.auth("analyst")
        )
    ).json()["items"]
    assert [(r["response_id"], r["revision"]) for r in changed] == [(middle["response_id"], 2)]
    other_wave = await client.get(
        "/api/v1/surveys/pulse/responses", params={"wave": "2"}, headers=org.auth("analyst")
    )
    assert other_wave.json()["items"] == []
    unknown = await client.get(
        "/api/v1/surveys/pulse/responses/6f1c0e4a-0000-4000-8000-000000000000",
        headers=org.auth("analyst"),
    )
    assert unknown.status_code == 404


async def test_a_misspelt_or_repeated_parameter_is_refused_not_ignored(client: Client) -> None:
    # `wav=2` listed every wave, `wave=1&wave=2` one of the two, `layout=long&layout=wide` one
    # layout: each looked like an answer to the question asked.
    org = await make_org(client)
    await make_survey(client, org)
    await submitted(client, org)
    for path, query, name in (
        ("responses", "wav=2", "/wav"),
        ("responses", "wave=1&wave=2", "/wave"),
        ("responses", "since=2025-01-01T00:00:00Z&since=2030-01-01T00:00:00Z", "/since"),
        ("export.csv", "lay=wide", "/lay"),
        ("export.csv", "layout=long&layout=wide", "/layout"),
        ("export.ndjson", "wave=1", "/wave"),
    ):
        got = await client.get(f"/api/v1/surveys/pulse/{path}?{query}", headers=org.auth("analyst"))
        assert got.status_code == 422, (path, query, got.text)
        assert [(e["pointer"], e["source"]) for e in got.json()["errors"]] == [(name, "query")]
    fine = await client.get(
        "/api/v1/surveys/pulse/responses?wave=1&limit=5", headers=org.auth("analyst")
    )
    assert fine.status_code == 200 and len(fine.json()["items"]) == 1


async def test_export_memory_does_not_grow_with_the_number_of_responses(app: Litestar) -> None:
    peaks = []
    async with concurrent_client(app) as client:
        org = await make_org(client)
        await make_survey(client, org)
        async with app.state.sessions() as session:
            org_id = await session.scalar(
                select(Organisation.id).where(Organisation.slug == org.slug)
            )
        principal = Principal.system(org_id, org.slug)
        total = 0
        for target in (exports.PARTITION, 4 * exports.PARTITION):
            lines = [
                {"submitted_at": datetime.now(UTC).isoformat(), "answers": pulse_answers()}
                for _ in range(target - total)
            ]
            imported = await client.post(
                "/api/v1/surveys/pulse/responses/import",
                content="\n".join(json.dumps(line) for line in lines).encode(),
                headers={"Content-Type": "application/x-ndjson", **org.auth("campaigner")},
            )
            assert imported.json()["imported"] == target - total
            total = target
            peaks.append(await _export_peak(app, principal))
    # Four times the responses, about the same memory: one partition at a time.
    assert peaks[1] < 2 * peaks[0], peaks


async def _export_peak(app: Litestar, principal: Principal) -> int:
    sessions = app.state.sessions
    async with sessions() as session:
        export = await exports.export(
            session, sessions, principal=principal, slug="pulse", layout="long"
        )
    tracemalloc.start()
    try:
        size = 0
        async for chunk in export.chunks:
            size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 0
    return peak
