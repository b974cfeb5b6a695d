"""Hostile input reaches no 500: each is a 4xx problem that names its field, and nothing of a
rejected request is stored. On both databases (PostgreSQL refuses NUL in text and 32-bit
overflow in integers, so many of these only ever failed there)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.config import Settings
from tests.builders.orgs import Org, make_org
from tests.builders.responses import all_text, pulse_answers, submission
from tests.builders.surveys import MONTHLY, make_survey, pulse_definition
from tests.conftest import ADMIN_TOKEN

Client = AsyncTestClient[Litestar]
DEEP_ARRAY = "[" * 3000 + "]" * 3000
DEEP_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000
MARK = "hostile-mark"


def cursor(values: Any) -> str:
    raw = values if isinstance(values, bytes) else json.dumps(values).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cases(org: Org) -> list[tuple[str, str, str, dict[str, Any], int, str | None]]:
    """(name, method, path, request kwargs, status, the pointer the problem must name)."""
    admin, public = org.auth("admin"), f"/api/v1/public/{org.slug}/pulse"
    survey = {
        "slug": "fresh",
        "title": MARK,
        "default_locale": "en",
        "definition": pulse_definition(),
    }
    json_type = {"Content-Type": "application/json"}
    return [
        (
            "deep array",
            "POST",
            "/api/v1/surveys",
            {"content": DEEP_ARRAY, "headers": admin | json_type},
            400,
            "",
        ),
        (
            "deep object",
            "POST",
            f"{public}/responses",
            {"content": DEEP_OBJECT, "headers": json_type},
            400,
            "",
        ),
        (
            "version 2^31",
            "POST",
            f"{public}/responses",
            {"json": submission(version=2**31)},
            422,
            "/version",
        ),
        (
            "versions/2^31",
            "GET",
            "/api/v1/surveys/pulse/versions/2147483648",
            {"headers": admin},
            422,
            "/number",
        ),
        (
            "wave 2^31",
            "GET",
            "/api/v1/surveys/pulse/responses?wave=2147483648",
            {"headers": admin},
            422,
            "/wave",
        ),
        (
            "panel to_wave 2^31",
            "GET",
            "/api/v1/surveys/pulse/panel/trust?from_wave=1&to_wave=2147483648",
            {"headers": admin},
            422,
            "/to_wave",
        ),
        (
            "NUL slug",
            "POST",
            "/api/v1/surveys",
            {"json": survey | {"slug": "a\x00b"}, "headers": admin},
            422,
            "/slug",
        ),
        (
            "NUL title",
            "POST",
            "/api/v1/surveys",
            {"json": survey | {"title": "x\x00"}, "headers": admin},
            422,
            "/title",
        ),
        (
            "NUL note",
            "PUT",
            "/api/v1/surveys/pulse/draft",
            {"json": {"definition": pulse_definition(), "note": f"{MARK}\x00"}, "headers": admin},
            422,
            "/note",
        ),
        (
            "NUL decision",
            "POST",
            "/api/v1/surveys/pulse/decisions",
            {
                "json": {"title": f"{MARK}\x00", "decided_at": "2025-06-01T00:00:00Z"},
                "headers": admin,
            },
            422,
            "/title",
        ),
        (
            "NUL key name",
            "POST",
            "/api/v1/keys",
            {"json": {"name": f"{MARK}\x00", "role": "analyst"}, "headers": admin},
            422,
            "/name",
        ),
        (
            "NUL org name",
            "POST",
            "/api/v1/orgs",
            {
                "json": {"slug": "other-org", "name": f"{MARK}\x00"},
                "headers": {"Authorization": f"Bearer {ADMIN_TOKEN}"},
            },
            422,
            "/name",
        ),
        (
            "NUL attribute",
            "POST",
            "/api/v1/respondents",
            {"json": {"attributes": {"country": f"{MARK}\x00"}}, "headers": admin},
            422,
            "/attributes/country",
        ),
        (
            "NUL text answer",
            "POST",
            f"{public}/responses",
            {"json": submission(answers=pulse_answers(comment=f"{MARK}\x00"))},
            422,
            "/answers/comment",
        ),
        (
            "NUL in a query",
            "GET",
            "/api/v1/surveys/pulse/trends?segment=a%00b",
            {"headers": admin},
            422,
            "/segment",
        ),
        (
            "decision after 9999 in UTC",
            "POST",
            "/api/v1/surveys/pulse/decisions",
            {"json": {"title": MARK, "decided_at": "9999-12-31T23:59:59-05:00"}, "headers": admin},
            422,
            "/decided_at",
        ),
        (
            "decision in year 1",
            "POST",
            "/api/v1/surveys/pulse/decisions",
            {"json": {"title": MARK, "decided_at": "0001-01-01T00:00:00+01:00"}, "headers": admin},
            422,
            "/decided_at",
        ),
        ("NUL in a path", "GET", "/api/v1/surveys/pu%00lse", {"headers": admin}, 404, None),
        (
            "NUL in a public path",
            "GET",
            f"/api/v1/public/{org.slug}%00/pulse/form",
            {},
            404,
            None,
        ),
        (
            "since without offset",
            "GET",
            "/api/v1/surveys/pulse/responses?since=2020-01-01T00:00:00",
            {"headers": admin},
            422,
            "/since",
        ),
        (
            "since in year 1",
            "GET",
            "/api/v1/surveys/pulse/responses?since=0001-01-01T00:00:00Z",
            {"headers": admin},
            422,
            "/since",
        ),
        (
            "trends from year 1",
            "GET",
            "/api/v1/surveys/pulse/trends?from=0001-01-01",
            {"headers": admin},
            422,
            "/from",
        ),
        (
            "waves to 9999",
            "GET",
            "/api/v1/surveys/pulse/waves?to=9999-12-31",
            {"headers": admin},
            422,
            "/to",
        ),
        (
            "schedule from year 1",
            "PATCH",
            "/api/v1/surveys/pulse",
            {
                "json": {"schedule": MONTHLY | {"starts_at": "0001-01-01T00:00:00+01:00"}},
                "headers": admin,
            },
            422,
            "/schedule/starts_at",
        ),
        (
            "hand-made cursor",
            "GET",
            "/api/v1/surveys?cursor=" + cursor(["x", "y"]),
            {"headers": admin},
            422,
            "/cursor",
        ),
        (
            "deep cursor",
            "GET",
            "/api/v1/keys?cursor=" + cursor(b"[" * 2000 + b"]" * 2000),
            {"headers": admin},
            422,
            "/cursor",
        ),
        (
            "naive cursor",
            "GET",
            "/api/v1/audit?cursor=" + cursor(["2025-01-01T00:00:00", str(uuid.uuid4())]),
            {"headers": admin},
            422,
            "/cursor",
        ),
        (
            "cursor of numbers",
            "GET",
            "/api/v1/surveys/pulse/responses?cursor=" + cursor([1e308, 2**70]),
            {"headers": admin},
            422,
            "/cursor",
        ),
        (
            "settings not an object",
            "PATCH",
            "/api/v1/surveys/pulse",
            {"json": {"settings": [None, None]}, "headers": admin},
            422,
            "/settings",
        ),
        (
            "JSON sent as text/plain",
            "POST",
            "/api/v1/keys",
            {
                "content": json.dumps({"name": MARK, "role": "analyst"}),
                "headers": admin | {"Content-Type": "text/plain"},
            },
            415,
            None,
        ),
        (
            "form body to a JSON route",
            "POST",
            "/api/v1/keys",
            {
                "content": f"name={MARK}&role=analyst",
                "headers": admin | {"Content-Type": "application/x-www-form-urlencoded"},
            },
            415,
            None,
        ),
        (
            "lone surrogate",
            "POST",
            "/api/v1/surveys",
            {
                "content": b'{"slug":"ls","title":"\\ud800","default_locale":"en",'
                b'"definition":{"questions":[]}}',
                "headers": admin | json_type,
            },
            400,
            "",
        ),
    ]


async def test_hostile_requests_are_refused_at_their_field_and_store_nothing(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    before = await all_text(settings.database_url)
    for name, method, path, kwargs, status, where in cases(org):
        got = await client.request(method, path, **kwargs)
        assert got.status_code == status, (name, got.status_code, got.text[:300])
        assert got.headers["content-type"].startswith("application/problem+json"), name
        if where is not None:
            pointers = [e["pointer"] for e in got.json().get("errors", [])]
            assert where in pointers, (name, pointers)
    after = await all_text(settings.database_url)
    assert MARK not in after
    # Reading is all that happened: no row was added (key lookups touch none either).
    assert len(after) == len(before)


async def test_options_answers_every_keyed_route_without_a_key(
    app: Litestar, client: Client
) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    paths = {route.path for route in app.routes if route.path.startswith("/api/v1/")}
    for path in sorted(paths):
        url = (
            path.replace("{slug:str}", "pulse")
            .replace("{org:str}", org.slug)
            .replace("{survey:str}", "pulse")
        )
        for placeholder in ("{response_id:uuid}", "{respondent_id:uuid}", "{decision_id:uuid}"):
            url = url.replace(placeholder, str(uuid.uuid4()))
        url = url.replace("{key_id:uuid}", str(uuid.uuid4())).replace("{number:int}", "1")
        url = url.replace("{question:str}", "trust").replace("{key:str}", "comment")
        got = await client.options(url)
        assert got.status_code < 500, (path, got.status_code, got.text[:200])
        assert "{" not in url or got.status_code == 404, url


@pytest.mark.parametrize("value", ["¹", "٣", "1" * 40, "-1", "0x1"])
async def test_a_tampered_form_version_is_a_page_not_an_error(client: Client, value: str) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    got = await client.post(
        f"/f/{org.slug}/pulse",
        content=f"_version={value}&_response_id={uuid.uuid4()}&trust=4".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert got.status_code in (200, 422), got.text[:300]
    assert got.headers["content-type"].startswith("text/html")
