"""Authoring requests sent at once (two campaigners, a double click, a script retrying) never
fail with a 500 and never change a published version: they run one after the other. The races
need concurrent writers, so they bite on PostgreSQL; on SQLite the same requests queue on the
write lock and the tests check the answers are the same."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Litestar

from tests.builders.orgs import make_org
from tests.builders.responses import concurrent_client
from tests.builders.surveys import make_survey, pulse_definition

ROUNDS = 5


async def test_saving_a_draft_while_it_is_published_never_rewrites_the_version(
    app: Litestar,
) -> None:
    async with concurrent_client(app) as client:
        org = await make_org(client)
        await make_survey(client, org)
        campaigner = org.auth("campaigner")
        seen: dict[int, Any] = {}
        for round_ in range(ROUNDS):
            first = pulse_definition()
            first["questions"][1]["label"] = f"Would you recommend us? ({round_})"
            saved = await client.put(
                "/api/v1/surveys/pulse/draft", json={"definition": first}, headers=campaigner
            )
            assert saved.status_code == 200, saved.text
            second = pulse_definition()
            second["questions"][1]["label"] = f"Would you tell a friend about us? ({round_})"
            # The publish freezes the draft while the second save replaces it.
            published, resaved = await asyncio.gather(
                client.post("/api/v1/surveys/pulse/publish", json={}, headers=campaigner),
                client.put(
                    "/api/v1/surveys/pulse/draft", json={"definition": second}, headers=campaigner
                ),
            )
            assert published.status_code in (201, 409), published.text
            assert resaved.status_code in (200, 409), resaved.text
            versions = await client.get(
                "/api/v1/surveys/pulse/versions", headers=org.auth("analyst")
            )
            by_number = {v["version"]: v for v in versions.json()}
            for number, definition in seen.items():
                assert by_number[number]["definition"] == definition, number  # never rewritten
            if published.status_code == 201:
                number = published.json()["version"]
                seen[number] = by_number[number]["definition"]
                # The save ran before the publish (and was published) or after it (and made the
                # next draft); never in between.
                expected = {number: second, number + 1: first}
                if resaved.status_code == 200:
                    label = seen[number]["questions"][1]["label"]
                    assert label == expected[resaved.json()["version"]]["questions"][1]["label"]
            await client.delete("/api/v1/surveys/pulse/draft", headers=campaigner)


async def test_publishing_at_once_mints_one_version(app: Litestar) -> None:
    async with concurrent_client(app) as client:
        org = await make_org(client)
        await make_survey(client, org)
        campaigner = org.auth("campaigner")
        for round_ in range(ROUNDS):
            definition = pulse_definition()
            definition["questions"][1]["label"] = f"Would you recommend us? ({round_})"
            saved = await client.put(
                "/api/v1/surveys/pulse/draft", json={"definition": definition}, headers=campaigner
            )
            assert saved.status_code == 200, saved.text
            answers = await asyncio.gather(
                *(
                    client.post("/api/v1/surveys/pulse/publish", json={}, headers=campaigner)
                    for _ in range(4)
                )
            )
            statuses = sorted(a.status_code for a in answers)
            assert statuses == [201, 409, 409, 409], [a.text for a in answers]
        versions = await client.get("/api/v1/surveys/pulse/versions", headers=org.auth("analyst"))
        assert [v["version"] for v in versions.json()] == list(range(1, ROUNDS + 2))
