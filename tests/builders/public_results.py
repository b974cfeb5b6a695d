"""A survey with public results to look at: seven closed monthly waves and an open one, public
and private questions, a text question, public and private decisions, findings.

Answers go in through the real import route; decisions and findings are inserted as rows (their
routes belong to another part of the loop), each with a title or sentence that must, or must
never, appear in public. Wave n is month n of 2025 (tests.builders.analysis.in_wave); at `NOW`
waves 1–7 have closed and wave 8 is open.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.config import Settings
from feedback.loop.models import Decision, DecisionFinding, Finding
from tests.builders.analysis import import_lines, line, session_on, survey_row
from tests.builders.orgs import Org, make_org
from tests.builders.surveys import MONTHLY, make_survey

Client = AsyncTestClient[Litestar]

NOW = datetime(2025, 8, 10, 12, 0, tzinfo=UTC)
PUBLIC = ["trust", "nps", "priority", "actions", "hours"]
MIN_N = 5

# Never to be seen in public: a private question, free text, the open wave.
SECRET_LABEL = "Secret question about the director"
TEXT_ANSWER = "UNIQUE-TEXT-ANSWER"
PRIVATE_DECISION = "Private plan nobody may see"
PRIVATE_FINDING = "The secret score fell"
SUPPRESSED_FINDING = "Trust rose to 5.0 among three people"

DEFINITION: dict[str, Any] = {
    "questions": [
        {
            "key": "trust",
            "type": "likert",
            "label": {
                "en": "I trust the organisation to act on my views",
                "nl": "Ik vertrouw erop dat de organisatie iets met mijn mening doet",
            },
            "scale": {"min": 1, "max": 5},
        },
        {"key": "nps", "type": "nps", "label": "How likely are you to recommend us?"},
        {
            "key": "priority",
            "type": "single_choice",
            "label": {
                "en": "Which issue matters most to you?",
                "nl": "Welk thema vind je het belangrijkst?",
            },
            "options": [
                {"key": "climate", "label": {"en": "Climate", "nl": "Klimaat"}},
                {"key": "housing", "label": {"en": "Housing", "nl": "Wonen"}},
                {"key": "health", "label": {"en": "Health", "nl": "Zorg"}},
            ],
        },
        {
            "key": "actions",
            "type": "multi_choice",
            "label": "What did you do this month?",
            "options": [
                {"key": "petition", "label": "Signed a petition"},
                {"key": "march", "label": "Joined a march"},
                {"key": "donate", "label": "Donated"},
            ],
        },
        {"key": "hours", "type": "number", "label": "Hours volunteered", "min": 0, "max": 168},
        {"key": "comment", "type": "text", "label": "Anything else?", "max_length": 2000},
        {"key": "secret", "type": "likert", "label": SECRET_LABEL, "scale": {"min": 1, "max": 5}},
    ]
}

# trust per wave: wave 3 has fewer than MIN_N answers; wave 8 is still open.
TRUST = {
    1: [4, 4, 4, 5, 5, 3],
    2: [3, 3, 4, 4, 5],
    3: [5, 5, 5],
    4: [2, 3, 3, 4, 4],
    5: [4, 4, 4, 4, 4, 4, 4],
    6: [1, 2, 3, 4, 5],
    7: [5, 5, 4, 4, 3, 3],
    8: [1, 1, 1, 1, 1, 1],
}
# Everything else is answered in wave 7 only, by the same six people.
WAVE_7 = [
    {"nps": 10, "priority": "climate", "actions": ["petition", "march"], "hours": 1},
    {"nps": 10, "priority": "climate", "actions": ["petition"], "hours": 2},
    {"nps": 9, "priority": "climate", "actions": ["petition"], "hours": 3},
    {"nps": 8, "priority": "housing", "actions": ["march"], "hours": 4},
    {"nps": 0, "priority": "housing", "actions": ["donate"], "hours": 5},
    {"nps": 5, "priority": "health", "actions": ["petition", "donate"], "hours": 6},
]


@dataclass(frozen=True)
class World:
    org: Org
    survey_id: uuid.UUID
    done: uuid.UUID
    """The public decision with findings ("done")."""
    planned: uuid.UUID
    """The newer public decision, without findings ("planned")."""
    private: uuid.UUID


def _lines() -> list[dict[str, Any]]:
    lines = []
    for wave, values in TRUST.items():
        for i, trust in enumerate(values):
            answers: dict[str, Any] = {"trust": trust, "secret": 1, "comment": f"{TEXT_ANSWER}-{i}"}
            if wave == 7:
                answers |= WAVE_7[i]
            # Wave 8 is open at NOW: its answers came in before NOW.
            day = 5 if wave == 8 else 15
            lines.append(line(wave, answers, respondent=f"person-{wave}-{i}", day=day))
    return lines


async def make_results_world(
    client: Client, settings: Settings, *, allowed_origins: list[str] | None = None
) -> World:
    """Organisation `acme`, survey `pulse`, as the module docstring says."""
    org = await make_org(client)
    slug = "pulse"
    await make_survey(
        client,
        org,
        slug=slug,
        definition=DEFINITION,
        schedule=MONTHLY,
        settings={
            "public_questions": PUBLIC,
            "min_n": MIN_N,
            "locales": ["nl"],
            "allowed_origins": allowed_origins or [],
        },
    )
    await import_lines(client, org, _lines(), slug=slug)
    async with session_on(settings) as session:
        survey = await survey_row(session, slug)

        def finding(key: str, wave: int, sentence: str, **figures: Any) -> Finding:
            return Finding(
                id=uuid.uuid4(),
                org_id=survey.org_id,
                survey_id=survey.id,
                question_key=key,
                option_key="",
                kind="change",
                wave_number=wave,
                direction="increasing",
                figures=figures,
                sentences={"en": sentence, "nl": f"NL: {sentence}"},
                opened_at=datetime(2025, wave + 1, 2, tzinfo=UTC),
            )

        def decision(title: Any, *, public: bool, status: str, day: datetime) -> Decision:
            return Decision(
                id=uuid.uuid4(),
                org_id=survey.org_id,
                survey_id=survey.id,
                title=title,
                description={
                    "en": "Every first Saturday.\n\nJoin us.",
                    "nl": "Elke eerste zaterdag.",
                },
                decided_at=day,
                question_keys=[],
                public=public,
                status=status,
                published_at=day if public else None,
            )

        shown = finding("trust", 4, "Trust fell from 3.8 to 3.2", from_wave=2)
        private_q = finding("secret", 7, PRIVATE_FINDING)
        suppressed = finding("trust", 3, SUPPRESSED_FINDING, from_wave=2)
        done = decision(
            {"en": "We started monthly river clean-ups", "nl": "We ruimen elke maand rivieren op"},
            public=True,
            status="done",
            day=datetime(2025, 6, 15, 9, 0, tzinfo=UTC),
        )
        planned = decision(
            "A housing forum in every city",
            public=True,
            status="planned",
            day=datetime(2025, 7, 20, 23, 30, tzinfo=UTC),
        )
        private = decision(PRIVATE_DECISION, public=False, status="done", day=NOW)
        session.add_all([shown, private_q, suppressed, done, planned, private])
        await session.flush()
        session.add_all(
            [
                DecisionFinding(decision_id=done.id, finding_id=f.id, org_id=survey.org_id)
                for f in (shown, private_q, suppressed)
            ]
            + [DecisionFinding(decision_id=private.id, finding_id=shown.id, org_id=survey.org_id)]
        )
        await session.commit()
        return World(org, survey.id, done.id, planned.id, private.id)
