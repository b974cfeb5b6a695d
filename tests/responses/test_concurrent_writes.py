"""Imports and submissions that overlap (the same respondents, waves and response ids, in
different orders, at the same time) neither deadlock nor lose nor double anything."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar

from feedback.clock import Clock, fixed_clock
from feedback.config import Settings
from tests.builders.orgs import make_org
from tests.builders.responses import concurrent_client, pulse_answers, scalar, submission
from tests.builders.surveys import make_survey

NOW = datetime(2026, 6, 20, 12, 0, tzinfo=UTC)
WEEKLY = {"rrule": "FREQ=WEEKLY", "starts_at": "2026-01-05T00:00:00Z", "timezone": "UTC"}
ROUNDS = 4
IMPORTS = 4
LINES = 700
REFS = 300


@pytest.fixture
def clock() -> Clock:
    return fixed_clock(NOW)


def import_line(rng: random.Random) -> str:
    """A respondent's answer in one of several weekly waves."""
    at = NOW - timedelta(days=rng.randint(1, 150), minutes=rng.randint(0, 1000))
    return json.dumps(
        {
            "response_id": str(uuid.uuid4()),
            "submitted_at": at.isoformat(),
            "respondent_ref": f"crm-{rng.randrange(REFS)}",
            "answers": pulse_answers(trust=1 + rng.randrange(5)),
        }
    )


async def test_overlapping_imports_and_submissions_account_for_every_line(
    app: Litestar, settings: Settings
) -> None:
    rng = random.Random(7)
    async with concurrent_client(app) as client:
        org = await make_org(client)
        await make_survey(client, org, schedule=WEEKLY)
        headers = {"Content-Type": "application/x-ndjson", **org.auth("campaigner")}
        expected: set[str] = set()
        for _ in range(ROUNDS):
            # Each file shares most of its response ids with the others, in another order, so
            # the same rows are written by batches of different requests at once.
            pool = [import_line(rng) for _ in range(LINES + LINES // 2)]
            files = []
            for _ in range(IMPORTS):
                lines = rng.sample(pool, LINES)
                files.append((lines, "\n".join(lines).encode()))
                expected.update(json.loads(line)["response_id"] for line in lines)

            async def one_import(body: bytes) -> dict[str, Any]:
                got = await client.post(
                    "/api/v1/surveys/pulse/responses/import", content=body, headers=headers
                )
                assert got.status_code == 200, got.text
                out: dict[str, Any] = got.json()
                return out

            async def one_submission() -> httpx.Response:
                body = submission(respondent_token=None)
                expected.add(body["response_id"])
                return await client.post("/api/v1/public/acme/pulse/responses", json=body)

            results = await asyncio.gather(
                *(one_import(body) for _, body in files),
                *(one_submission() for _ in range(60)),
            )
            summaries = [r for r in results if isinstance(r, dict)]
            sent = [r for r in results if isinstance(r, httpx.Response)]
            assert all(r.status_code == 201 for r in sent), [r.text for r in sent][:3]
            for summary in summaries:
                assert summary["rejected"] == []
                assert summary["imported"] + summary["duplicates"] == LINES
            # Every line of every file is stored exactly once however the files raced.
            assert sum(s["imported"] for s in summaries) == len(
                {line for lines, _ in files for line in lines}
            )
        stored = await scalar(settings.database_url, "SELECT count(*) FROM response")
        assert stored == len(expected)
        distinct = await scalar(
            settings.database_url, "SELECT count(DISTINCT response_id) FROM response"
        )
        assert distinct == stored
        refs = await scalar(settings.database_url, "SELECT count(*) FROM respondent")
        assert refs <= REFS
