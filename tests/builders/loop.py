"""A monthly survey for findings tests: answers planted through the real import route, checks
run at pinned instants, webhooks subscribed by rows."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.config import Settings
from feedback.db import make_engine, make_sessionmaker
from feedback.loop.findings import check_all_surveys
from feedback.loop.models import Finding, Webhook, WebhookDelivery, WebhookTopic
from feedback.orgs.models import Organisation
from tests.builders.analysis import line
from tests.builders.orgs import Org
from tests.builders.surveys import MONTHLY, make_survey

Client = AsyncTestClient[Litestar]

DEFINITION: dict[str, Any] = {
    "questions": [
        {
            "key": "trust",
            "type": "likert",
            "label": {
                "en": "Trust that we act on your views",
                "nl": "Vertrouwen dat we naar je luisteren",
                "es": "Confianza en que actuamos según tu opinión",
            },
            "scale": {"min": 1, "max": 5},
        },
        {"key": "nps", "type": "nps", "label": "Recommend us"},
        {
            "key": "priority",
            "type": "single_choice",
            "label": "Which issue matters most to you?",
            "options": [
                {"key": "climate", "label": "Climate"},
                {"key": "housing", "label": {"en": "Housing", "nl": "Wonen", "es": "Vivienda"}},
                {"key": "health", "label": "Health"},
            ],
        },
        {
            "key": "actions",
            "type": "multi_choice",
            "label": "What did you do this month?",
            "options": [
                {"key": "petition", "label": "Signed a petition"},
                {"key": "march", "label": "Joined a march"},
            ],
        },
    ]
}


def closed_after(wave: int) -> datetime:
    """An instant just after wave `wave` of MONTHLY closed (the 2nd of the next month)."""
    month = wave  # wave 1 is January 2025; it closes on 1 February, Amsterdam time
    return datetime(2025 + month // 12, month % 12 + 1, 2, tzinfo=UTC)


async def pulse(client: Client, org: Org, **settings: Any) -> dict[str, Any]:
    return await make_survey(
        client,
        org,
        definition=DEFINITION,
        schedule=MONTHLY,
        settings={"locales": ["en", "nl", "es"], **settings},
    )


def scale_lines(wave: int, key: str, counts: dict[int, int]) -> list[dict[str, Any]]:
    return [line(wave, {key: value}) for value, times in counts.items() for _ in range(times)]


def rising(wave: int) -> dict[int, int]:
    """Twenty answers whose mean creeps up by 0.1 a wave: no month-to-month change is
    significant, but the run of means is a clear trend after five waves."""
    return {2: 10 - wave, 3: 10, 4: wave}


@asynccontextmanager
async def sessions_on(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(settings.database_url, pool_size=2)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


async def check(settings: Settings, now: datetime) -> list[Finding]:
    async with sessions_on(settings) as sessions:
        return await check_all_surveys(sessions, now=now)


async def stored_findings(settings: Settings) -> list[Finding]:
    async with sessions_on(settings) as sessions, sessions() as session:
        rows = await session.scalars(
            sa.select(Finding).order_by(Finding.wave_number, Finding.question_key, Finding.kind)
        )
        return list(rows.all())


async def subscribe(settings: Settings, org_slug: str, events: list[str]) -> None:
    """A webhook of the organisation subscribed to `events`, as the webhooks routes store it."""
    async with sessions_on(settings) as sessions, sessions() as session:
        org_id = await session.scalar(
            sa.select(Organisation.id).where(Organisation.slug == org_slug)
        )
        hook = Webhook(
            org_id=org_id, url="https://example.org/hook", events=events, secret="whsec_test"
        )
        session.add(hook)
        await session.flush()
        session.add_all(
            WebhookTopic(webhook_id=hook.id, event_type=e, org_id=org_id) for e in events
        )
        await session.commit()


async def deliveries(settings: Settings) -> list[WebhookDelivery]:
    async with sessions_on(settings) as sessions, sessions() as session:
        rows = await session.scalars(
            sa.select(WebhookDelivery).order_by(WebhookDelivery.created_at)
        )
        return list(rows.all())


async def jumps(client: Client, org: Org, settings: Settings, slug: str = "pulse") -> list[str]:
    """Plant two changes into wave 2 (trust up, the share signing a petition up), check once
    wave 2 has closed; returns the two findings' ids (trust first)."""
    lines = [line(1, {"trust": 3, "actions": ["march"]}) for _ in range(30)]
    lines += [line(2, {"trust": 5, "actions": ["petition"]}) for _ in range(30)]
    body = "\n".join(json.dumps(x) for x in lines) + "\n"
    got = await client.post(
        f"/api/v1/surveys/{slug}/responses/import",
        content=body.encode(),
        headers={**org.auth("campaigner"), "Content-Type": "application/x-ndjson"},
    )
    assert got.status_code == 200 and got.json()["imported"] == len(lines), got.text
    opened = await check(settings, closed_after(2))
    keyed = {(f.question_key, f.option_key): str(f.id) for f in opened}
    return [keyed[("trust", "")], keyed[("actions", "petition")]]
