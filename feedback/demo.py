"""Demo data: an organisation with a monthly supporter pulse, a year of answers, a version
change and a decision, so every route has something true to show.

Everything goes through the same domain functions the API uses (create, publish, respondents,
the streamed import), so the demo is also a smoke test of the whole write path.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from feedback.config import Settings
from feedback.db import make_engine, make_sessionmaker, transaction
from feedback.loop.schemas import DecisionCreate
from feedback.loop.service import create_decision
from feedback.orgs.models import Organisation
from feedback.orgs.principal import Principal, Role
from feedback.orgs.service import create_key, create_org
from feedback.responses.imports import import_responses
from feedback.responses.respondents import create_respondent
from feedback.responses.submissions import Submissions
from feedback.responses.writer import store_for
from feedback.surveys.schemas import SurveyCreate
from feedback.surveys.service import create_survey, publish, put_draft

DEMO_SLUG = "demo"
SURVEY_SLUG = "pulse"
MONTHS = 12
RESPONDENTS = 600
ACTION_RATES = {"petition": 0.5, "march": 0.15, "donate": 0.3}
COUNTRIES = {"UK": 0.45, "NL": 0.25, "DE": 0.2, "FR": 0.1}

OPTIONS = [
    {"key": "climate", "label": {"en": "Climate", "nl": "Klimaat"}},
    {"key": "housing", "label": {"en": "Housing", "nl": "Wonen"}},
    {"key": "health", "label": {"en": "Health", "nl": "Zorg"}},
]
ACTIONS = [
    {"key": "petition", "label": {"en": "Signed a petition", "nl": "Petitie getekend"}},
    {"key": "march", "label": {"en": "Joined a march", "nl": "Meegelopen in een mars"}},
    {"key": "donate", "label": {"en": "Donated", "nl": "Gedoneerd"}},
]


def _definition(version: int) -> dict[str, Any]:
    questions: list[dict[str, Any]] = [
        {
            "key": "trust",
            "type": "likert",
            "label": {
                "en": "I trust the organisation to act on my views",
                "nl": "Ik vertrouw erop dat de organisatie iets doet met mijn mening",
            },
            "required": True,
            "scale": {
                "min": 1,
                "max": 5,
                "labels": {
                    "1": {"en": "Strongly disagree", "nl": "Helemaal oneens"},
                    "5": {"en": "Strongly agree", "nl": "Helemaal eens"},
                },
            },
        },
        {
            "key": "nps",
            "type": "nps",
            "label": {
                "en": "How likely are you to recommend us to a friend?",
                "nl": "Hoe waarschijnlijk is het dat u ons aanbeveelt?",
            },
        },
        {
            "key": "priority",
            "type": "single_choice",
            "label": {
                "en": "Which issue matters most to you?",
                "nl": "Welk thema vindt u het belangrijkst?",
            },
            "options": OPTIONS,
        },
        {
            "key": "actions",
            "type": "multi_choice",
            "label": {"en": "What did you do this month?", "nl": "Wat heeft u deze maand gedaan?"},
            "options": ACTIONS,
            "max_choices": 3,
        },
        {
            "key": "hours",
            "type": "number",
            "label": {
                "en": "Hours volunteered this month",
                "nl": "Uren vrijwilligerswerk deze maand",
            },
            "min": 0,
            "max": 168,
        },
        {
            "key": "comment",
            "type": "text",
            "label": {"en": "Anything else?", "nl": "Nog iets?"},
            "max_length": 2000,
        },
    ]
    if version >= 2:
        # Version 2 moves "energy" in and widens the rating: a change the trend must split at.
        questions.insert(
            4,
            {
                "key": "energy",
                "type": "rating",
                "label": {"en": "How energised do you feel?", "nl": "Hoeveel energie heeft u?"},
                "scale": {"min": 1, "max": 10 if version >= 3 else 5},
            },
        )
    return {"questions": questions}


def _month_start(now: datetime, back: int) -> datetime:
    year, month = now.year, now.month - back
    while month <= 0:
        month += 12
        year -= 1
    return datetime(year, month, 1, tzinfo=UTC)


def _answers(rng: random.Random, wave: int, version: int, country: str) -> dict[str, Any]:
    """Answers with a story: trust drifts up after the decision halfway, housing grows."""
    lift = 0.08 * max(0, wave - MONTHS // 2) + (0.2 if country == "NL" else 0.0)
    trust = min(5, max(1, round(rng.gauss(3.0 + lift, 1.0))))
    nps = min(10, max(0, round(rng.gauss(6.5 + lift, 2.2))))
    housing = 0.25 + 0.02 * wave
    priority = rng.choices(["climate", "housing", "health"], [0.5, housing, 0.25])[0]
    actions = [key for key, p in ACTION_RATES.items() if rng.random() < p]
    answers: dict[str, Any] = {"trust": trust, "nps": nps, "priority": priority, "actions": actions}
    if rng.random() < 0.8:
        answers["hours"] = round(max(0.0, rng.gauss(4 + 0.1 * wave, 3)), 1)
    if version >= 2:
        top = 10 if version >= 3 else 5
        answers["energy"] = min(top, max(1, round(rng.gauss(top * 0.6, top * 0.2))))
    if rng.random() < 0.1:
        answers["comment"] = rng.choice(
            ["Keep going!", "More local events please.", "Emails are too frequent.", "Great march."]
        )
    return answers


async def _lines(rng: random.Random, now: datetime, refs: dict[str, str]) -> AsyncIterator[bytes]:
    people = list(refs)
    for wave in range(1, MONTHS + 1):
        opens = _month_start(now, MONTHS - wave)
        version = 1 if wave <= MONTHS // 2 else (2 if wave < MONTHS - 1 else 3)
        for ref in rng.sample(people, rng.randint(150, 260)):
            line = {
                "response_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo/{wave}/{ref}")),
                "version": version,
                "submitted_at": (opens + timedelta(hours=rng.randint(1, 24 * 20))).isoformat(),
                "respondent_ref": ref,
                "channel": rng.choice(["embed", "email", "hosted", "event"]),
                "answers": _answers(rng, wave, version, refs[ref]),
            }
            yield (json.dumps(line) + "\n").encode()


async def load_demo(settings: Settings) -> str:
    """Load the demo organisation once; later runs hand out a fresh admin key for it."""
    engine = make_engine(settings.database_url, pool_size=2)
    sessions = make_sessionmaker(engine)
    secret = settings.resolved_secret_key()
    try:
        async with transaction(sessions) as session:
            org = await session.scalar(select(Organisation).where(Organisation.slug == DEMO_SLUG))
            if org is not None:
                admin = Principal.system(org.id, org.slug, actor="demo")
                _, key = await create_key(
                    session, principal=admin, name="demo admin", role=Role.admin
                )
                return _summary(settings, key, loaded=False)
            org, key = await create_org(
                session, slug=DEMO_SLUG, name="Demo Campaigns", actor="demo"
            )
            admin = Principal.system(org.id, org.slug, actor="demo")
            now = datetime.now(UTC)
            start = _month_start(now, MONTHS - 1)
            await create_survey(
                session,
                principal=admin,
                data=SurveyCreate(
                    slug=SURVEY_SLUG,
                    title="Supporter pulse",
                    default_locale="en",
                    schedule={
                        "rrule": "FREQ=MONTHLY;BYMONTHDAY=1",
                        "starts_at": start.isoformat(),
                        "timezone": "UTC",
                    },
                    settings={
                        "locales": ["en", "nl"],
                        "min_n": 5,
                        "allowed_origins": ["http://localhost:8080", "http://127.0.0.1:8080"],
                    },
                    definition=_definition(1),
                ),
            )
            await publish(session, principal=admin, slug=SURVEY_SLUG, note="First pulse")
            for version in (2, 3):
                await put_draft(
                    session,
                    principal=admin,
                    slug=SURVEY_SLUG,
                    definition=_definition(version),
                    note=f"Version {version}",
                )
                await publish(session, principal=admin, slug=SURVEY_SLUG, note=f"Version {version}")
            await create_decision(
                session,
                principal=admin,
                slug=SURVEY_SLUG,
                data=DecisionCreate(
                    title="Monthly supporter assemblies",
                    description="Supporters felt unheard; each region now meets monthly.",
                    decided_at=_month_start(now, MONTHS // 2) - timedelta(days=5),
                    question_keys=["trust"],
                    public=True,
                ),
            )
            rng = random.Random(2025)
            refs: dict[str, str] = {}
            for i in range(RESPONDENTS):
                ref = f"crm-{i:05d}"
                country = rng.choices(list(COUNTRIES), list(COUNTRIES.values()))[0]
                tier = rng.choice(["member", "donor", "volunteer"])
                await create_respondent(
                    session,
                    principal=admin,
                    secret=secret,
                    external_ref=ref,
                    attributes={"country": country, "tier": tier},
                )
                refs[ref] = country
        submissions = Submissions(sessions, store_for(settings.database_url, engine), secret=secret)
        try:
            summary = await import_responses(
                sessions,
                submissions,
                principal=admin,
                slug=SURVEY_SLUG,
                media_type="application/x-ndjson",
                chunks=_lines(rng, now, refs),
                max_bytes=settings.import_max_bytes,
            )
        finally:
            await submissions.close()
        if summary.rejected:
            raise RuntimeError(f"demo import rejected lines: {summary.rejected[:3]}")
        return _summary(settings, key, loaded=True, imported=summary.imported)
    finally:
        await engine.dispose()


def _summary(settings: Settings, key: str, *, loaded: bool, imported: int = 0) -> str:
    base = settings.base_url.rstrip("/")
    head = (
        f"Demo organisation '{DEMO_SLUG}' loaded: survey '{SURVEY_SLUG}', {MONTHS} monthly waves, "
        f"{imported} responses."
        if loaded
        else f"Demo organisation '{DEMO_SLUG}' was already loaded; here is a new admin key."
    )
    return "\n".join(
        [
            head,
            f"  admin key (shown once): {key}",
            f"  hosted form:   {base}/f/{DEMO_SLUG}/{SURVEY_SLUG}",
            f"  API docs:      {base}/schema/swagger",
            f"  trends:        curl -H 'Authorization: Bearer {key}' "
            f"'{base}/api/v1/surveys/{SURVEY_SLUG}/trends?questions=trust,nps,priority'",
        ]
    )
