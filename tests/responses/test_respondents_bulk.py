"""Many respondents at once (a CRM sync, the demo): one query and one insert, all or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from feedback.config import Settings
from feedback.db import make_engine, make_sessionmaker, transaction
from feedback.errors import Conflict
from feedback.orgs.models import AuditEvent
from feedback.orgs.principal import Principal
from feedback.orgs.service import create_org
from feedback.responses.models import Respondent
from feedback.responses.respondents import create_respondents, ref_hash


async def test_respondents_are_created_in_bulk_all_or_nothing(settings: Settings) -> None:
    engine = make_engine(settings.database_url, pool_size=2)
    sessions = make_sessionmaker(engine)
    secret = settings.resolved_secret_key()
    try:
        async with transaction(sessions) as session:
            org, _ = await create_org(session, slug="crm", name="CRM", actor="test")
            admin = Principal.system(org.id, org.slug, actor="test")
            people = [(f"crm-{i}", {"country": "NL" if i % 2 else "UK"}) for i in range(1200)]
            people.append((None, {}))
            created = await create_respondents(
                session, principal=admin, secret=secret, people=people
            )
        assert len(created) == 1201
        assert len({token for _, token in created}) == 1201
        assert created[7][0].ref_hash == ref_hash(secret, org.id, "crm-7")
        assert created[7][0].attributes == {"country": "NL"}
        assert created[-1][0].ref_hash is None

        async def counts() -> tuple[int | None, int | None]:
            async with sessions() as session:
                respondents = await session.scalar(select(func.count()).select_from(Respondent))
                events = await session.scalar(
                    select(func.count()).where(AuditEvent.action == "respondent.created")
                )
                return respondents, events

        assert await counts() == (1201, 1201)
        # One ref already on file, past the first batch of the lookup: nothing is created.
        again = [("new-1", {}), ("crm-1100", {}), ("new-2", {})]
        with pytest.raises(Conflict) as refused:
            async with transaction(sessions) as session:
                await create_respondents(session, principal=admin, secret=secret, people=again)
        assert refused.value.extra["id"] == str(created[1100][0].id)
        with pytest.raises(Conflict):
            async with transaction(sessions) as session:
                twice = [("dup", {}), ("dup", {})]
                await create_respondents(session, principal=admin, secret=secret, people=twice)
        assert await counts() == (1201, 1201)
    finally:
        await engine.dispose()
