"""Build surveys through the real API.

Versions are published at a pinned instant, `PUBLISHED_AT` unless a test names another: an
answer may not be dated before the version it answers was published (imports refuse it), and
tests import answers dated in 2025 and 2026, so the builders' versions exist before then.
The app reads its clock per request, so the publish request alone runs on a clock reading the
instant (`clock_reading`); every other request keeps the test's clock.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.clock import fixed_clock
from tests.builders.orgs import Org

# Before the first wave of every schedule the tests use (MONTHLY starts in January 2025).
PUBLISHED_AT = datetime(2020, 1, 1, tzinfo=UTC)


class AppClient(Protocol):
    """A test client that knows its app: `AsyncTestClient`, or
    `tests.builders.responses.concurrent_client`'s."""

    @property
    def app(self) -> Litestar: ...


@contextmanager
def clock_reading(client: AppClient, instant: datetime) -> Iterator[None]:
    """The client's app reads `instant` for the requests made inside the block."""
    state = client.app.state
    kept = state.clock
    state.clock = fixed_clock(instant)
    try:
        yield
    finally:
        state.clock = kept


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
    published_at: datetime | None = PUBLISHED_AT,
) -> dict[str, Any]:
    """Create a survey (always-open unless `schedule`), publish version 1 at `published_at`
    (None: at the app's clock) unless told not to; returns the survey as GET answers it."""
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
        published = await _publish(client, org, slug, {"note": "first"}, published_at)
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
    at: datetime | None = PUBLISHED_AT,
) -> dict[str, Any]:
    """PUT a draft and publish it at `at` (None: at the app's clock; `confirm_breaks` when it
    breaks a series on purpose); returns the publish answer (version, changes). Versions
    published at the same instant are in effect in the order of their numbers."""
    draft = await client.put(
        f"/api/v1/surveys/{slug}/draft",
        json={"definition": definition},
        headers=org.auth("campaigner"),
    )
    assert draft.status_code == 200, draft.text
    published = await _publish(client, org, slug, {"confirm_breaks": confirm_breaks}, at)
    assert published.status_code == 201, published.text
    body: dict[str, Any] = published.json()
    return body


async def _publish(
    client: AsyncTestClient[Litestar],
    org: Org,
    slug: str,
    body: dict[str, Any],
    at: datetime | None,
) -> Any:
    url = f"/api/v1/surveys/{slug}/publish"
    if at is None:
        return await client.post(url, json=body, headers=org.auth("campaigner"))
    with clock_reading(client, at):
        return await client.post(url, json=body, headers=org.auth("campaigner"))
