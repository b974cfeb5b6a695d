"""A key never sees another organisation's objects: 404, exactly as for a missing object.

The routes are enumerated from the app itself, so every route added later is covered; a
route whose path parameter or body this test does not know how to fill fails loudly here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.testing import AsyncTestClient

from feedback.loop.models import Finding
from tests.builders.analysis import session_on, survey_row
from tests.builders.orgs import Org, make_org
from tests.builders.responses import make_respondent, submitted
from tests.builders.surveys import MONTHLY, make_survey, pulse_definition

Client = AsyncTestClient[Litestar]

# Bodies that are valid in themselves, so that only the ownership check can refuse them.
SAMPLE_BODIES: dict[str, Any] = {
    "UpdateSurvey": {"title": "Renamed"},
    "PutDraft": {"definition": pulse_definition()},
    "Publish": {},
    "CreateDecision": {"title": "t", "decided_at": "2025-03-01T00:00:00Z"},
    "UpdateDecision": {"title": "t2"},
    "UpdateFinding": {"state": "dismissed", "reason": "seasonal"},
    "UpdateRespondent": {"attributes": {}},
    "CreateReportLink": {"expires_in": 3600},
}

# Required query parameters, valid in themselves.
SAMPLE_QUERIES: dict[str, str] = {
    "GetPanel": "?from_wave=1&to_wave=2",
    "GetDecisionImpact": "?question=trust",
    "ListTextAnswers": "?wave=1",
}

# Routes that take no object of an organisation (creating, listing, the caller's own org).
NOT_OBJECT_ROUTES = {
    "CreateOrg",
    "GetOrg",
    "CreateKey",
    "ListKeys",
    "ListAudit",
    "CreateSurvey",
    "ListSurveys",
    "ImportXlsform",
    "CreateRespondent",
    "ListRespondents",
    "CreateWebhook",
    "ListWebhooks",
}


async def _finding(client: Client, slug: str) -> str:
    """A finding of the survey, stored as a findings check would store it."""
    settings = client.app.state.settings
    async with session_on(settings) as session:
        survey = await survey_row(session, slug)
        finding = Finding(
            org_id=survey.org_id,
            survey_id=survey.id,
            question_key="trust",
            kind="change",
            wave_number=2,
            direction="increasing",
            figures={},
            sentences={"en": "Trust rose."},
            opened_at=datetime(2025, 3, 1, tzinfo=UTC),
        )
        session.add(finding)
        await session.commit()
        return str(finding.id)


async def _world(client: Client) -> tuple[Org, Org, dict[str, str]]:
    a = await make_org(client, "org-a")
    b = await make_org(client, "org-b")
    # Monthly from January 2025, so that decisions dated in 2025 are after its first wave.
    await make_survey(client, a, slug="a-pulse", schedule=MONTHLY)
    keys = (await client.get("/api/v1/keys", headers=a.auth())).json()["items"]
    decision = await client.post(
        "/api/v1/surveys/a-pulse/decisions",
        json={"title": "Act", "decided_at": "2025-03-01T00:00:00Z"},
        headers=a.auth(),
    )
    response = await submitted(client, a, survey="a-pulse")
    respondent = await make_respondent(client, a)
    # A public address literal: no DNS, and not refused as private.
    webhook = await client.post(
        "/api/v1/webhooks",
        json={"url": "https://93.184.215.14/hook", "events": ["response.created"]},
        headers=a.auth(),
    )
    params = {
        "response_id": response["response_id"],
        "respondent_id": respondent["id"],
        "slug": "a-pulse",
        "key_id": keys[0]["id"],
        "number": "1",
        "decision_id": decision.json()["id"],
        "question": "trust",
        "key": "comment",
        "finding_id": await _finding(client, "a-pulse"),
        "webhook_id": webhook.json()["id"],
    }
    return a, b, params


def _object_routes(app: Litestar) -> list[tuple[str, str, str]]:
    out = []
    for route in app.routes:
        if not route.path.startswith("/api/v1") or route.path.startswith("/api/v1/public"):
            continue
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                op = handler.operation_id if isinstance(handler.operation_id, str) else ""
                if op not in NOT_OBJECT_ROUTES:
                    out.append((method, route.path, op))
    return out


def _fill(path: str, params: dict[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in params, f"test_tenancy does not know how to fill {{{name}}} in {path}"
        return params[name]

    return re.sub(r"\{(\w+)(?::\w+)?\}", sub, path)


async def test_every_object_route_is_404_to_another_org(app: Litestar, client: Client) -> None:
    a, b, params = await _world(client)
    routes = _object_routes(app)
    assert len(routes) >= 8
    for method, path, op in routes:
        url = _fill(path, params) + SAMPLE_QUERIES.get(op, "")
        body = SAMPLE_BODIES.get(op)
        kwargs: dict[str, Any] = {"headers": b.auth()}
        if method in {"POST", "PUT", "PATCH"}:
            kwargs["json"] = body if body is not None else {}
        got = await client.request(method, url, **kwargs)
        assert got.status_code == 404, f"{method} {path} ({op}) answered {got.status_code} to org B"
        assert got.headers["content-type"].startswith("application/problem+json")
        # The owner can reach the same object (the 404 is about ownership, not a bad URL).
        if method == "GET":
            own = await client.request(method, url, headers=a.auth())
            assert own.status_code == 200, (
                f"{method} {path} answered {own.status_code} to its owner"
            )


async def test_lists_show_only_the_callers_objects(client: Client) -> None:
    a, b, _ = await _world(client)
    surveys = (await client.get("/api/v1/surveys", headers=b.auth())).json()["items"]
    assert surveys == []
    keys = (await client.get("/api/v1/keys", headers=b.auth())).json()["items"]
    a_keys = (await client.get("/api/v1/keys", headers=a.auth())).json()["items"]
    assert not {k["id"] for k in keys} & {k["id"] for k in a_keys}
    audit = (await client.get("/api/v1/audit", headers=b.auth())).json()["items"]
    assert all(e["object_id"] != "a-pulse" for e in audit)
