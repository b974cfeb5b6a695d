"""Every list pages through `feedback.pagination.paginate`: walked one item a page, each list
gives every item once, in its order (oldest first, or newest first for the audit log), and a
cursor of another list's shape is refused at `/cursor`."""

from __future__ import annotations

import base64
import json
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.builders.orgs import Org, make_org
from tests.builders.responses import submitted
from tests.builders.surveys import MONTHLY, make_survey

Client = AsyncTestClient[Litestar]


async def walk(client: Client, path: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        page = await client.get(path, params=params, headers=headers)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


async def test_surveys_decisions_and_audit_page_in_their_order(client: Client) -> None:
    org: Org = await make_org(client)
    for slug in ("gamma", "alpha", "beta"):
        await make_survey(client, org, slug=slug, schedule=MONTHLY)
    surveys = await walk(client, "/api/v1/surveys", org.auth())
    assert [s["slug"] for s in surveys] == ["alpha", "beta", "gamma"]

    for day in (20, 5, 12):
        made = await client.post(
            "/api/v1/surveys/alpha/decisions",
            json={"title": f"on the {day}th", "decided_at": f"2025-03-{day:02d}T10:00:00Z"},
            headers=org.auth("campaigner"),
        )
        assert made.status_code == 201, made.text
    decisions = await walk(client, "/api/v1/surveys/alpha/decisions", org.auth())
    assert [d["decided_at"][:10] for d in decisions] == ["2025-03-05", "2025-03-12", "2025-03-20"]

    audit = await walk(client, "/api/v1/audit", org.auth())
    assert len(audit) == len({e["id"] for e in audit}) >= 6
    instants = [e["at"] for e in audit]
    assert instants == sorted(instants, reverse=True)

    # A surveys cursor (one slug) is not a decisions cursor (an instant and an id).
    first = await client.get("/api/v1/surveys", params={"limit": "1"}, headers=org.auth())
    foreign = first.json()["next_cursor"]
    wrong = await client.get(
        "/api/v1/surveys/alpha/decisions", params={"cursor": foreign}, headers=org.auth()
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["pointer"] == "/cursor"


def _cursor(values: list[Any]) -> str:
    """A cursor as `encode_cursor` spells one, holding whatever a forger put in it."""
    raw = json.dumps(values).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_a_forged_cursor_is_refused_at_cursor_never_a_500(client: Client) -> None:
    org: Org = await make_org(client)
    await make_survey(client, org, settings={"min_n": 1})
    await submitted(client, org)
    at = "2025-01-01T00:00:00+00:00"
    # The right shape, with an id that is no UUID (a number, a list, an object, beyond any
    # float) or a row id that is no 64-bit integer: each made a 500.
    keyed: list[list[Any]] = [[at, 5], [at, [1]], [at, {"a": 1}], [at, 1e400], [at, True]]
    lists = (
        "/api/v1/keys",
        "/api/v1/audit",
        "/api/v1/respondents",
        "/api/v1/surveys/pulse/responses",
    )
    for path in lists:
        for values in keyed:
            got = await client.get(path, params={"cursor": _cursor(values)}, headers=org.auth())
            assert got.status_code == 422, (path, values, got.text)
            assert got.json()["errors"][0]["pointer"] == "/cursor"
    texts = "/api/v1/surveys/pulse/questions/comment/texts"
    ids: list[list[Any]] = [[1e400], [2**70], [-(2**70)], [True], [1.5], ["1"]]
    for values in ids:
        params = {"wave": "1", "cursor": _cursor(values)}
        got = await client.get(texts, params=params, headers=org.auth())
        assert got.status_code == 422, (values, got.text)
        assert got.json()["errors"][0]["pointer"] == "/cursor"
