"""The OpenAPI document says what the app answers (feedback.api.openapi); test_fuzz.py holds
the app to it, these hold the document to its conventions."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.builders.orgs import make_org
from tests.builders.responses import responses_url, submission, submitted
from tests.builders.surveys import make_survey

Client = AsyncTestClient[Litestar]
PAGES = ("/f/", "/r/")


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "put", "post", "patch", "delete", "options")
    ]


async def test_every_error_answer_is_a_problem_or_a_page(client: Client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    assert document["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status"]
    for method, path, operation in operations(document):
        for status, answer in operation["responses"].items():
            if int(status) < 400:
                continue
            media = answer["content"]
            if path.startswith(PAGES) and method != "OPTIONS":
                assert list(media) == ["text/html"], (method, path, status)
            else:
                assert media == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, (method, path, status)


async def test_keyed_operations_document_their_refusals(client: Client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    keyed = [
        (method, path, op)
        for method, path, op in operations(document)
        if path.startswith("/api/v1/") and "/public/" not in path and method != "OPTIONS"
    ]
    assert len(keyed) > 30
    for method, path, operation in keyed:
        assert "401" in operation["responses"], (method, path)
        if path != "/api/v1/orgs":  # the instance admin's token has no role
            assert "403" in operation["responses"], (method, path)
        if "{" in path:
            assert "404" in operation["responses"], (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "415", "422"} <= set(operation["responses"]), (method, path)


async def test_every_path_documents_options(client: Client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    for path, item in document["paths"].items():
        assert "204" in item["options"]["responses"], path
        allowed = await client.options(path.replace("{", "x").replace("}", ""))
        assert allowed.status_code in (204, 404), path


async def test_head_is_answered_but_documented_as_its_get(client: Client) -> None:
    # The supporters' GET routes answer HEAD too (forms.head_of), as GET without the body; the
    # document lists the GET only.
    document = (await client.get("/schema/openapi.json")).json()
    assert not [path for path, item in document["paths"].items() if "head" in item]
    assert "get" in document["paths"]["/f/{org_slug}/{survey_slug}"]
    assert (await client.head("/embed.js")).status_code == 200


async def test_files_are_documented_in_their_media_type(client: Client) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    media = {
        "/api/v1/surveys/{slug}/export.csv": "text/csv",
        "/api/v1/surveys/{slug}/export.ndjson": "application/x-ndjson",
        "/api/v1/surveys/{slug}/trends/{question}/chart.png": "image/png",
        "/api/v1/surveys/{slug}/trends/{question}/chart.svg": "image/svg+xml",
        "/embed.js": "text/javascript",
        "/form.css": "text/css",
    }
    for path, expected in media.items():
        assert list(paths[path]["get"]["responses"]["200"]["content"]) == [expected], path


async def test_a_missing_required_parameter_is_named(client: Client) -> None:
    """Litestar says which parameter is missing only in prose; the problem names it."""
    org = await make_org(client)
    await make_survey(client, org)
    answered = await submitted(client, org)
    revised = await client.put(
        f"{responses_url(org)}/{answered['response_id']}", json=submission(version=1)
    )
    assert revised.status_code == 422, revised.text
    assert revised.json()["errors"] == [
        {"pointer": "/X-Edit-Token", "message": "is required", "source": "header"}
    ]
    panel = await client.get(
        "/api/v1/surveys/pulse/panel/trust?to_wave=2", headers=org.auth("analyst")
    )
    assert panel.status_code == 422, panel.text
    assert panel.json()["errors"] == [
        {"pointer": "/from_wave", "message": "is required", "source": "query"}
    ]
