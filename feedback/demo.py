"""Demo data: an organisation to explore the API with, printed with its admin key."""

from __future__ import annotations

from sqlalchemy import select

from feedback.config import Settings
from feedback.db import make_engine, make_sessionmaker, transaction
from feedback.orgs.models import Organisation
from feedback.orgs.service import create_org

DEMO_SLUG = "demo"


async def load_demo(settings: Settings) -> str:
    """Create the demo organisation once; later runs leave the data as it is."""
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            if await session.scalar(select(Organisation.id).where(Organisation.slug == DEMO_SLUG)):
                return f"Demo organisation '{DEMO_SLUG}' already loaded."
            _, key = await create_org(session, slug=DEMO_SLUG, name="Demo Campaigns", actor="demo")
        return f"Demo organisation '{DEMO_SLUG}' loaded. Admin key (shown once): {key}"
    finally:
        await engine.dispose()
