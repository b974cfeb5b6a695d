"""The supporters' pages answer every refusal with a page in the supporter's language, never
with problem+json: too large, wrong media type, too many requests, not yet published, a method
a page does not take, a path under /f/ or /r/ that names no page."""

from __future__ import annotations

import uuid

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.api.app import create_app
from feedback.config import Settings
from tests.builders.orgs import make_org
from tests.builders.surveys import make_survey

Client = AsyncTestClient[Litestar]
FORM_TYPE = {"Content-Type": "application/x-www-form-urlencoded"}


def assert_page(got: httpx.Response, status: int, lang: str) -> None:
    assert got.status_code == status, got.text[:200]
    assert got.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}"' in got.text
    assert "default-src 'none'" in got.headers["content-security-policy"]


async def test_a_body_too_large_and_the_wrong_media_type_are_pages(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"max_body_bytes": 2048}))
    async with AsyncTestClient(app=app) as client:
        org = await make_org(client)
        await make_survey(client, org)
        url = f"/f/{org.slug}/pulse"
        big = await client.post(
            url, content=f"comment={'x' * 5000}", headers=FORM_TYPE | {"Accept-Language": "nl"}
        )
        assert_page(big, 413, "nl")
        assert "te lang" in big.text
        json_body = await client.post(url, json={"comment": "x"}, headers={"Accept-Language": "fr"})
        assert_page(json_body, 415, "fr")


async def test_too_many_requests_is_a_page_that_says_when_to_try_again(
    settings: Settings,
) -> None:
    app = create_app(settings.model_copy(update={"public_rate_limit": 2}))
    async with AsyncTestClient(app=app) as client:
        org = await make_org(client)
        await make_survey(client, org)
        pages = [await client.get(f"/f/{org.slug}/pulse?locale=es") for _ in range(4)]
        refused = pages[-1]
        assert_page(refused, 429, "es")
        wait = int(refused.headers["retry-after"])
        assert wait >= 1 and f"{wait} segundos" in refused.text


async def test_a_survey_not_yet_published_says_so_in_its_language(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org, default_locale="es", publish=False)
    shown = await client.get(f"/f/{org.slug}/pulse")
    assert_page(shown, 404, "es")
    assert "aún no está abierta" in shown.text
    sent = await client.post(
        f"/f/{org.slug}/pulse",
        content=f"_version=1&_response_id={uuid.uuid4()}&comment=hola",
        headers=FORM_TYPE,
    )
    assert_page(sent, 404, "es")
    assert "aún no está abierta" in sent.text


async def test_a_malformed_query_and_an_unknown_survey_are_pages(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    long_locale = await client.get(f"/f/{org.slug}/pulse?locale={'x' * 50}")
    assert_page(long_locale, 400, "en")
    for url in (f"/f/{org.slug}/nope", f"/r/{org.slug}/nope", f"/f/{org.slug}%00/pulse"):
        missing = await client.get(url, headers={"Accept-Language": "de"})
        assert_page(missing, 404, "de")


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize(("page", "allowed"), [("f", "GET, HEAD, POST"), ("r", "GET, HEAD")])
async def test_a_method_a_page_does_not_take_is_a_405_page(
    client: Client, method: str, page: str, allowed: str
) -> None:
    # Refused by the router before any page's controller is chosen: the app's table answers.
    org = await make_org(client)
    await make_survey(client, org)
    got = await client.request(
        method, f"/{page}/{org.slug}/pulse", headers={"Accept-Language": "nl"}
    )
    assert_page(got, 405, "nl")
    assert "Deze pagina kon niet worden getoond" in got.text
    methods = {m.strip() for m in got.headers["allow"].split(",")} - {"OPTIONS"}
    assert methods == set(allowed.split(", "))


@pytest.mark.parametrize(
    "path", ["/f", "/f/acme", "/f/acme/pulse/extra", "/r/acme", "/r/acme/pulse/x"]
)
async def test_a_path_under_the_pages_that_names_no_page_is_a_404_page(
    client: Client, path: str
) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    got = await client.get(path, headers={"Accept-Language": "de"})
    assert_page(got, 404, "de")
    head = await client.head(path, headers={"Accept-Language": "de"})
    assert (head.status_code, head.content) == (404, b"")
    assert head.headers["content-type"] == got.headers["content-type"]
