"""Decisions: recorded against a survey, validated against its questions, audited."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.builders.orgs import make_org
from tests.builders.surveys import MONTHLY, make_survey

Client = AsyncTestClient[Litestar]


async def test_create_list_get_patch(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    made = await client.post(
        "/api/v1/surveys/pulse/decisions",
        json={
            "title": "Reply to every supporter email within a week",
            "description": "Trust was falling.",
            "decided_at": "2025-03-15T10:00:00+01:00",
            "question_keys": ["trust", "trust"],
            "public": True,
        },
        headers=org.auth("campaigner"),
    )
    assert made.status_code == 201, made.text
    decision = made.json()
    assert decision["question_keys"] == ["trust"]
    assert decision["decided_at"] == "2025-03-15T09:00:00Z"
    listed = await client.get("/api/v1/surveys/pulse/decisions", headers=org.auth("analyst"))
    assert [d["id"] for d in listed.json()["items"]] == [decision["id"]]
    url = f"/api/v1/surveys/pulse/decisions/{decision['id']}"
    assert (await client.get(url, headers=org.auth("analyst"))).json()["title"].startswith("Reply")
    patched = await client.patch(url, json={"public": False}, headers=org.auth("campaigner"))
    assert patched.status_code == 200 and patched.json()["public"] is False
    actions = [
        e["action"] for e in (await client.get("/api/v1/audit", headers=org.auth())).json()["items"]
    ]
    assert actions[:2] == ["decision.updated", "decision.created"]


async def test_validation_and_roles(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    bad = await client.post(
        "/api/v1/surveys/pulse/decisions",
        json={"title": "", "decided_at": "2025-03-15T10:00:00", "question_keys": ["nope"]},
        headers=org.auth("campaigner"),
    )
    assert bad.status_code == 422
    assert {e["pointer"] for e in bad.json()["errors"]} >= {"/title", "/decided_at"}
    unknown = await client.post(
        "/api/v1/surveys/pulse/decisions",
        json={
            "title": "x",
            "decided_at": "2025-03-15T10:00:00Z",
            "question_keys": ["trust", "nope"],
        },
        headers=org.auth("campaigner"),
    )
    assert unknown.status_code == 422
    assert [e["pointer"] for e in unknown.json()["errors"]] == ["/question_keys/1"]
    analyst = await client.post(
        "/api/v1/surveys/pulse/decisions",
        json={"title": "x", "decided_at": "2025-03-15T10:00:00Z"},
        headers=org.auth("analyst"),
    )
    assert analyst.status_code == 403
    null = await client.post(
        "/api/v1/surveys/pulse/decisions",
        json={"title": "x", "decided_at": "2025-03-15T10:00:00Z"},
        headers=org.auth("campaigner"),
    )
    patched = await client.patch(
        f"/api/v1/surveys/pulse/decisions/{null.json()['id']}",
        json={"title": None},
        headers=org.auth("campaigner"),
    )
    assert patched.status_code == 422
    assert patched.json()["errors"][0]["pointer"] == "/title"
