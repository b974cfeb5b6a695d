"""Decisions: recorded against a survey, validated against its questions, audited."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.api.app import create_app
from feedback.clock import fixed_clock
from feedback.config import Settings
from feedback.loop.models import Decision
from feedback.surveys.models import Survey
from tests.builders.loop import deliveries, jumps, pulse, sessions_on, subscribe
from tests.builders.orgs import Org, make_org
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


NOW = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)
DECISIONS = "/api/v1/surveys/pulse/decisions"
FINDINGS = "/api/v1/surveys/pulse/findings"


@pytest.fixture
async def pinned(settings: Settings) -> AsyncIterator[Client]:
    """A client of an app whose clock reads NOW."""
    app = create_app(settings, clock=fixed_clock(NOW))
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield client


async def _finding(client: Client, org: Org, finding_id: str) -> dict[str, Any]:
    listed = await client.get(FINDINGS, headers=org.auth("analyst"))
    found: dict[str, Any] = next(i for i in listed.json()["items"] if i["id"] == finding_id)
    return found


async def test_localised_texts_and_status(pinned: Client) -> None:
    org = await make_org(pinned)
    await make_survey(pinned, org, schedule=MONTHLY)
    made = await pinned.post(
        DECISIONS,
        json={
            "title": {"en": "Monthly assemblies", "nl": "Maandelijkse bijeenkomsten"},
            "description": {"en": "Each region meets.", "pt-BR": "Cada região se reúne."},
            "decided_at": "2025-02-01T00:00:00Z",
            "status": "in_progress",
        },
        headers=org.auth("campaigner"),
    )
    assert made.status_code == 201, made.text
    decision = made.json()
    assert decision["title"]["nl"] == "Maandelijkse bijeenkomsten"
    assert (decision["status"], decision["public"], decision["published_at"]) == (
        "in_progress",
        False,
        None,
    )
    assert decision["finding_ids"] == []
    assert decision["created_at"] == "2025-03-10T09:30:00Z"
    for body, pointer in (
        ({"title": {"en": ""}}, "/title"),
        ({"title": {}}, "/title"),
        ({"title": {"not a locale": "x"}}, "/title"),
        ({"title": "x" * 201}, "/title"),
        ({"title": {"en": "x" * 201}}, "/title"),
        ({"title": "ok", "description": {"en": " "}}, "/description"),
        ({"title": "ok", "status": "abandoned"}, "/status"),
        ({"title": "ok", "finding_ids": ["not-a-uuid"]}, "/finding_ids/0"),
    ):
        bad = await pinned.post(
            DECISIONS,
            json={"decided_at": "2025-02-01T00:00:00Z", **body},
            headers=org.auth("campaigner"),
        )
        assert bad.status_code == 422, (body, bad.text)
        assert pointer in [e["pointer"] for e in bad.json()["errors"]], (body, bad.text)
    patched = await pinned.patch(
        f"{DECISIONS}/{decision['id']}", json={"status": "done"}, headers=org.auth("campaigner")
    )
    assert patched.json()["status"] == "done"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"title": {"": "Reply to every email"}}, "/title"),
        ({"title": {"en": "Reply to every email", "": "leer"}}, "/title"),
        ({"title": "Reply to every email", "description": {"": "why"}}, "/description"),
    ],
)
async def test_an_empty_locale_key_is_refused(
    client: Client, body: dict[str, Any], pointer: str
) -> None:
    """An empty key is no locale: no reader could ever be shown that text."""
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    got = await client.post(
        DECISIONS,
        json={"decided_at": "2025-02-01T00:00:00Z", **body},
        headers=org.auth("campaigner"),
    )
    assert got.status_code == 422, got.text
    assert [e["pointer"] for e in got.json()["errors"]] == [pointer]
    assert (await client.get(DECISIONS, headers=org.auth("analyst"))).json()["items"] == []


async def test_decided_at_not_before_the_first_wave(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)  # wave 1 opens at 2025-01-01T00:00Z
    early = await client.post(
        DECISIONS,
        json={"title": "Too early", "decided_at": "2024-12-31T23:59:59Z"},
        headers=org.auth("campaigner"),
    )
    assert early.status_code == 422
    assert [e["pointer"] for e in early.json()["errors"]] == ["/decided_at"]
    every = await client.post(
        DECISIONS,
        json={
            "title": "Everything wrong",
            "decided_at": "2024-06-01T00:00:00Z",
            "question_keys": ["nope"],
            "finding_ids": ["00000000-0000-4000-8000-000000000000"],
        },
        headers=org.auth("campaigner"),
    )
    assert every.status_code == 422
    assert sorted(e["pointer"] for e in every.json()["errors"]) == [
        "/decided_at",
        "/finding_ids/0",
        "/question_keys/0",
    ]
    first = await client.post(
        DECISIONS,
        json={"title": "At the opening", "decided_at": "2025-01-01T00:00:00Z"},
        headers=org.auth("campaigner"),
    )
    assert first.status_code == 201, first.text
    moved = await client.patch(
        f"{DECISIONS}/{first.json()['id']}",
        json={"decided_at": "2024-06-01T00:00:00Z"},
        headers=org.auth("campaigner"),
    )
    assert moved.status_code == 422
    assert [e["pointer"] for e in moved.json()["errors"]] == ["/decided_at"]


async def test_decided_at_not_more_than_ten_years_ahead(pinned: Client) -> None:
    """A decision dated centuries ahead is a typo, and every read of the survey's trends (the
    public results too) would walk its schedule up to that date to find the decision's wave."""
    org = await make_org(pinned)
    await make_survey(pinned, org, schedule=MONTHLY)
    campaigner = org.auth("campaigner")
    for decided_at in ("2999-06-01T00:00:00Z", "2035-03-10T09:30:01Z"):
        far = await pinned.post(
            DECISIONS, json={"title": "Far", "decided_at": decided_at}, headers=campaigner
        )
        assert far.status_code == 422, (decided_at, far.text)
        assert [e["pointer"] for e in far.json()["errors"]] == ["/decided_at"]
        assert "2035-03-10T09:30:00" in far.json()["errors"][0]["message"]
    edge = await pinned.post(
        DECISIONS, json={"title": "Edge", "decided_at": "2035-03-10T09:30:00Z"}, headers=campaigner
    )
    assert edge.status_code == 201, edge.text
    moved = await pinned.patch(
        f"{DECISIONS}/{edge.json()['id']}",
        json={"decided_at": "2999-06-01T00:00:00Z"},
        headers=campaigner,
    )
    assert moved.status_code == 422
    assert [e["pointer"] for e in moved.json()["errors"]] == ["/decided_at"]
    assert [
        d["decided_at"] for d in (await pinned.get(DECISIONS, headers=campaigner)).json()["items"]
    ] == ["2035-03-10T09:30:00Z"]


async def test_decisions_stored_at_the_ends_of_time_page_through(
    client: Client, settings: Settings
) -> None:
    """Decisions dated in 2999, or in 3000 once in UTC (2999-12-31T23:00-05:00 was accepted),
    as rows may hold them from before such dates were refused: the list's cursors after them
    read back."""
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    async with sessions_on(settings) as sessions, sessions() as session:
        survey = await session.scalar(sa.select(Survey).where(Survey.slug == "pulse"))
        assert survey is not None
        session.add_all(
            Decision(
                org_id=survey.org_id,
                survey_id=survey.id,
                title=f"Decision {i}",
                decided_at=day,
                question_keys=[],
            )
            for i, day in enumerate(
                (
                    datetime(2025, 3, 1, tzinfo=UTC),
                    datetime(2999, 6, 1, tzinfo=UTC),
                    datetime(3000, 1, 1, 4, tzinfo=UTC),
                    datetime(3000, 1, 1, 5, tzinfo=UTC),
                )
            )
        )
        await session.commit()
    titles, cursor = [], None
    while True:
        params = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        page = await client.get(DECISIONS, params=params, headers=org.auth("analyst"))
        assert page.status_code == 200, page.text
        titles += [d["title"] for d in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert titles == [f"Decision {i}" for i in range(4)]
    # Hand-made cursors at the ends of datetime: a page, or 422 when UTC holds no such instant.
    some_id = "00000000-0000-4000-8000-000000000000"
    for at, status, count in (
        ("0001-01-01T00:00:00+00:00", 200, 4),
        ("9999-12-31T23:59:59+00:00", 200, 0),
        ("9999-12-31T23:00:00-05:00", 422, None),
    ):
        forged = base64.urlsafe_b64encode(json.dumps([at, some_id]).encode()).decode()
        got = await client.get(DECISIONS, params={"cursor": forged}, headers=org.auth())
        assert got.status_code == status, (at, got.text)
        if count is not None:
            assert len(got.json()["items"]) == count


async def test_linking_and_unlinking_findings(pinned: Client, settings: Settings) -> None:
    org = await make_org(pinned)
    await pulse(pinned, org)
    await subscribe(settings, org.slug, ["decision.published", "finding.opened"])
    trust_id, petition_id = await jumps(pinned, org, settings)
    opened_events = len(await deliveries(settings))
    campaigner = org.auth("campaigner")

    # A rejected request changes nothing: no decision, no state, no event.
    other = await make_survey(pinned, org, slug="other", schedule=MONTHLY)
    assert other["slug"] == "other"
    rejected = await pinned.post(
        DECISIONS,
        json={
            "title": "Reply within a week",
            "decided_at": "2025-03-05T00:00:00Z",
            "public": True,
            "finding_ids": [trust_id, "00000000-0000-4000-8000-000000000000"],
        },
        headers=campaigner,
    )
    assert rejected.status_code == 422
    assert [e["pointer"] for e in rejected.json()["errors"]] == ["/finding_ids/1"]
    elsewhere = await pinned.post(
        "/api/v1/surveys/other/decisions",
        json={"title": "x", "decided_at": "2025-03-05T00:00:00Z", "finding_ids": [trust_id]},
        headers=campaigner,
    )
    assert elsewhere.status_code == 422
    assert [e["pointer"] for e in elsewhere.json()["errors"]] == ["/finding_ids/0"]
    assert (await _finding(pinned, org, trust_id))["state"] == "open"
    assert len(await deliveries(settings)) == opened_events
    assert (await pinned.get(DECISIONS, headers=org.auth("analyst"))).json()["items"] == []

    # Public on creation: published now, answered findings, one decision.published event.
    first = await pinned.post(
        DECISIONS,
        json={
            "title": "Reply within a week",
            "decided_at": "2025-03-05T00:00:00Z",
            "public": True,
            "finding_ids": [trust_id, trust_id],
        },
        headers=campaigner,
    )
    assert first.status_code == 201, first.text
    first_id = first.json()["id"]
    assert first.json()["finding_ids"] == [trust_id]
    assert first.json()["published_at"] == "2025-03-10T09:30:00Z"
    trust = await _finding(pinned, org, trust_id)
    assert (trust["state"], trust["decision_ids"]) == ("answered", [first_id])
    events = (await deliveries(settings))[opened_events:]
    assert [e.event_type for e in events] == ["decision.published"]
    data = events[0].payload["data"]
    assert data["decision"]["id"] == first_id and data["survey"] == "pulse"
    assert [f["id"] for f in data["findings"]] == [trust_id]
    assert data["findings"][0]["sentences"]["en"] == trust["sentences"]["en"]

    # An answered finding changes only through its decisions.
    refused = await pinned.patch(
        f"{FINDINGS}/{trust_id}", json={"state": "dismissed", "reason": "x"}, headers=campaigner
    )
    assert refused.status_code == 409
    assert first_id in refused.json()["detail"]

    # A dismissed finding that a decision answers becomes answered.
    dismissed = await pinned.patch(
        f"{FINDINGS}/{petition_id}",
        json={"state": "dismissed", "reason": "Petition season"},
        headers=campaigner,
    )
    assert dismissed.status_code == 200
    second = await pinned.post(
        DECISIONS,
        json={
            "title": "Fewer petitions",
            "decided_at": "2025-03-06T00:00:00Z",
            "finding_ids": [petition_id, trust_id],
        },
        headers=campaigner,
    )
    assert second.status_code == 201, second.text
    second_id = second.json()["id"]
    petition = await _finding(pinned, org, petition_id)
    assert (petition["state"], petition["reason"]) == ("answered", None)
    assert (await _finding(pinned, org, trust_id))["decision_ids"] == [first_id, second_id]

    # Unlinking: a finding another decision still answers stays answered; else it reopens.
    unlinked = await pinned.patch(
        f"{DECISIONS}/{first_id}", json={"finding_ids": []}, headers=campaigner
    )
    assert unlinked.status_code == 200 and unlinked.json()["finding_ids"] == []
    assert (await _finding(pinned, org, trust_id))["state"] == "answered"
    replaced = await pinned.patch(
        f"{DECISIONS}/{second_id}", json={"finding_ids": [petition_id]}, headers=campaigner
    )
    assert replaced.json()["finding_ids"] == [petition_id]
    trust = await _finding(pinned, org, trust_id)
    assert (trust["state"], trust["decision_ids"]) == ("open", [])

    # Becoming public again announces again; staying public does not.
    events_before = len(await deliveries(settings))
    for public in (False, True, True):
        got = await pinned.patch(
            f"{DECISIONS}/{second_id}", json={"public": public}, headers=campaigner
        )
        assert got.status_code == 200
        assert (got.json()["published_at"] is not None) is public
    events = (await deliveries(settings))[events_before:]
    assert [e.event_type for e in events] == ["decision.published"]
    assert [f["id"] for f in events[0].payload["data"]["findings"]] == [petition_id]
