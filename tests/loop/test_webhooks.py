"""Webhooks: subscriptions, the five events, signed delivery to a real receiver on loopback,
retries, giving up, redirects, timeouts, address refusal, the delivery log, tenancy."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.api.app import create_app
from feedback.clock import fixed_clock, system_clock
from feedback.config import Settings
from feedback.loop.delivery import backoff
from feedback.loop.worker import run_worker
from tests.builders.analysis import line
from tests.builders.loop import DEFINITION, closed_after, jumps, pulse, sessions_on
from tests.builders.orgs import make_org
from tests.builders.responses import responses_url, submission, submitted
from tests.builders.surveys import make_survey, publish_version
from tests.builders.webhooks import (
    Receiver,
    StepClock,
    deliver_all,
    outbox,
    subscribe_url,
)

Client = AsyncTestClient[Litestar]
ALL_EVENTS = [
    "response.created",
    "response.revised",
    "version.published",
    "decision.published",
    "finding.opened",
]


async def test_subscribe_list_delete_and_tenancy(client: Client, receiver: Receiver) -> None:
    org = await make_org(client)
    other = await make_org(client, "other")
    made = await subscribe_url(client, org, receiver.url, ["finding.opened", "finding.opened"])
    assert made["events"] == ["finding.opened"]
    assert made["secret"].startswith("whsec_")
    assert len(base64.b64decode(made["secret"].removeprefix("whsec_"))) == 32
    listed = (await client.get("/api/v1/webhooks", headers=org.auth())).json()
    assert [h["id"] for h in listed["items"]] == [made["id"]]
    assert "secret" not in listed["items"][0] and listed["next_cursor"] is None
    assert (await client.get("/api/v1/webhooks", headers=other.auth())).json()["items"] == []
    assert (await client.get("/api/v1/webhooks", headers=org.auth("campaigner"))).status_code == 403

    hook = f"/api/v1/webhooks/{made['id']}"
    assert (await client.get(f"{hook}/deliveries", headers=other.auth())).status_code == 404
    assert (await client.delete(hook, headers=other.auth())).status_code == 404
    assert (await client.get(f"{hook}/deliveries", headers=org.auth())).json()["items"] == []
    assert (await client.delete(hook, headers=org.auth())).status_code == 204
    assert (await client.delete(hook, headers=org.auth())).status_code == 404
    assert (await client.get("/api/v1/webhooks", headers=org.auth())).json()["items"] == []


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"url": "ftp://example.org/x", "events": ["finding.opened"]}, "/url"),
        ({"url": "/relative", "events": ["finding.opened"]}, "/url"),
        ({"url": "https://user:pw@example.org/", "events": ["finding.opened"]}, "/url"),
        ({"url": "https://example.org/" + "a" * 2048, "events": ["finding.opened"]}, "/url"),
        ({"url": "https://exa mple.org/", "events": ["finding.opened"]}, "/url"),
        ({"url": "https://example.org:99999/", "events": ["finding.opened"]}, "/url"),
        ({"url": "https://example.org/", "events": []}, "/events"),
        ({"url": "https://example.org/", "events": ["response.deleted"]}, "/events/0"),
        ({"url": "https://example.org/"}, "/events"),
        ({"url": "https://10.0.0.1/", "events": ["finding.opened"]}, "/url"),
        ({"url": "http://169.254.169.254/latest", "events": ["finding.opened"]}, "/url"),
        ({"url": "http://[::1]:8080/", "events": ["finding.opened"]}, "/url"),
        ({"url": "http://[::ffff:127.0.0.1]/", "events": ["finding.opened"]}, "/url"),
        ({"url": "http://localhost/", "events": ["finding.opened"]}, "/url"),
        ({"url": "http://224.0.0.1/", "events": ["finding.opened"]}, "/url"),
        ({"url": "http://0.0.0.0/", "events": ["finding.opened"]}, "/url"),
    ],
)
async def test_bad_subscriptions_are_422_at_the_field(
    settings: Settings, body: dict[str, object], pointer: str
) -> None:
    strict = settings.model_copy(update={"webhook_allow_private": False})
    async with AsyncTestClient(create_app(strict), raise_server_exceptions=False) as client:
        org = await make_org(client)
        got = await client.post("/api/v1/webhooks", json=body, headers=org.auth())
        assert got.status_code == 422, got.text
        assert [e["pointer"] for e in got.json()["errors"]] == [pointer]
        assert (await client.get("/api/v1/webhooks", headers=org.auth())).json()["items"] == []


async def test_loopback_is_refused_without_the_setting_even_at_delivery(
    client: Client, settings: Settings, receiver: Receiver
) -> None:
    org = await make_org(client)
    strict = settings.model_copy(update={"webhook_allow_private": False})
    async with AsyncTestClient(create_app(strict), raise_server_exceptions=False) as refusing:
        got = await refusing.post(
            "/api/v1/webhooks",
            json={"url": receiver.url, "events": ["response.created"]},
            headers=org.auth(),
        )
        assert got.status_code == 422
        assert "loopback" in got.json()["errors"][0]["message"]
    # Subscribed while allowed; delivered by a worker that does not allow it (as when a name
    # resolves elsewhere at delivery time): refused before any request is made.
    hook = await subscribe_url(client, org, receiver.url)
    await make_survey(client, org)
    await submitted(client, org)
    assert await deliver_all(settings, webhook_allow_private=False) == 1
    assert receiver.received == []
    log = (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=org.auth())).json()
    [delivery] = log["items"]
    assert delivery["status"] == "pending" and delivery["attempts"] == 1
    assert delivery["last_status_code"] is None
    assert "refused" in delivery["last_error"] and "loopback" in delivery["last_error"]


async def test_signed_submission_verifies(
    client: Client, settings: Settings, receiver: Receiver
) -> None:
    org = await make_org(client)
    hook = await subscribe_url(client, org, receiver.url)
    await make_survey(client, org)
    sent = submission()
    await submitted(client, org, sent)
    assert await deliver_all(settings) == 1
    [body] = receiver.verified(hook["secret"])
    assert body["type"] == "response.created"
    assert body["data"]["response_id"] == sent["response_id"]
    assert body["data"]["survey"] == "pulse" and body["data"]["revision"] == 1
    [request] = receiver.received
    assert request.path == "/hook"
    assert request.headers["host"] == receiver.url.split("/")[2]
    assert request.headers["webhook-signature"].startswith("v1,")
    log = (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=org.auth())).json()
    [delivery] = log["items"]
    assert delivery["event_id"] == request.headers["webhook-id"]
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "delivered",
        1,
        204,
    )
    assert delivery["next_attempt_at"] is None and delivery["finished_at"] is not None
    assert [a["status_code"] for a in delivery["attempt_log"]] == [204]
    # Someone else's secret does not verify.
    with pytest.raises(Exception, match="signature"):
        receiver.verified("whsec_" + base64.b64encode(b"x" * 32).decode())


NOW = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)


@pytest.fixture
async def pinned(settings: Settings) -> AsyncIterator[Client]:
    """An app whose clock reads NOW (wave 3 of MONTHLY is open)."""
    app = create_app(settings, clock=fixed_clock(NOW))
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield client


async def test_each_event_is_delivered_signed(
    pinned: Client, settings: Settings, receiver: Receiver
) -> None:
    org = await make_org(pinned)
    other = await make_org(pinned, "other")
    hook = await subscribe_url(pinned, org, receiver.url, ALL_EVENTS)
    await subscribe_url(pinned, other, receiver.url, ALL_EVENTS)
    await pulse(pinned, org)
    # Answers imported for two waves open findings (and each imported response is created).
    trust_id, _ = await jumps(pinned, org, settings)
    created = await submitted(pinned, org, submission(answers={"trust": 4}))
    revised = await pinned.put(
        f"{responses_url(org)}/{created['response_id']}",
        json={"version": 1, "answers": {"trust": 2}},
        headers={"X-Edit-Token": created["edit_token"]},
    )
    assert revised.status_code == 200, revised.text
    definition = copy.deepcopy(DEFINITION)
    definition["questions"].append({"key": "mood", "type": "likert", "label": "Mood"})
    definition["questions"][-1]["scale"] = {"min": 1, "max": 5}
    await publish_version(pinned, org, "pulse", definition)
    decided = await pinned.post(
        "/api/v1/surveys/pulse/decisions",
        json={
            "title": "Reply within a week",
            "decided_at": "2025-03-05T00:00:00Z",
            "public": True,
            "finding_ids": [trust_id],
        },
        headers=org.auth("campaigner"),
    )
    assert decided.status_code == 201, decided.text

    await deliver_all(settings)
    bodies = receiver.verified(hook["secret"])
    by_type: dict[str, list[dict[str, object]]] = {}
    for body in bodies:
        by_type.setdefault(body["type"], []).append(body["data"])
    assert sorted(by_type) == sorted(ALL_EVENTS)
    assert len(by_type["response.created"]) == 60 + 1  # imported and submitted
    findings = {f["finding"]["id"] for f in by_type["finding.opened"]}  # type: ignore[index]
    assert trust_id in findings and len(findings) == len(by_type["finding.opened"])
    [revision] = by_type["response.revised"]
    assert revision["response_id"] == created["response_id"] and revision["revision"] == 2
    # Version 1 when the survey was made, version 2 just now.
    assert sorted(v["version"] for v in by_type["version.published"]) == [1, 2]  # type: ignore[type-var]
    [decision] = by_type["decision.published"]
    assert decision["decision"]["id"] == decided.json()["id"]  # type: ignore[index]
    # Every event reached only its organisation's webhook, once, with a distinct id.
    assert len(set(receiver.ids())) == len(receiver.ids()) == 61 + 4 + len(findings)
    assert all(r.headers["webhook-id"] for r in receiver.received)


async def test_a_failing_receiver_that_recovers_gets_every_event(
    client: Client, settings: Settings, receiver: Receiver
) -> None:
    org = await make_org(client)
    hook = await subscribe_url(client, org, receiver.url)
    await make_survey(client, org)
    sent = [submission() for _ in range(5)]
    for body in sent:
        await submitted(client, org, body)
    clock = StepClock(system_clock())
    receiver.status = 500
    for _ in range(3):
        assert await deliver_all(settings, clock) == 5
        assert await deliver_all(settings, clock) == 0  # nothing due until the backoff ends
        clock.advance(hours=1)
    receiver.status = 204
    assert await deliver_all(settings, clock) == 5
    clock.advance(hours=2)
    assert await deliver_all(settings, clock) == 0
    # Each event four times (three 500s, one 204), always under its own webhook-id.
    ids = receiver.ids()
    assert len(ids) == 20 and all(ids.count(i) == 4 for i in set(ids))
    # (The clock moved hours ahead of the wall clock: verify() would call them too new.)
    delivered = {b["data"]["response_id"] for b in receiver.bodies()}
    assert delivered == {b["response_id"] for b in sent}
    log = (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=org.auth())).json()
    for delivery in log["items"]:
        assert delivery["status"] == "delivered" and delivery["attempts"] == 4
        assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 500, 500, 204]
        assert delivery["attempt_log"][0]["error"] == "receiver answered 500"
    page = await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries?limit=2", headers=org.auth())
    assert len(page.json()["items"]) == 2 and page.json()["next_cursor"]


async def test_given_up_after_24_hours(
    client: Client, settings: Settings, receiver: Receiver
) -> None:
    org = await make_org(client)
    hook = await subscribe_url(client, org, receiver.url)
    await make_survey(client, org)
    await submitted(client, org)
    clock = StepClock(system_clock())
    receiver.status = 503
    start = clock.now
    while clock.now < start + timedelta(hours=26):
        await deliver_all(settings, clock)
        clock.advance(minutes=30)
    [delivery] = await outbox(settings)
    assert delivery.status == "failed"
    assert delivery.finished_at is not None
    assert delivery.finished_at >= delivery.created_at + timedelta(hours=24)
    attempts = len(receiver.received)
    assert attempts == delivery.attempts >= 10
    clock.advance(hours=10)
    assert await deliver_all(settings, clock) == 0 and len(receiver.received) == attempts
    log = (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=org.auth())).json()
    assert log["items"][0]["status"] == "failed" and log["items"][0]["next_attempt_at"] is None


def test_backoff_is_exponential_with_full_jitter() -> None:
    import random

    rng = random.Random(7)
    for attempts, ceiling in ((1, 5), (2, 10), (5, 80), (10, 2560), (11, 3600), (40, 3600)):
        waits = [backoff(attempts, rng).total_seconds() for _ in range(200)]
        assert all(1 <= w <= max(ceiling, 1) for w in waits)
        assert max(waits) > ceiling * 0.8  # the whole range is used, not just its top


async def test_redirects_are_not_followed(
    client: Client, settings: Settings, receiver: Receiver
) -> None:
    org = await make_org(client)
    hook = await subscribe_url(client, org, receiver.url)
    await make_survey(client, org)
    await submitted(client, org)
    receiver.redirect_to = receiver.url + "/elsewhere"
    await deliver_all(settings)
    assert [r.path for r in receiver.received] == ["/hook"]
    log = (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=org.auth())).json()
    [delivery] = log["items"]
    assert delivery["status"] == "pending"
    assert (delivery["last_status_code"], delivery["last_error"]) == (302, "redirect not followed")


async def test_a_slow_receiver_times_out(
    client: Client, settings: Settings, receiver: Receiver
) -> None:
    org = await make_org(client)
    hook = await subscribe_url(client, org, receiver.url)
    await make_survey(client, org)
    await submitted(client, org)
    receiver.delay = 2.5  # the read timeout is 1 s
    await deliver_all(settings)
    log = (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=org.auth())).json()
    [delivery] = log["items"]
    assert delivery["status"] == "pending" and delivery["last_status_code"] is None
    assert delivery["last_error"].startswith("timeout")
    assert delivery["attempt_log"][0]["duration_ms"] < 2400


async def test_the_worker_loop_finds_and_delivers_by_itself(
    pinned: Client, settings: Settings, receiver: Receiver
) -> None:
    """run_worker, as `feedback serve` and `feedback worker` run it: the periodic findings
    check opens findings once their wave has closed, and their events are delivered."""
    org = await make_org(pinned)
    hook = await subscribe_url(pinned, org, receiver.url, ["finding.opened"])
    await pulse(pinned, org)
    lines = [line(1, {"trust": 3}) for _ in range(30)] + [line(2, {"trust": 5}) for _ in range(30)]
    imported = await pinned.post(
        "/api/v1/surveys/pulse/responses/import",
        content="".join(json.dumps(x) + "\n" for x in lines).encode(),
        headers={**org.auth("campaigner"), "Content-Type": "application/x-ndjson"},
    )
    assert imported.status_code == 200, imported.text
    stop = asyncio.Event()
    async with sessions_on(settings) as sessions:
        worker = asyncio.create_task(
            run_worker(
                sessions, settings, stop, clock=fixed_clock(closed_after(2)), poll_seconds=0.05
            )
        )
        for _ in range(200):
            if receiver.received:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(worker, 10)
    bodies = receiver.bodies()
    assert bodies and {b["type"] for b in bodies} == {"finding.opened"}
    assert any(b["data"]["finding"]["question"] == "trust" for b in bodies)
    log = (await pinned.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=org.auth())).json()
    assert {d["status"] for d in log["items"]} == {"delivered"}
