"""The findings routes: list (filters, locale, pages) and dismiss or reopen."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.config import Settings
from tests.builders.loop import jumps, pulse
from tests.builders.orgs import make_org

Client = AsyncTestClient[Litestar]
FINDINGS = "/api/v1/surveys/pulse/findings"


async def test_list_with_filters_locale_and_pages(client: Client, settings: Settings) -> None:
    org = await make_org(client)
    await pulse(client, org)
    trust_id, petition_id = await jumps(client, org, settings)
    auth = org.auth("analyst")
    listed = await client.get(FINDINGS, headers=auth)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert {(i["question"], i["option"]) for i in items} == {
        ("trust", None),
        ("actions", "petition"),
        ("actions", "march"),
    }
    trust = next(i for i in items if i["id"] == trust_id)
    assert set(trust) >= {
        "id",
        "question",
        "option",
        "kind",
        "wave",
        "direction",
        "figures",
        "sentence",
        "sentences",
        "state",
        "reason",
        "opened_at",
        "state_changed_at",
        "decision_ids",
    }
    assert (trust["kind"], trust["wave"], trust["direction"], trust["state"]) == (
        "change",
        2,
        "increasing",
        "open",
    )
    assert trust["sentence"] == trust["sentences"]["en"]
    assert set(trust["sentences"]) == {"en", "nl", "es"}
    assert trust["reason"] is None and trust["decision_ids"] == []
    assert trust["opened_at"] == "2025-03-02T00:00:00Z"
    assert trust["figures"]["to_estimate"] == 5.0

    dutch = await client.get(f"{FINDINGS}?question=trust&locale=nl", headers=auth)
    assert [i["sentence"] for i in dutch.json()["items"]] == [trust["sentences"]["nl"]]
    assert dutch.json()["items"][0]["sentence"].startswith("‘Vertrouwen dat")
    mexican = await client.get(f"{FINDINGS}?question=trust&locale=es-MX", headers=auth)
    assert mexican.json()["items"][0]["sentence"] == trust["sentences"]["es"]
    unknown_locale = await client.get(f"{FINDINGS}?question=trust&locale=fi", headers=auth)
    assert unknown_locale.json()["items"][0]["sentence"] == trust["sentences"]["en"]

    none = await client.get(f"{FINDINGS}?state=dismissed", headers=auth)
    assert none.json() == {"items": [], "next_cursor": None}
    bad_question = await client.get(f"{FINDINGS}?question=nope", headers=auth)
    assert bad_question.status_code == 422
    assert [e["pointer"] for e in bad_question.json()["errors"]] == ["/question"]
    bad_state = await client.get(f"{FINDINGS}?state=closed", headers=auth)
    assert bad_state.status_code == 422
    # Named as the client sent it, not as the handler's argument (`finding_state`).
    assert [(e["pointer"], e["source"]) for e in bad_state.json()["errors"]] == [
        ("/state", "query")
    ]

    seen: list[str] = []
    cursor = None
    while True:
        page = await client.get(
            FINDINGS, params={"limit": 1, **({"cursor": cursor} if cursor else {})}, headers=auth
        )
        body = page.json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [i["id"] for i in items]
    assert petition_id in seen


async def test_dismiss_and_reopen(client: Client, settings: Settings) -> None:
    org = await make_org(client)
    await pulse(client, org)
    trust_id, _ = await jumps(client, org, settings)
    url = f"{FINDINGS}/{trust_id}"
    campaigner = org.auth("campaigner")

    no_reason = await client.patch(url, json={"state": "dismissed"}, headers=campaigner)
    assert no_reason.status_code == 422
    assert [e["pointer"] for e in no_reason.json()["errors"]] == ["/reason"]
    blank = await client.patch(url, json={"state": "dismissed", "reason": "  "}, headers=campaigner)
    assert blank.status_code == 422
    answered = await client.patch(url, json={"state": "answered"}, headers=campaigner)
    assert answered.status_code == 422
    assert (
        await client.patch(url, json={"state": "open"}, headers=org.auth("analyst"))
    ).status_code == 403

    dismissed = await client.patch(
        url, json={"state": "dismissed", "reason": "A one-off: the March gala"}, headers=campaigner
    )
    assert dismissed.status_code == 200, dismissed.text
    got = dismissed.json()
    assert (got["state"], got["reason"]) == ("dismissed", "A one-off: the March gala")
    assert got["state_changed_at"] is not None
    listed = await client.get(f"{FINDINGS}?state=dismissed", headers=org.auth("analyst"))
    assert [i["id"] for i in listed.json()["items"]] == [trust_id]

    reopened = await client.patch(url, json={"state": "open"}, headers=campaigner)
    assert reopened.status_code == 200
    assert (reopened.json()["state"], reopened.json()["reason"]) == ("open", None)

    missing = await client.patch(
        f"{FINDINGS}/00000000-0000-4000-8000-000000000000",
        json={"state": "open"},
        headers=campaigner,
    )
    assert missing.status_code == 404
    actions = [
        e["action"] for e in (await client.get("/api/v1/audit", headers=org.auth())).json()["items"]
    ]
    assert actions[:2] == ["finding.reopened", "finding.dismissed"]
