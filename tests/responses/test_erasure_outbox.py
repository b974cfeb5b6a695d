"""Erasure reaches the webhooks' outbox: an event about one of the erased respondent's responses
is neither kept nor delivered afterwards."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.config import Settings
from tests.builders.orgs import make_org
from tests.builders.responses import (
    make_respondent,
    pulse_answers,
    responses_url,
    scalar,
    submission,
    submitted,
)
from tests.builders.surveys import make_survey

Client = AsyncTestClient[Litestar]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The webhook points at loopback (nothing listens: its deliveries stay pending).
    return settings.model_copy(update={"webhook_allow_private": True})


async def test_erasure_removes_the_pending_events_of_their_responses(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    await make_survey(client, org, slug="second")
    hook = await client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["response.created", "response.revised"]},
        headers=org.auth(),
    )
    assert hook.status_code == 201, hook.text
    person = await make_respondent(client, org, country="NL")
    theirs = submission(respondent_token=person["token"])
    created = await submitted(client, org, theirs)
    revised = await client.put(
        f"{responses_url(org)}/{theirs['response_id']}",
        json={"version": 1, "answers": pulse_answers(comment="revised")},
        headers={"X-Edit-Token": created["edit_token"], "If-Match": '"1"'},
    )
    assert revised.status_code == 200
    # Someone else's response under the same client id in another survey keeps its event.
    keep = submission()
    keep["response_id"] = theirs["response_id"]
    await submitted(client, org, keep, survey="second")
    erased = await client.delete(f"/api/v1/respondents/{person['id']}", headers=org.auth())
    assert erased.status_code == 200

    deliveries = await client.get(
        f"/api/v1/webhooks/{hook.json()['id']}/deliveries", headers=org.auth()
    )
    assert [d["event_type"] for d in deliveries.json()["items"]] == ["response.created"]
    payload = str(await scalar(settings.database_url, "SELECT payload FROM webhook_delivery"))
    assert "second" in payload and "pulse" not in payload
