"""Changing a survey safely: a draft answers what it would change, a break must be confirmed,
an unchanged draft is not published, and a draft can be discarded."""

from __future__ import annotations

import json
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.builders.orgs import Org, make_org
from tests.builders.surveys import make_survey, pulse_definition

Client = AsyncTestClient[Litestar]


async def _put(client: Client, org: Org, definition: dict[str, Any]) -> Any:
    return await client.put(
        "/api/v1/surveys/pulse/draft",
        json={"definition": definition},
        headers=org.auth("campaigner"),
    )


async def _publish(client: Client, org: Org, **body: Any) -> Any:
    return await client.post(
        "/api/v1/surveys/pulse/publish", json=body, headers=org.auth("campaigner")
    )


def _kinds(changes: list[dict[str, Any]]) -> dict[tuple[str, str], bool]:
    return {(c["key"], c["kind"]): c["breaks_series"] for c in changes}


async def _versions(client: Client, org: Org) -> list[dict[str, Any]]:
    got = await client.get("/api/v1/surveys/pulse/versions", headers=org.auth("analyst"))
    assert got.status_code == 200, got.text
    versions: list[dict[str, Any]] = got.json()
    return versions


async def test_a_draft_answers_its_changes_against_the_latest_version(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    v2 = pulse_definition()
    v2["questions"][0]["scale"]["max"] = 7
    v2["questions"][1]["label"] = "Would you recommend us?"
    saved = await _put(client, org, v2)
    assert saved.status_code == 200, saved.text
    assert saved.json()["status"] == "draft"
    assert _kinds(saved.json()["changes"]) == {
        ("trust", "scale_changed"): True,
        ("nps", "reworded"): False,
    }
    # Reading the draft back answers the same changes.
    listed = await _versions(client, org)
    assert listed[-1]["status"] == "draft" and listed[-1]["changes"] == saved.json()["changes"]
    got = await client.get("/api/v1/surveys/pulse/versions/2", headers=org.auth("analyst"))
    assert got.json()["changes"] == saved.json()["changes"]
    # Publishing (confirmed) records the very changes the draft announced.
    published = await _publish(client, org, confirm_breaks=True)
    assert published.status_code == 201, published.text
    assert published.json()["changes"] == saved.json()["changes"]


async def test_a_first_draft_answers_every_question_as_added(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org, publish=False)
    saved = await _put(client, org, pulse_definition())
    assert saved.status_code == 200, saved.text
    keys = [q["key"] for q in pulse_definition()["questions"]]
    assert saved.json()["changes"] == [
        {"key": key, "kind": "added", "breaks_series": False, "detail": detail}
        for key, detail in zip(keys, [c["detail"] for c in saved.json()["changes"]], strict=True)
    ]


async def test_a_break_is_published_only_when_confirmed(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    v2 = pulse_definition()
    v2["questions"][0]["scale"]["max"] = 7  # breaks
    v2["questions"][1]["label"] = "Would you recommend us?"  # does not
    assert (await _put(client, org, v2)).status_code == 200
    for body in ({}, {"confirm_breaks": False}, {"note": "wider"}):
        refused = await _publish(client, org, **body)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert problem["changes"] == [
            {
                "key": "trust",
                "kind": "scale_changed",
                "breaks_series": True,
                "detail": "scale 1..5 → 1..7",
            }
        ]
        assert "confirm_breaks" in problem["detail"]
    # Nothing was published by the refusals.
    assert [v["status"] for v in await _versions(client, org)] == ["published", "draft"]
    survey = (await client.get("/api/v1/surveys/pulse", headers=org.auth())).json()
    assert survey["current_version"] == 1 and survey["draft_version"] == 2
    published = await _publish(client, org, confirm_breaks=True, note="wider")
    assert published.status_code == 201, published.text
    assert published.json()["version"] == 2
    assert _kinds(published.json()["changes"])[("trust", "scale_changed")] is True


async def test_a_change_that_breaks_nothing_needs_no_confirmation(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    v2 = pulse_definition()
    v2["questions"][1]["label"] = "Would you recommend us?"
    assert (await _put(client, org, v2)).status_code == 200
    published = await _publish(client, org)
    assert published.status_code == 201, published.text
    assert published.json()["changes"][0]["kind"] == "reworded"


async def test_a_draft_equal_to_the_latest_version_is_not_published(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    assert (await _put(client, org, pulse_definition())).status_code == 200
    refused = await _publish(client, org, confirm_breaks=True)
    assert refused.status_code == 409, refused.text
    assert "identical to version 1" in refused.json()["detail"]
    assert [v["version"] for v in await _versions(client, org)] == [1, 2]  # the draft stays
    # A change with no kind (`required`) is still a change: it is published, with no entries.
    changed = pulse_definition()
    changed["questions"][0]["required"] = not changed["questions"][0].get("required", False)
    saved = await _put(client, org, changed)
    assert saved.json()["changes"] == []
    published = await _publish(client, org)
    assert published.status_code == 201, published.text
    assert published.json() | {"published_at": None} == {
        "version": 2,
        "published_at": None,
        "changes": [],
    }


async def test_discarding_a_draft(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    v2 = pulse_definition()
    v2["questions"][1]["label"] = "Would you recommend us?"
    assert (await _put(client, org, v2)).status_code == 200
    assert (
        await client.delete("/api/v1/surveys/pulse/draft", headers=org.auth("analyst"))
    ).status_code == 403
    gone = await client.delete("/api/v1/surveys/pulse/draft", headers=org.auth("campaigner"))
    assert gone.status_code == 204 and gone.content == b""
    assert [v["status"] for v in await _versions(client, org)] == ["published"]
    survey = (await client.get("/api/v1/surveys/pulse", headers=org.auth())).json()
    assert survey["draft_version"] is None and survey["current_version"] == 1
    again = await client.delete("/api/v1/surveys/pulse/draft", headers=org.auth("campaigner"))
    assert again.status_code == 404
    assert again.headers["content-type"] == "application/problem+json"
    nothing = await _publish(client, org)
    assert nothing.status_code == 409
    # A new draft takes the number the discarded one had.
    assert (await _put(client, org, v2)).json()["version"] == 2
    audit = (await client.get("/api/v1/audit", headers=org.auth("admin"))).json()["items"]
    assert [e["action"] for e in audit[:3]] == ["draft.saved", "draft.discarded", "draft.saved"]
    assert audit[1]["object_id"] == "pulse/2"


async def test_a_draft_named_by_the_public_settings_is_not_discarded(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    v2 = pulse_definition()
    v2["questions"].append(
        {"key": "energy", "type": "rating", "label": "Energy", "scale": {"min": 1, "max": 5}}
    )
    assert (await _put(client, org, v2)).status_code == 200
    patched = await client.patch(
        "/api/v1/surveys/pulse",
        json={"settings": {"public_questions": ["energy"]}},
        headers=org.auth("campaigner"),
    )
    assert patched.status_code == 200, patched.text
    refused = await client.delete("/api/v1/surveys/pulse/draft", headers=org.auth("campaigner"))
    assert refused.status_code == 409, refused.text
    assert refused.json()["questions"] == ["energy"]
    assert [v["status"] for v in await _versions(client, org)] == ["published", "draft"]


async def test_an_unknown_survey_or_an_archived_one_has_no_draft_to_discard(
    client: Client,
) -> None:
    org = await make_org(client)
    missing = await client.delete("/api/v1/surveys/nope/draft", headers=org.auth("campaigner"))
    assert missing.status_code == 404
    await make_survey(client, org, publish=False)
    archived = await client.post("/api/v1/surveys/pulse/archive", headers=org.auth("campaigner"))
    assert archived.status_code == 200
    refused = await client.delete("/api/v1/surveys/pulse/draft", headers=org.auth("campaigner"))
    assert refused.status_code == 409
    assert [v["status"] for v in await _versions(client, org)] == ["draft"]


async def test_the_document_describes_the_refusal_of_a_break(client: Client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    problem = document["components"]["schemas"]["Problem"]["properties"]
    assert problem["changes"]["items"] == {"$ref": "#/components/schemas/ChangeRead"}
    publish = document["paths"]["/api/v1/surveys/{slug}/publish"]["post"]
    body = publish["requestBody"]["content"]["application/json"]["schema"]
    assert "#/components/schemas/PublishIn" in json.dumps(body)
    assert "confirm_breaks" in document["components"]["schemas"]["PublishIn"]["properties"]
    assert "409" in publish["responses"]
    discard = document["paths"]["/api/v1/surveys/{slug}/draft"]["delete"]
    assert {"204", "404", "409"} <= set(discard["responses"])
