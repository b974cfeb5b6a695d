"""Demo data: an organisation with a monthly supporter pulse that tells the product's story.

Eighteen monthly waves through three versions (version 2 adds a question and rewords one,
version 3 widens a scale, which breaks that series), about 20,000 responses from embed, hosted,
email and event-import channels (supporters met at events answer warmer than online ones),
respondents with a country, a cohort and a tier, many of whom answer wave after wave (a panel),
a rising priority, and a public decision followed by a level shift in trust that the impact
analysis measures. Everything is dated from the `now` the loader is given (`Timeline`), never
from the wall clock directly.

Everything goes through the same domain functions the API uses (create, publish, respondents,
the streamed import), so the demo is also a smoke test of the whole write path.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from feedback.analysis import report
from feedback.config import Settings
from feedback.db import make_engine, make_sessionmaker, transaction
from feedback.loop.findings import check_all_surveys
from feedback.loop.schemas import DecisionCreate
from feedback.loop.service import create_decision
from feedback.orgs import audit
from feedback.orgs.models import AuditEvent, Organisation
from feedback.orgs.principal import Principal, Role
from feedback.orgs.service import create_key, create_org
from feedback.responses.group_commit import store_for
from feedback.responses.imports import ImportSummary, import_responses
from feedback.responses.respondents import Attributes, create_respondents
from feedback.responses.submissions import Submissions
from feedback.surveys.drafts import publish, put_draft
from feedback.surveys.schedule import survey_schedule
from feedback.surveys.schemas import SurveyCreate
from feedback.surveys.service import create_survey, get_survey

DEMO_SLUG = "demo"
SURVEY_SLUG = "pulse"
SEED = 2025
# Answered waves: the whole months before the one the demo is loaded in.
MONTHS = 18
# The first waves under versions 2 and 3.
VERSION_STARTS = {2: 7, 3: 13}
# The first wave after the decision, which lifts trust from then on.
DECISION_WAVE = 10
LOADED = "demo.loaded"
# Online channels, and the one offline: paper forms from events, imported afterwards.
CHANNELS = {"embed": 0.4, "email": 0.28, "hosted": 0.17, "event": 0.15}
OFFLINE = "event"
TIERS = ("member", "donor", "volunteer")
ACTION_RATES = {"petition": 0.5, "march": 0.15, "donate": 0.3}
COUNTRIES = {"UK": 0.4, "NL": 0.2, "DE": 0.2, "FR": 0.1, "ES": 0.1}
# Cohorts are the year a supporter joined, counted back from the year wave 1 opens.
COHORT_AGES = {0: 0.3, 1: 0.3, 2: 0.25, 3: 0.15}
# Hosted-page answers without a personal link belong to no respondent.
ANONYMOUS_SHARE = 0.5

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
    """Version 1; version 2 adds `energy` and rewords `trust` (its trend continues); version 3
    widens `energy`'s scale from 1–5 to 1–10, which breaks that series."""
    trust_label = (
        {
            "en": "I trust the organisation to act on my views",
            "nl": "Ik vertrouw erop dat de organisatie iets doet met mijn mening",
        }
        if version == 1
        else {
            "en": "I trust the organisation to act on what supporters say",
            "nl": "Ik vertrouw erop dat de organisatie iets doet met wat supporters zeggen",
        }
    )
    questions: list[dict[str, Any]] = [
        {
            "key": "trust",
            "type": "likert",
            "label": trust_label,
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

    respondents: int = 2400
    per_wave: tuple[int, int] = (1000, 1250)

    def expected_responses(self) -> int:
        return MONTHS * min(self.respondents, sum(self.per_wave) // 2)


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
        return max([1] + [v for v, first in VERSION_STARTS.items() if wave >= first])

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


def _answers(
    rng: random.Random, wave: int, version: int, country: str, channel: str
) -> dict[str, Any]:
    """Answers with a story: trust steps up after the assemblies decision (a level shift an
    impact analysis can measure), recommendation and housing rise month by month, the Dutch
    and the supporters met at events (offline) are warmer than the rest."""
    warmth = (0.2 if country == "NL" else 0.0) + (0.5 if channel == OFFLINE else 0.0)
    lift = (0.45 if wave >= DECISION_WAVE else 0.0) + 0.01 * wave + warmth
    trust = min(5, max(1, round(rng.gauss(2.8 + lift, 1.0))))
    nps = min(10, max(0, round(rng.gauss(6.9 + 0.08 * wave + 1.5 * warmth, 2.0))))
    housing = 0.2 + 0.025 * wave
    priority = rng.choices(["climate", "housing", "health"], [0.5, housing, 0.25])[0]
    actions = [key for key, p in ACTION_RATES.items() if rng.random() < p]
    answers: dict[str, Any] = {"trust": trust, "nps": nps, "priority": priority, "actions": actions}
    if rng.random() < 0.8:
        answers["hours"] = round(max(0.0, rng.gauss(4 + 0.1 * wave, 3)), 1)
    if version >= 2:
        top = 10 if version >= 3 else 5
        answers["energy"] = min(top, max(1, round(rng.gauss(top * 0.6, top * 0.2))))
    if rng.random() < 0.1:
        answers["comment"] = rng.choice(COMMENTS[wave >= DECISION_WAVE])
    return answers


# What supporters write, before the decision and after it.
COMMENTS = {
    False: [
        "Nobody listens to what we say.",
        "Emails are too frequent.",
        "More local events please.",
        "I never hear what happened to the petition.",
        "Great march.",
    ],
    True: [
        "The assembly in my town was great.",
        "Finally we get a say.",
        "Keep the assemblies going!",
        "Emails are too frequent.",
        "Great march.",
    ],
}


def _respondent(index: int, first_year: int) -> tuple[str, Attributes]:
    """Respondent `index`'s CRM ref and attributes, the same on every run for the same
    timeline (`first_year` is the year wave 1 opens)."""
    rng = random.Random(f"{SEED}/respondent/{index}")
    country = rng.choices(list(COUNTRIES), list(COUNTRIES.values()))[0]
    age = rng.choices(list(COHORT_AGES), list(COHORT_AGES.values()))[0]
    return f"crm-{index:05d}", {
        "country": country,
        "cohort": str(first_year - age),
        "tier": rng.choice(TIERS),
    }


def _lines(timeline: Timeline, size: DemoSize) -> Iterator[dict[str, Any]]:
    """Every imported answer, the same on every run for the same timeline (so a resumed load
    imports only what is missing: each line's response_id is derived from its wave and ref).
    Most respondents answer many waves: the panel analysis has the same people twice."""
    rng = random.Random(SEED)
    people = [_respondent(i, timeline.start.year) for i in range(size.respondents)]
    low, high = size.per_wave
    for wave in range(1, MONTHS + 1):
        version = timeline.version_of(wave)
        chosen = rng.sample(people, min(len(people), rng.randint(low, high)))
        for index, (ref, attributes) in enumerate(chosen):
            channel = rng.choices(list(CHANNELS), list(CHANNELS.values()))[0]
            line: dict[str, Any] = {
                "response_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo/{wave}/{ref}")),
                "version": version,
                "submitted_at": timeline.answered_at(rng, wave).isoformat(),
                "channel": channel,
                "answers": _answers(rng, wave, version, str(attributes["country"]), channel),
            }
            if channel != "hosted" or rng.random() >= ANONYMOUS_SHARE:
                line["respondent_ref"] = ref
            else:
                line["response_id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo/{wave}/a{index}"))
            yield line


# Progress of the import: lines sent so far, and about how many there will be.
Progress = Callable[[int, int], None]
_CHUNK_LINES = 250
REPORT_LINK_LIFETIME = timedelta(days=30)


def terminal_progress(stream: TextIO) -> Progress | None:
    """Progress on one rewritten terminal line; none when `stream` is not a terminal (a log
    or a pipe would fill with carriage returns)."""
    if not stream.isatty():
        return None

    def show(done: int, expected: int) -> None:
        stream.write(f"\r  importing responses: {done:,} of about {expected:,}")
        if done >= expected:
            stream.write("\n")
        stream.flush()

    return show


async def _chunks(
    lines: Iterator[dict[str, Any]], progress: Progress | None, expected: int
) -> AsyncIterator[bytes]:
    batch: list[str] = []
    done = 0
    for line in lines:
        batch.append(json.dumps(line))
        if len(batch) == _CHUNK_LINES:
            done += len(batch)
            yield ("\n".join(batch) + "\n").encode()
            batch.clear()
            if progress is not None:
                progress(done, max(done, expected))
    if batch:
        done += len(batch)
        yield ("\n".join(batch) + "\n").encode()
    if progress is not None:
        progress(done, done)


@dataclass(frozen=True, slots=True)
class Handout:
    """What the person who loaded the demo is given: a key per role and a report link."""

    keys: dict[Role, str]
    report_token: str


async def load_demo(
    settings: Settings,
    *,
    now: datetime,
    size: DemoSize = DemoSize(),
    progress: Progress | None = None,
) -> str:
    """Load the demo organisation as of `now`; returns what to tell the person who asked.

    The organisation, its survey, versions, decision and respondents are created in one
    transaction; the answers are then imported (idempotently, by response_id) and the load is
    marked complete in the audit log. A load that stops part-way is resumed by the next run,
    which imports what is missing; a complete one is left alone and hands out new keys.
    """
    engine = make_engine(settings.database_url, pool_size=2)
    sessions = make_sessionmaker(engine)
    secret = settings.resolved_secret_key()
    try:
        admin_key: str | None = None
        async with transaction(sessions) as session:
            org = await session.scalar(select(Organisation).where(Organisation.slug == DEMO_SLUG))
            if org is None:
                org, admin_key = await create_org(
                    session, slug=DEMO_SLUG, name="Demo Campaigns", actor="demo"
                )
                admin = Principal.system(org.id, org.slug, actor="demo")
                timeline = Timeline.ending_before(now)
                await _create_story(session, admin, timeline, size, secret)
            else:
                admin = Principal.system(org.id, org.slug, actor="demo")
                if await _is_complete(session, org.id):
                    handout = await _hand_out(session, admin, secret, now, admin_key=None)
                    return _summary(settings, handout, loaded=False)
                timeline = await _stored_timeline(session, admin)
        summary = await _import_answers(
            sessions, engine, settings, admin, timeline, size, now, progress
        )
        # What the waves showed, as the delivery worker would have found it wave by wave.
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
            handout = await _hand_out(session, admin, secret, now, admin_key=admin_key)
        return _summary(settings, handout, loaded=True, imported=summary.imported)
    finally:
        await engine.dispose()


async def _hand_out(
    session: AsyncSession, admin: Principal, secret: str, now: datetime, *, admin_key: str | None
) -> Handout:
    """A key for each role (the organisation's first admin key when it was just made) and a
    report link, so each kind of user can start at once."""
    keys: dict[Role, str] = {}
    for role in (Role.admin, Role.campaigner, Role.analyst):
        if role is Role.admin and admin_key is not None:
            keys[role] = admin_key
            continue
        _, keys[role] = await create_key(
            session, principal=admin, name=f"demo {role.value}", role=role
        )
    link = await report.create_link(
        session,
        principal=admin,
        slug=SURVEY_SLUG,
        expires_in=REPORT_LINK_LIFETIME,
        secret=secret,
        now=now,
    )
    return Handout(keys, link.token)


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
    people = [_respondent(index, timeline.start.year) for index in range(size.respondents)]
    await create_respondents(session, principal=admin, secret=secret, people=people)


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
    progress: Progress | None,
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
            chunks=_chunks(_lines(timeline, size), progress, size.expected_responses()),
            max_bytes=settings.import_max_bytes,
            now=now,
        )
    finally:
        await submissions.close()
    if summary.rejected:
        raise RuntimeError(f"demo import rejected lines: {summary.rejected[:3]}")
    return summary


def _summary(settings: Settings, handout: Handout, *, loaded: bool, imported: int = 0) -> str:
    base = settings.base_url.rstrip("/")
    head = (
        f"Demo organisation '{DEMO_SLUG}' loaded: survey '{SURVEY_SLUG}', {MONTHS} monthly waves, "
        f"{imported} responses."
        if loaded
        else f"Demo organisation '{DEMO_SLUG}' was already loaded; here are new keys."
    )
    keys = handout.keys
    survey = f"{base}/api/v1/surveys/{SURVEY_SLUG}"
    return "\n".join(
        [
            head,
            "Keys (each shown once; send one as 'Authorization: Bearer KEY'):",
            f"  admin key (shown once): {keys[Role.admin]}",
            f"  campaigner key: {keys[Role.campaigner]}",
            f"  analyst key:    {keys[Role.analyst]}",
            "Supporters:",
            f"  hosted form:    {base}/f/{DEMO_SLUG}/{SURVEY_SLUG}",
            f'  embed:          <div data-feedback-survey="{DEMO_SLUG}/{SURVEY_SLUG}"></div>'
            f'<script src="{base}/embed.js" async></script>',
            f"  results page:   {base}/r/{DEMO_SLUG}/{SURVEY_SLUG}",
            "Analysts:",
            f"  report:         {base}/reports/{handout.report_token}"
            f" (valid {REPORT_LINK_LIFETIME.days} days)",
            f"  chart:          curl -H 'Authorization: Bearer {keys[Role.analyst]}' "
            f"-o trust.svg '{survey}/trends/trust/chart.svg'",
            f"  trends:         curl -H 'Authorization: Bearer {keys[Role.analyst]}' "
            f"'{survey}/trends?questions=trust,nps,priority&segment=country'",
            f"  API browser:    {base}/schema/swagger",
            "For README.md's walkthroughs, paste this line into your shell:",
            f"  export BASE={base} ADMIN={keys[Role.admin]} "
            f"CAMPAIGNER={keys[Role.campaigner]} ANALYST={keys[Role.analyst]}",
        ]
    )
