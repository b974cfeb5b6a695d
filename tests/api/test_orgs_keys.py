"""Organisations, keys, roles and the audit log over the real app."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import create_async_engine

from feedback.api import app as app_module
from feedback.api.surveys import SurveyController
from feedback.config import Settings
from feedback.orgs.keys import hash_secret, split_key
from tests.builders.orgs import make_org
from tests.conftest import ADMIN_TOKEN

Client = AsyncTestClient[Litestar]


async def test_create_org_needs_the_instance_admin_token(client: Client) -> None:
    body = {"slug": "acme", "name": "Acme"}
    assert (await client.post("/api/v1/orgs", json=body)).status_code == 401
    wrong = await client.post("/api/v1/orgs", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"].startswith("application/problem+json")
    ok = await client.post(
        "/api/v1/orgs", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert ok.status_code == 201
    assert ok.json()["slug"] == "acme" and ok.json()["admin_key"].startswith("fbk_")
    again = await client.post(
        "/api/v1/orgs", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert again.status_code == 409


async def test_org_slug_is_validated_with_a_pointer(client: Client) -> None:
    bad = await client.post(
        "/api/v1/orgs",
        json={"slug": "Not A Slug", "name": "x"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert bad.status_code == 422
    assert [e["pointer"] for e in bad.json()["errors"]] == ["/slug"]


async def test_get_org_with_each_role(client: Client) -> None:
    org = await make_org(client)
    for role in ("admin", "campaigner", "analyst"):
        got = await client.get("/api/v1/org", headers=org.auth(role))
        assert got.status_code == 200
        assert got.json()["slug"] == "acme"


async def test_keys_are_hashed_at_rest(client: Client, settings: Settings) -> None:
    org = await make_org(client)
    engine = create_async_engine(settings.database_url)
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT prefix, secret_hash FROM api_key"))).all()
        dump = " ".join(str(v) for row in rows for v in row)
    await engine.dispose()
    for key in (org.admin, org.campaigner, org.analyst):
        parts = split_key(key)
        assert parts is not None
        prefix, secret = parts
        assert secret not in dump and key not in dump
        assert (prefix, hash_secret(secret)) in [tuple(r) for r in rows]


async def test_key_list_never_shows_secrets_and_revocation_is_immediate(client: Client) -> None:
    org = await make_org(client)
    listed = await client.get("/api/v1/keys", headers=org.auth())
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert len(items) == 3 and listed.json()["next_cursor"] is None
    assert all("key" not in item and "secret_hash" not in item for item in items)
    analyst = next(i for i in items if i["role"] == "analyst")
    assert (await client.get("/api/v1/org", headers=org.auth("analyst"))).status_code == 200
    revoked = await client.delete(f"/api/v1/keys/{analyst['id']}", headers=org.auth())
    assert revoked.status_code == 204
    after = await client.get("/api/v1/org", headers=org.auth("analyst"))
    assert after.status_code == 401
    assert after.headers["content-type"].startswith("application/problem+json")


async def test_key_list_paginates(client: Client) -> None:
    org = await make_org(client)
    for i in range(4):
        await client.post(
            "/api/v1/keys", json={"name": f"k{i}", "role": "analyst"}, headers=org.auth()
        )
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/keys", params=params, headers=org.auth())).json()
        seen += [k["id"] for k in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 == len(set(seen))
    bad = await client.get("/api/v1/keys", params={"cursor": "garbage!"}, headers=org.auth())
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/cursor"
    too_many = await client.get("/api/v1/keys", params={"limit": "501"}, headers=org.auth())
    assert too_many.status_code == 422


async def test_role_limits(client: Client) -> None:
    org = await make_org(client)
    for role in ("campaigner", "analyst"):
        assert (await client.get("/api/v1/keys", headers=org.auth(role))).status_code == 403
        made = await client.post(
            "/api/v1/keys", json={"name": "x", "role": "admin"}, headers=org.auth(role)
        )
        assert made.status_code == 403
        assert made.json()["status"] == 403
        assert (await client.get("/api/v1/audit", headers=org.auth(role))).status_code == 403


async def test_missing_or_malformed_key_is_401(client: Client) -> None:
    assert (await client.get("/api/v1/org")).status_code == 401
    for header in ("Bearer", "Basic abc", "Bearer fbk_short_x", "Bearer fbk_0123456789ab_wrong"):
        got = await client.get("/api/v1/org", headers={"Authorization": header})
        assert got.status_code == 401, header


def test_the_app_refuses_a_keyed_route_outside_the_guard(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    # The public routes live in a router without api_guard; a keyed controller put there by
    # mistake would be open to anyone, so the app does not start.
    monkeypatch.setattr(app_module, "API_V1_PUBLIC", [*app_module.API_V1_PUBLIC, SurveyController])
    monkeypatch.setattr(
        app_module, "API_V1", [c for c in app_module.API_V1 if c is not SurveyController]
    )
    with pytest.raises(RuntimeError, match="not under api_guard"):
        app_module.create_app(settings)


async def test_audit_log_records_changes_newest_first(client: Client) -> None:
    org = await make_org(client)
    keys = (await client.get("/api/v1/keys", headers=org.auth())).json()["items"]
    analyst = next(k for k in keys if k["role"] == "analyst")
    await client.delete(f"/api/v1/keys/{analyst['id']}", headers=org.auth())
    audit = await client.get("/api/v1/audit", headers=org.auth())
    assert audit.status_code == 200
    events = audit.json()["items"]
    actions = [e["action"] for e in events]
    assert actions[0] == "key.revoked"
    assert actions.count("key.created") == 3 and "org.created" in actions
    revoked = events[0]
    assert revoked["object_id"] == analyst["id"] and revoked["actor"] == "key:admin"
    assert revoked["actor_key_id"] is not None
    ats = [e["at"] for e in events]
    assert ats == sorted(ats, reverse=True)


async def test_a_rejected_request_writes_no_audit_event(client: Client) -> None:
    org = await make_org(client)
    before = len((await client.get("/api/v1/audit", headers=org.auth())).json()["items"])
    bad = await client.post("/api/v1/keys", json={"name": "", "role": "boss"}, headers=org.auth())
    assert bad.status_code == 422
    assert {e["pointer"] for e in bad.json()["errors"]} == {"/name", "/role"}
    after = len((await client.get("/api/v1/audit", headers=org.auth())).json()["items"])
    assert after == before


async def test_the_last_admin_key_cannot_be_revoked(client: Client) -> None:
    # Revoking it left the organisation with no key that may manage keys, read the audit log
    # or erase a respondent, and no way back through the API.
    org = await make_org(client)
    keys = (await client.get("/api/v1/keys", headers=org.auth())).json()["items"]
    first = next(k for k in keys if k["role"] == "admin")
    refused = await client.delete(f"/api/v1/keys/{first['id']}", headers=org.auth())
    assert refused.status_code == 409, refused.text
    assert (await client.get("/api/v1/org", headers=org.auth())).status_code == 200
    audit = (await client.get("/api/v1/audit", headers=org.auth())).json()["items"]
    assert "key.revoked" not in [e["action"] for e in audit]
    # With a second admin key, either may go, and then the other is the last.
    second = await client.post(
        "/api/v1/keys", json={"name": "second", "role": "admin"}, headers=org.auth()
    )
    assert second.status_code == 201
    other = {"Authorization": f"Bearer {second.json()['key']}"}
    revoked = await client.delete(f"/api/v1/keys/{first['id']}", headers=other)
    assert revoked.status_code == 204
    assert (await client.get("/api/v1/org", headers=org.auth())).status_code == 401
    last = await client.delete(f"/api/v1/keys/{second.json()['id']}", headers=other)
    assert last.status_code == 409
    # Other roles' keys are revoked as before.
    analyst = next(k for k in keys if k["role"] == "analyst")
    assert (await client.delete(f"/api/v1/keys/{analyst['id']}", headers=other)).status_code == 204


async def test_a_key_with_the_longest_name_can_write(client: Client) -> None:
    # The audit log's actor is `key:` and the key's name (up to 200 characters), in a column of
    # 200: PostgreSQL refused the row, so every change made with such a key answered 500.
    org = await make_org(client)
    name = "n" * 200
    made = await client.post(
        "/api/v1/keys", json={"name": name, "role": "admin"}, headers=org.auth()
    )
    assert made.status_code == 201
    long = {"Authorization": f"Bearer {made.json()['key']}"}
    got = await client.post("/api/v1/keys", json={"name": "x", "role": "analyst"}, headers=long)
    assert got.status_code == 201, got.text
    latest = (await client.get("/api/v1/audit", headers=long)).json()["items"][0]
    assert latest["action"] == "key.created"
    assert latest["actor_key_id"] == made.json()["id"]
    assert latest["actor"] == f"key:{name}"[:200]
