"""Changes of one decision or finding sent at once (a double click, a retry, two campaigners)
run one after the other: a decision is announced once per publishing, a finding is linked once,
and a finding a decision answers is `answered`, whatever the interleaving. The races need
concurrent writers, so they bite on PostgreSQL; on SQLite the same requests queue on the write
lock and the tests check the answers are the same."""

from __future__ import annotations

import asyncio

from litestar import Litestar

from feedback.config import Settings
from tests.builders.loop import deliveries, jumps, pulse, subscribe
from tests.builders.orgs import make_org
from tests.builders.responses import concurrent_client
from tests.builders.surveys import MONTHLY, make_survey

DECISIONS = "/api/v1/surveys/pulse/decisions"
FINDINGS = "/api/v1/surveys/pulse/findings"
AT_ONCE = range(4)  # requests sent at once
ROUNDS = 5


async def test_publishing_at_once_announces_once(app: Litestar, settings: Settings) -> None:
    async with concurrent_client(app) as client:
        org = await make_org(client)
        await make_survey(client, org, schedule=MONTHLY)
        await subscribe(settings, org.slug, ["decision.published"])
        campaigner = org.auth("campaigner")
        made = await client.post(
            DECISIONS,
            json={"title": "Reply within a week", "decided_at": "2025-03-01T00:00:00Z"},
            headers=campaigner,
        )
        assert made.status_code == 201, made.text
        url = f"{DECISIONS}/{made.json()['id']}"
        # The interleaving is up to the scheduler and the database: publish a few times.
        for published in range(1, ROUNDS + 1):
            answers = await asyncio.gather(
                *(client.patch(url, json={"public": True}, headers=campaigner) for _ in AT_ONCE)
            )
            assert [a.status_code for a in answers] == [200] * len(AT_ONCE), [
                a.text for a in answers
            ]
            # The later requests found it public already: the same publishing, not a new one.
            assert len({a.json()["published_at"] for a in answers}) == 1
            events = await deliveries(settings)
            assert [e.event_type for e in events] == ["decision.published"] * published
            hidden = await client.patch(url, json={"public": False}, headers=campaigner)
            assert hidden.status_code == 200, hidden.text


async def test_linking_the_same_finding_at_once_links_it_once(
    app: Litestar, settings: Settings
) -> None:
    async with concurrent_client(app) as client:
        org = await make_org(client)
        await pulse(client, org)
        trust, _petition = await jumps(client, org, settings)
        campaigner = org.auth("campaigner")
        made = await client.post(
            DECISIONS,
            json={"title": "Reply within a week", "decided_at": "2025-03-01T00:00:00Z"},
            headers=campaigner,
        )
        assert made.status_code == 201, made.text
        url = f"{DECISIONS}/{made.json()['id']}"
        for _ in range(ROUNDS):
            answers = await asyncio.gather(
                *(
                    client.patch(url, json={"finding_ids": [trust]}, headers=campaigner)
                    for _ in AT_ONCE
                )
            )
            assert [a.status_code for a in answers] == [200] * len(AT_ONCE), [
                a.text for a in answers
            ]
            assert all(a.json()["finding_ids"] == [trust] for a in answers)
            got = await client.get(url, headers=org.auth("analyst"))
            assert got.json()["finding_ids"] == [trust]
            unlinked = await client.patch(url, json={"finding_ids": []}, headers=campaigner)
            assert unlinked.status_code == 200, unlinked.text


async def test_a_finding_dismissed_while_linked_ends_answered(
    app: Litestar, settings: Settings
) -> None:
    """Either the dismissal comes first (and the link then makes the finding `answered`) or the
    link does (and the dismissal answers 409); never a dismissed finding with a decision."""
    async with concurrent_client(app) as client:
        org = await make_org(client)
        await pulse(client, org)
        trust, _petition = await jumps(client, org, settings)
        campaigner = org.auth("campaigner")
        made = await client.post(
            DECISIONS,
            json={"title": "Reply within a week", "decided_at": "2025-03-01T00:00:00Z"},
            headers=campaigner,
        )
        url = f"{DECISIONS}/{made.json()['id']}"
        finding_url = f"{FINDINGS}/{trust}"
        # The interleaving is up to the scheduler and the database: try it a few times.
        for _ in range(20):
            dismissed, linked = await asyncio.gather(
                client.patch(
                    finding_url, json={"state": "dismissed", "reason": "noise"}, headers=campaigner
                ),
                client.patch(url, json={"finding_ids": [trust]}, headers=campaigner),
            )
            assert linked.status_code == 200, linked.text
            assert dismissed.status_code in (200, 409), dismissed.text
            listed = (await client.get(FINDINGS, headers=org.auth("analyst"))).json()["items"]
            finding = next(f for f in listed if f["id"] == trust)
            assert (finding["state"], finding["decision_ids"]) == (
                "answered",
                [linked.json()["id"]],
            )
            # Back to the start: unlinked and open.
            unlinked = await client.patch(url, json={"finding_ids": []}, headers=campaigner)
            assert unlinked.status_code == 200, unlinked.text
            reopened = await client.patch(finding_url, json={"state": "open"}, headers=campaigner)
            assert reopened.status_code == 200, reopened.text


async def test_a_finding_unlinked_from_every_decision_at_once_reopens(
    app: Litestar, settings: Settings
) -> None:
    """Two decisions let go of the same finding at once: each must see the other's unlinking,
    or both keep it `answered` for the other's sake and it is left answered by none."""
    async with concurrent_client(app) as client:
        org = await make_org(client)
        await pulse(client, org)
        trust, _petition = await jumps(client, org, settings)
        campaigner = org.auth("campaigner")
        urls = []
        for title in ("Reply within a week", "Call back every caller"):
            made = await client.post(
                DECISIONS,
                json={"title": title, "decided_at": "2025-03-01T00:00:00Z"},
                headers=campaigner,
            )
            urls.append(f"{DECISIONS}/{made.json()['id']}")
        for _ in range(10):
            for url in urls:
                linked = await client.patch(url, json={"finding_ids": [trust]}, headers=campaigner)
                assert linked.status_code == 200, linked.text
            answers = await asyncio.gather(
                *(client.patch(url, json={"finding_ids": []}, headers=campaigner) for url in urls)
            )
            assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
            listed = (await client.get(FINDINGS, headers=org.auth("analyst"))).json()["items"]
            finding = next(f for f in listed if f["id"] == trust)
            assert (finding["state"], finding["decision_ids"]) == ("open", [])
