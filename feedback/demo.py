"""Demo data: an organisation with a monthly supporter pulse, a year of answers, a version
change and a decision, so every route has something true to show. Everything is dated from the
`now` the loader is given (`Timeline`), never from the wall clock directly.

Everything goes through the same domain functions the API uses (create, publish, respondents,
the streamed import), so the demo is also a smoke test of the whole write path.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from feedback.config import Settings
from feedback.db import make_engine, make_sessionmaker, transaction
from feedback.loop.findings import check_all_surveys
from feedback.loop.schemas import DecisionCreate
from feedback.loop.service import create_decision
from feedback.orgs import audit
from feedback.orgs.models import AuditEvent, Organisation
from feedback.orgs.principal import Principal, Role
from feedback.orgs.service import create_key, create_org
from feedback.responses.imports import ImportSummary, import_responses
from feedback.responses.respondents import Attributes, create_respondent
from feedback.responses.submissions import Submissions
from feedback.responses.writer import store_for
from feedback.surveys.drafts import publish, put_draft
from feedback.surveys.schemas import SurveyCreate
from feedback.surveys.service import create_survey, get_survey, survey_schedule

DEMO_SLUG = "demo"
SURVEY_SLUG = "pulse"
SEED = 2025
# Answered waves: the whole months before the one the demo is loaded in.
MONTHS = 12
# The first wave after the decision, which lifts trust from then on.
DECISION_WAVE = 7
LOADED = "demo.loaded"
CHANNELS = ("embed", "email", "hosted", "event")
TIERS = ("member", "donor", "volunteer")
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


@dataclass(frozen=True, slots=True)
class DemoSize:
    """How much the demo holds: `respondents`, and how many of them answer each wave."""

    respondents: int = 600
    per_wave: tuple[int, int] = (150, 260)


@dataclass(frozen=True, slots=True)
class Timeline:
    """When everything in the demo happened. Wave 1 opens at `start` (00:00 UTC on the 1st of
    a month); waves 1..MONTHS are complete months, and wave MONTHS + 1 (the month `now` falls
    in) is open and unanswered, so every answer is dated before any `now` the timeline was
    made for, whatever the day, hour or host time zone."""

    start: datetime

    @classmethod
    def ending_before(cls, now: datetime) -> Timeline:
        """The timeline whose answered months are the MONTHS whole months before `now`'s."""
        now = now.astimezone(UTC)
        return cls(_add_months(datetime(now.year, now.month, 1, tzinfo=UTC), -MONTHS))

    def opens(self, wave: int) -> datetime:
        return _add_months(self.start, wave - 1)

    @property
    def created_at(self) -> datetime:
        return self.start - timedelta(days=2)

    @staticmethod
    def version_of(wave: int) -> int:
        return 1 if wave <= DECISION_WAVE - 1 else (2 if wave < MONTHS - 1 else 3)

    def published_at(self, version: int) -> datetime:
        """A day before the first wave answered under `version`."""
        first = next(w for w in range(1, MONTHS + 1) if self.version_of(w) == version)
        return self.opens(first) - timedelta(days=1)

    @property
    def decided_at(self) -> datetime:
        """Five days before wave DECISION_WAVE opens: the first wave after the decision."""
        return self.opens(DECISION_WAVE) - timedelta(days=5)

    def answered_at(self, rng: random.Random, wave: int) -> datetime:
        """Within the first 20 days of the wave's month (every month has 28 or more)."""
        return self.opens(wave) + timedelta(hours=rng.randint(1, 24 * 20))


def _add_months(instant: datetime, months: int) -> datetime:
    index = instant.year * 12 + instant.month - 1 + months
    return instant.replace(year=index // 12, month=index % 12 + 1)


def _answers(rng: random.Random, wave: int, version: int, country: str) -> dict[str, Any]:
    """Answers with a story: trust steps up after the assemblies decision (a level shift an
    impact analysis can measure), housing grows as a priority, the Dutch are warmer."""
    after = wave >= DECISION_WAVE
    lift = (0.45 if after else 0.0) + 0.02 * wave + (0.2 if country == "NL" else 0.0)
    trust = min(5, max(1, round(rng.gauss(2.8 + lift, 1.0))))
    nps = min(10, max(0, round(rng.gauss(6.3 + lift, 2.2))))
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


def _respondent(index: int) -> tuple[str, Attributes]:
    """Respondent `index`'s CRM ref and attributes, the same on every run."""
    rng = random.Random(f"{SEED}/respondent/{index}")
    country = rng.choices(list(COUNTRIES), list(COUNTRIES.values()))[0]
    return f"crm-{index:05d}", {"country": country, "tier": rng.choice(TIERS)}


def _lines(timeline: Timeline, size: DemoSize) -> Iterator[dict[str, Any]]:
    """Every imported answer, the same on every run for the same timeline (so a resumed load
    imports only what is missing: each line's response_id is derived from its wave and ref)."""
    rng = random.Random(SEED)
    people = [_respondent(i) for i in range(size.respondents)]
    low, high = size.per_wave
    for wave in range(1, MONTHS + 1):
        version = timeline.version_of(wave)
        for ref, attributes in rng.sample(people, min(len(people), rng.randint(low, high))):
            yield {
                "response_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo/{wave}/{ref}")),
                "version": version,
                "submitted_at": timeline.answered_at(rng, wave).isoformat(),
                "respondent_ref": ref,
                "channel": rng.choice(CHANNELS),
                "answers": _answers(rng, wave, version, str(attributes["country"])),
            }


async def _chunks(lines: Iterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    for line in lines:
        yield (json.dumps(line) + "\n").encode()


async def load_demo(settings: Settings, *, now: datetime, size: DemoSize = DemoSize()) -> str:
    """Load the demo organisation as of `now`; returns what to tell the person who asked.

    The organisation, its survey, versions, decision and respondents are created in one
    transaction; the answers are then imported (idempotently, by response_id) and the load is
    marked complete in the audit log. A load that stops part-way is resumed by the next run,
    which imports what is missing; a complete one is left alone and hands out a new admin key.
    """
    engine = make_engine(settings.database_url, pool_size=2)
    sessions = make_sessionmaker(engine)
    secret = settings.resolved_secret_key()
    try:
        async with transaction(sessions) as session:
            org = await session.scalar(select(Organisation).where(Organisation.slug == DEMO_SLUG))
            if org is None:
                org, key = await create_org(
                    session, slug=DEMO_SLUG, name="Demo Campaigns", actor="demo"
                )
                admin = Principal.system(org.id, org.slug, actor="demo")
                timeline = Timeline.ending_before(now)
                await _create_story(session, admin, timeline, size, secret)
            else:
                admin = Principal.system(org.id, org.slug, actor="demo")
                _, key = await create_key(
                    session, principal=admin, name="demo admin", role=Role.admin
                )
                if await _is_complete(session, org.id):
                    return _summary(settings, key, loaded=False)
                timeline = await _stored_timeline(session, admin)
        summary = await _import_answers(sessions, engine, settings, admin, timeline, size, now)
        # What the year's waves showed, as the delivery worker would have found it wave by wave.
        await check_all_surveys(sessions, now=now)
        async with transaction(sessions) as session:
            audit.record(
                session,
                admin,
                action=LOADED,
                object_type="organisation",
                object_id=DEMO_SLUG,
                details={"imported": summary.imported, "duplicates": summary.duplicates},
            )
        return _summary(settings, key, loaded=True, imported=summary.imported)
    finally:
        await engine.dispose()


async def _create_story(
    session: AsyncSession, admin: Principal, timeline: Timeline, size: DemoSize, secret: str
) -> None:
    """The survey and everything around it, each dated on the timeline."""
    await create_survey(
        session,
        principal=admin,
        data=SurveyCreate(
            slug=SURVEY_SLUG,
            title="Supporter pulse",
            default_locale="en",
            schedule={
                "rrule": "FREQ=MONTHLY;BYMONTHDAY=1",
                "starts_at": timeline.start.isoformat(),
                "timezone": "UTC",
            },
            settings={
                "locales": ["en", "nl"],
                "min_n": 5,
                "allowed_origins": ["http://localhost:8080", "http://127.0.0.1:8080"],
                "public_questions": ["trust", "nps", "priority"],
            },
            definition=_definition(1),
        ),
        now=timeline.created_at,
    )
    await publish(
        session,
        principal=admin,
        slug=SURVEY_SLUG,
        note="First pulse",
        now=timeline.published_at(1),
    )
    for version in (2, 3):
        await put_draft(
            session,
            principal=admin,
            slug=SURVEY_SLUG,
            definition=_definition(version),
            note=f"Version {version}",
        )
        await publish(
            session,
            principal=admin,
            slug=SURVEY_SLUG,
            note=f"Version {version}",
            now=timeline.published_at(version),
            # Version 3 widens the energy scale: a break the demo's trends are meant to show.
            confirm_breaks=True,
        )
    await create_decision(
        session,
        principal=admin,
        slug=SURVEY_SLUG,
        data=DecisionCreate(
            title="Monthly supporter assemblies",
            description="Supporters felt unheard; each region now meets monthly.",
            decided_at=timeline.decided_at,
            question_keys=["trust"],
            public=True,
        ),
        now=timeline.decided_at,
    )
    for index in range(size.respondents):
        ref, attributes = _respondent(index)
        await create_respondent(
            session, principal=admin, secret=secret, external_ref=ref, attributes=attributes
        )


async def _is_complete(session: AsyncSession, org_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(AuditEvent.id).where(AuditEvent.org_id == org_id, AuditEvent.action == LOADED)
    )
    return found is not None


async def _stored_timeline(session: AsyncSession, admin: Principal) -> Timeline:
    """The timeline an interrupted load began with, read back from its survey's schedule."""
    survey = await get_survey(session, org_id=admin.org_id, slug=SURVEY_SLUG)
    schedule = survey_schedule(survey)
    assert schedule is not None
    return Timeline(schedule.starts_at.astimezone(UTC))


async def _import_answers(
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    settings: Settings,
    admin: Principal,
    timeline: Timeline,
    size: DemoSize,
    now: datetime,
) -> ImportSummary:
    secret = settings.resolved_secret_key()
    submissions = Submissions(sessions, store_for(settings.database_url, engine), secret=secret)
    try:
        summary = await import_responses(
            sessions,
            submissions,
            principal=admin,
            slug=SURVEY_SLUG,
            media_type="application/x-ndjson",
            chunks=_chunks(_lines(timeline, size)),
            max_bytes=settings.import_max_bytes,
            now=now,
        )
    finally:
        await submissions.close()
    if summary.rejected:
        raise RuntimeError(f"demo import rejected lines: {summary.rejected[:3]}")
    return summary


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
            f"  results page:  {base}/r/{DEMO_SLUG}/{SURVEY_SLUG}",
            f"  API docs:      {base}/schema/swagger",
            f"  trends:        curl -H 'Authorization: Bearer {key}' "
            f"'{base}/api/v1/surveys/{SURVEY_SLUG}/trends?questions=trust,nps,priority'",
        ]
    )
