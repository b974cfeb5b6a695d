"""Every error is problem+json with pointers; nothing leaks a stack trace."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.builders.orgs import make_org

Client = AsyncTestClient[Litestar]


def assert_problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status and body["type"] and body["title"]
    assert "Traceback" not in response.text  # type: ignore[attr-defined]
    return body  # type: ignore[no-any-return]


async def test_malformed_json(client: Client) -> None:
    org = await make_org(client)
    got = await client.post(
        "/api/v1/keys",
        content=b'{"name": "x", "role":',
        headers={**org.auth(), "Content-Type": "application/json"},
    )
    body = assert_problem(got, 400)
    assert body["errors"] == [{"pointer": "", "message": "is not valid JSON"}]


async def test_wrong_types_and_missing_fields(client: Client) -> None:
    org = await make_org(client)
    got = await client.post("/api/v1/keys", json={"name": 5}, headers=org.auth())
    body = assert_problem(got, 422)
    pointers = {e["pointer"] for e in body["errors"]}  # type: ignore[union-attr]
    assert pointers == {"/name", "/role"}
    extra = await client.post(
        "/api/v1/keys", json={"name": "x", "role": "analyst", "admin": True}, headers=org.auth()
    )
    assert {e["pointer"] for e in assert_problem(extra, 422)["errors"]} == {"/admin"}  # type: ignore[union-attr]
    not_object = await client.post("/api/v1/keys", json=[1, 2], headers=org.auth())
    assert_problem(not_object, 422)


async def test_bad_path_parameter(client: Client) -> None:
    org = await make_org(client)
    got = await client.delete("/api/v1/keys/not-a-uuid", headers=org.auth())
    assert got.status_code in (404, 422)
    assert got.headers["content-type"].startswith("application/problem+json")


async def test_unknown_route_and_method(client: Client) -> None:
    assert_problem(await client.get("/api/v1/nothing-here"), 404)
    assert_problem(await client.get("/nothing"), 404)
    assert_problem(await client.put("/api/v1/org"), 405)


async def test_only_the_supporters_pages_answer_the_routers_refusals_with_a_page(
    client: Client,
) -> None:
    # /f/ and /r/ answer with a page (tests/forms/test_page_errors.py); look-alikes do not.
    assert_problem(await client.get("/fr/acme/pulse"), 404)
    assert_problem(await client.get("/api/v1/f/acme"), 404)
    moved = await client.delete("/embed.js")
    assert_problem(moved, 405)
    assert moved.headers["allow"]
    # A HEAD where only GET is taken: the refusal's status and headers, without its body.
    head = await client.head("/api/v1/org")
    assert (head.status_code, head.content) == (405, b"")
    assert head.headers["content-type"].startswith("application/problem+json")


async def test_body_too_large(client: Client) -> None:
    org = await make_org(client)
    big = {"name": "x" * 100_000, "role": "analyst"}
    assert_problem(await client.post("/api/v1/keys", json=big, headers=org.auth()), 413)


async def test_health(client: Client) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


async def test_openapi_schema_is_served(client: Client) -> None:
    spec = await client.get("/schema/openapi.json")
    assert spec.status_code == 200
    assert "/api/v1/keys" in spec.json()["paths"]
    ui = await client.get("/schema/swagger")
    assert ui.status_code == 200 and "html" in ui.headers["content-type"]
