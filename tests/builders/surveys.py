"""Build surveys through the real API."""

from __future__ import annotations

import copy
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.builders.orgs import Org

PULSE_DEFINITION: dict[str, Any] = {
    "questions": [
        {
            "key": "trust",
            "type": "likert",
            "label": "I trust the organisation to act on my views",
            "required": True,
            "scale": {
                "min": 1,
                "max": 5,
                "labels": {"1": "Strongly disagree", "5": "Strongly agree"},
            },
        },
        {"key": "nps", "type": "nps", "label": "How likely are you to recommend us to a friend?"},
        {
            "key": "priority",
            "type": "single_choice",
            "label": "Which issue matters most to you?",
            "options": [
                {"key": "climate", "label": "Climate"},
                {"key": "housing", "label": "Housing"},
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
                {"key": "donate", "label": "Donated"},
            ],
            "max_choices": 3,
        },
        {"key": "hours", "type": "number", "label": "Hours volunteered", "min": 0, "max": 168},
        {"key": "comment", "type": "text", "label": "Anything else?", "max_length": 2000},
    ]
}

MONTHLY = {
    "rrule": "FREQ=MONTHLY;BYMONTHDAY=1",
    "starts_at": "2025-01-01T00:00:00Z",
    "timezone": "Europe/Amsterdam",
}


def pulse_definition() -> dict[str, Any]:
    return copy.deepcopy(PULSE_DEFINITION)


async def make_survey(
    client: AsyncTestClient[Litestar],
    org: Org,
    *,
    slug: str = "pulse",
    definition: dict[str, Any] | None = None,
    schedule: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    default_locale: str = "en",
    publish: bool = True,
) -> dict[str, Any]:
    """Create a survey (always-open unless `schedule`), publish version 1 unless told not to;
    returns the survey as GET answers it."""
    created = await client.post(
        "/api/v1/surveys",
        json={
            "slug": slug,
            "title": slug.replace("-", " ").title(),
            "default_locale": default_locale,
            "schedule": schedule,
            "settings": settings or {},
            "definition": definition or pulse_definition(),
        },
        headers=org.auth("campaigner"),
    )
    assert created.status_code == 201, created.text
    if publish:
        published = await client.post(
            f"/api/v1/surveys/{slug}/publish",
            json={"note": "first"},
            headers=org.auth("campaigner"),
        )
        assert published.status_code == 201, published.text
    got = await client.get(f"/api/v1/surveys/{slug}", headers=org.auth("analyst"))
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


async def publish_version(
    client: AsyncTestClient[Litestar],
    org: Org,
    slug: str,
    definition: dict[str, Any],
    *,
    confirm_breaks: bool = False,
) -> dict[str, Any]:
    """PUT a draft and publish it (`confirm_breaks` when it breaks a series on purpose);
    returns the publish answer (version, changes)."""
    draft = await client.put(
        f"/api/v1/surveys/{slug}/draft",
        json={"definition": definition},
        headers=org.auth("campaigner"),
    )
    assert draft.status_code == 200, draft.text
    published = await client.post(
        f"/api/v1/surveys/{slug}/publish",
        json={"confirm_breaks": confirm_breaks},
        headers=org.auth("campaigner"),
    )
    assert published.status_code == 201, published.text
    body: dict[str, Any] = published.json()
    return body
