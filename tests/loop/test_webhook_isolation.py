"""Webhooks: one delivery's trouble stays its own. A URL outside ASCII, a receiver answering
nonsense, a webhook deleted while its delivery is in flight, a row the database refuses: each
costs at most that delivery an attempt, never the round (whose other deliveries, acknowledged
by their receivers, would otherwise stay pending and be sent again)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.api.app import create_app
from feedback.config import Settings
from feedback.loop.addresses import sendable, url_problem
from feedback.loop.delivery import Deliverer, Due
from feedback.loop.models import Webhook
from feedback.loop.worker import deliverer_for
from tests.builders.loop import sessions_on
from tests.builders.orgs import Org, make_org
from tests.builders.responses import submitted
from tests.builders.surveys import make_survey
from tests.builders.webhooks import (
    Receiver,
    deliver_all,
    outbox,
    receiver_on_loopback,
    subscribe_url,
)

Client = AsyncTestClient[Litestar]


@pytest.fixture
def hostile() -> Iterator[Receiver]:
    with receiver_on_loopback() as receiver:
        yield receiver


async def two_orgs_submitting(client: Client) -> tuple[Org, Org]:
    """Two organisations with a survey each; `submit` them once subscribed."""
    org = await make_org(client)
    other = await make_org(client, "other")
    await make_survey(client, org)
    await make_survey(client, other)
    return org, other


async def states(settings: Settings) -> dict[str, tuple[str, int]]:
    return {str(r.webhook_id): (r.status, r.attempts) for r in await outbox(settings)}


async def log_of(client: Client, org: Org, hook: dict[str, Any]) -> list[dict[str, Any]]:
    got = await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=org.auth())
    assert got.status_code == 200, got.text
    items: list[dict[str, Any]] = got.json()["items"]
    return items


@pytest.mark.parametrize(
    ("url", "sent"),
    [
        ("https://example.org/hook", "https://example.org/hook"),
        ("https://Example.org:8443/a?b=c#d", "https://Example.org:8443/a?b=c#d"),
        ("http://host/hooks/\u2713", "http://host/hooks/%E2%9C%93"),
        ("https://b\u00fccher.example/hook", "https://xn--bcher-kva.example/hook"),
        (
            "https://B\u00fccher.example:8443/x?q=\u00e9#fr\u00e4",
            "https://xn--bcher-kva.example:8443/x?q=%C3%A9#fr%C3%A4",
        ),
        ("https://example.org/caf%C3%A9?q=caf\u00e9", "https://example.org/caf%C3%A9?q=caf%C3%A9"),
        ("http://[::1]:8080/\u00fc", "http://[::1]:8080/%C3%BC"),
    ],
)
def test_urls_are_written_in_ascii_as_browsers_send_them(url: str, sent: str) -> None:
    assert url_problem(url) is None
    assert sendable(url) == sent


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://exa..mpl\u00e9.org/", "must name a valid host"),
        ("https://" + "\u00e9" * 64 + ".org/", "must name a valid host"),
        ("https://example.org/\ud800", "is not a valid URL"),
        (
            "https://example.org/" + "\u00e9" * 1000,
            "must be at most 2048 characters once written in ASCII",
        ),
    ],
)
def test_urls_that_cannot_be_written_in_ascii_are_refused(url: str, problem: str) -> None:
    assert url_problem(url) == problem


async def test_a_url_outside_ascii_is_stored_and_delivered_as_sent(
    client: Client, settings: Settings, receiver: Receiver
) -> None:
    """The QA report: `…/hooks/✓` was accepted, then broke every delivery round."""
    org, other = await two_orgs_submitting(client)
    # Full-width digits: IDNA maps them to the loopback address of the receiver.
    wide = receiver.url.replace("127.0.0.1", "\uff11\uff12\uff17.\uff10.\uff10.\uff11")
    odd = await subscribe_url(client, org, wide + "/\u2713?caf\u00e9")
    assert odd["url"] == receiver.url + "/%E2%9C%93?caf%C3%A9"
    listed = (await client.get("/api/v1/webhooks", headers=org.auth())).json()["items"]
    assert [h["url"] for h in listed] == [odd["url"]]
    plain = await subscribe_url(client, other, receiver.url)
    await submitted(client, org)
    await submitted(client, other)

    assert await deliver_all(settings) == 2
    assert sorted(r.path for r in receiver.received) == ["/hook", "/hook/%E2%9C%93?caf%C3%A9"]
    assert (await states(settings)) == {
        odd["id"]: ("delivered", 1),
        plain["id"]: ("delivered", 1),
    }


async def test_a_loopback_host_in_disguise_is_refused(settings: Settings) -> None:
    strict = settings.model_copy(update={"webhook_allow_private": False})
    async with AsyncTestClient(create_app(strict), raise_server_exceptions=False) as client:
        org = await make_org(client)
        for url in ("http://\u2460\u2461\u2466.0.0.1/hook", "http://\uff4c\uff4f\uff43alhost/"):
            got = await client.post(
                "/api/v1/webhooks",
                json={"url": url, "events": ["response.created"]},
                headers=org.auth(),
            )
            assert got.status_code == 422, got.text
            assert [e["pointer"] for e in got.json()["errors"]] == ["/url"]


async def test_a_stored_url_that_cannot_be_sent_fails_only_its_own_delivery(
    client: Client, settings: Settings, receiver: Receiver
) -> None:
    """Rows stored before subscriptions were written in ASCII: one that can still be written
    so is delivered, one that cannot is a failed attempt of its own, retried like any other."""
    org, other = await two_orgs_submitting(client)
    third = await make_org(client, "third")
    await make_survey(client, third)
    broken = await subscribe_url(client, org, receiver.url)
    plain = await subscribe_url(client, other, receiver.url)
    old = await subscribe_url(client, third, receiver.url)
    async with sessions_on(settings) as sessions, sessions.begin() as session:
        for hook, url in (
            (broken, "http://exa..mpl\u00e9.org/hook"),
            (old, receiver.url + "/\u2713"),
        ):
            await session.execute(
                sa.update(Webhook).where(Webhook.id == uuid.UUID(hook["id"])).values(url=url)
            )
    for o in (org, other, third):
        await submitted(client, o)

    assert await deliver_all(settings, rounds=1) == 3
    assert sorted(r.path for r in receiver.received) == ["/hook", "/hook/%E2%9C%93"]
    assert (await states(settings)) == {
        broken["id"]: ("pending", 1),
        plain["id"]: ("delivered", 1),
        old["id"]: ("delivered", 1),
    }
    [delivery] = await log_of(client, org, broken)
    assert delivery["last_status_code"] is None
    assert delivery["last_error"] == "not sent: ValueError: must name a valid host"


@pytest.mark.parametrize("status", [10**20, 2**31, 1000, 99])
async def test_an_absurd_status_code_fails_only_its_own_delivery(
    client: Client, settings: Settings, receiver: Receiver, hostile: Receiver, status: int
) -> None:
    """`HTTP/1.1 100000000000000000000 OK` fitted no integer column: the round's record failed."""
    hostile.status = status
    org, other = await two_orgs_submitting(client)
    bad = await subscribe_url(client, org, hostile.url)
    good = await subscribe_url(client, other, receiver.url)
    await submitted(client, org)
    await submitted(client, other)

    assert await deliver_all(settings, rounds=1) == 2
    assert len(receiver.received) == 1 and len(hostile.received) == 1
    assert (await states(settings)) == {bad["id"]: ("pending", 1), good["id"]: ("delivered", 1)}
    [delivery] = await log_of(client, org, bad)
    assert delivery["last_status_code"] is None
    assert delivery["last_error"] == f"bad response: not a status code: {str(status)[:20]!r}"


async def test_deleting_a_webhook_mid_delivery_keeps_the_others_recorded(
    client: Client, settings: Settings, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    """The deleted webhook's attempt has no delivery left to belong to (a foreign key
    violation that rolled the whole round's record back): it is not recorded, the rest is."""
    org, other = await two_orgs_submitting(client)
    doomed = await subscribe_url(client, org, receiver.url)
    kept = await subscribe_url(client, other, receiver.url + "/kept")
    await submitted(client, org)
    await submitted(client, other)
    receiver.delay = 1.0  # both requests in flight for a second (the read timeout is 3 s)

    async with sessions_on(settings) as sessions:
        deliverer = deliverer_for(sessions, settings.model_copy(update={"webhook_read_timeout": 3}))
        try:
            round_ = asyncio.create_task(deliverer.deliver_due())
            await asyncio.sleep(0.4)
            gone = await client.delete(f"/api/v1/webhooks/{doomed['id']}", headers=org.auth())
            assert gone.status_code == 204, gone.text
            assert await round_ == 2
        finally:
            await deliverer.aclose()
    assert sorted(r.path for r in receiver.received) == ["/hook", "/hook/kept"]
    assert (await states(settings)) == {kept["id"]: ("delivered", 1)}
    # Recorded in one go, not by the fallback for a round the database refused.
    assert "one by one" not in caplog.text
    [delivery] = await log_of(client, other, kept)
    assert [a["status_code"] for a in delivery["attempt_log"]] == [204]


async def test_a_row_the_database_refuses_costs_only_its_own_record(
    client: Client,
    settings: Settings,
    receiver: Receiver,
    hostile: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whatever else a database may refuse one day: the round is then recorded delivery by
    delivery, the refused one as a bare failed attempt (so that it backs off and is given up
    in time like any other)."""
    attempt = Deliverer._attempt

    async def unstorable(self: Deliverer, item: Due, now: Any) -> tuple[int | None, str | None]:
        status, error = await attempt(self, item, now)
        return (10**20, error) if item.url == hostile.url else (status, error)

    monkeypatch.setattr(Deliverer, "_attempt", unstorable)
    org, other = await two_orgs_submitting(client)
    bad = await subscribe_url(client, org, hostile.url)
    good = await subscribe_url(client, other, receiver.url)
    await submitted(client, org)
    await submitted(client, other)

    assert await deliver_all(settings, rounds=1) == 2
    assert len(receiver.received) == 1 and len(hostile.received) == 1
    assert (await states(settings)) == {bad["id"]: ("pending", 1), good["id"]: ("delivered", 1)}
    [delivery] = await log_of(client, org, bad)
    assert delivery["last_status_code"] is None
    assert delivery["last_error"] == "the attempt could not be recorded"
