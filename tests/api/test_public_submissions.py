"""Submissions over the real app: validation, versions, waves, idempotency, respondents."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.clock import Clock, fixed_clock
from feedback.config import Settings
from feedback.orgs.keys import hash_secret
from tests.builders.orgs import make_org
from tests.builders.responses import (
    all_text,
    concurrent_client,
    database,
    make_respondent,
    pulse_answers,
    scalar,
    submission,
    submit,
    submitted,
)
from tests.builders.surveys import (
    MONTHLY,
    clock_reading,
    make_survey,
    publish_version,
    pulse_definition,
)

Client = AsyncTestClient[Litestar]


async def test_a_submission_is_stored_as_document_and_answer_rows(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    body = submission(locale="en", channel="embed")
    got = await submit(client, org, body)
    assert got.status_code == 201
    answer = got.json()
    assert answer["response_id"] == body["response_id"]
    assert answer["revision"] == 1 and answer["wave"] == 1
    assert len(answer["edit_token"]) >= 32
    assert got.headers["etag"] == '"1"'
    async with database(settings.database_url) as conn:
        rows = (
            await conn.exec_driver_sql(
                "SELECT question_key, value_num, option_key, value_text, first, is_current, "
                "revision, wave_number, version FROM answer ORDER BY id"
            )
        ).all()
    # One row per answered question, one per chosen option of the multi-choice question.
    assert [(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows] == [
        ("trust", 4.0, None, None, True),
        ("nps", 9.0, None, None, True),
        ("priority", None, "climate", None, True),
        ("actions", None, "petition", None, True),
        ("actions", None, "march", None, False),
        ("hours", 2.5, None, None, True),
        ("comment", None, None, "Keep going", True),
    ]
    assert all(bool(r[5]) and (r[6], r[7], r[8]) == (1, 1, 1) for r in rows)
    detail = await client.get(
        f"/api/v1/surveys/pulse/responses/{body['response_id']}", headers=org.auth("analyst")
    )
    assert detail.status_code == 200
    assert detail.json()["answers"] == body["answers"]
    assert detail.json()["channel"] == "embed" and detail.json()["locale"] == "en"


async def test_the_same_id_and_body_replays_the_original_result(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    body = submission()
    first = await submit(client, org, body)
    assert first.status_code == 201
    # The same content in another key order is the same body.
    reordered = dict(reversed(list(body.items())))
    again = await submit(client, org, reordered)
    assert again.status_code == 200
    assert again.json() == first.json()
    other = await submit(client, org, {**body, "answers": pulse_answers(trust=1)})
    assert other.status_code == 409
    assert other.headers["content-type"].startswith("application/problem+json")
    listed = await client.get("/api/v1/surveys/pulse/responses", headers=org.auth("analyst"))
    assert len(listed.json()["items"]) == 1
    assert listed.json()["items"][0]["answers"]["trust"] == 4


async def test_fifty_concurrent_duplicates_store_one_response(
    app: Litestar, settings: Settings
) -> None:
    async with concurrent_client(app) as client:
        org = await make_org(client)
        await make_survey(client, org)
        body = submission()
        answers = await asyncio.gather(*(submit(client, org, body) for _ in range(50)))
        assert sorted(a.status_code for a in answers) == [200] * 49 + [201]
        assert len({a.json()["edit_token"] for a in answers}) == 1
        # And fifty different submissions at once are fifty responses.
        many = await asyncio.gather(*(submit(client, org, submission()) for _ in range(50)))
        assert [a.status_code for a in many] == [201] * 50
    assert await scalar(settings.database_url, "SELECT count(*) FROM response") == 51
    assert await scalar(settings.database_url, "SELECT count(*) FROM response_revision") == 51
    assert await scalar(settings.database_url, "SELECT count(*) FROM answer") == 51 * 7


async def test_invalid_answers_are_422_with_pointers_and_store_nothing(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    bad = submission(
        answers=pulse_answers(trust=7, priority="nope", actions=["petition", "fly"], hours=-1)
    )
    got = await submit(client, org, bad)
    assert got.status_code == 422
    pointers = {e["pointer"] for e in got.json()["errors"]}
    assert pointers == {
        "/answers/trust",
        "/answers/priority",
        "/answers/actions/1",
        "/answers/hours",
    }
    missing = await submit(client, org, submission(answers={"nps": 3}))
    assert [e["pointer"] for e in missing.json()["errors"]] == ["/answers/trust"]
    too_long = await submit(client, org, submission(answers=pulse_answers(comment="x" * 2001)))
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["pointer"] == "/answers/comment"
    shape = await submit(client, org, {"response_id": "not-a-uuid", "version": 1, "answers": {}})
    assert shape.status_code == 422
    assert {e["pointer"] for e in shape.json()["errors"]} == {"/response_id"}
    extra = await submit(client, org, submission(attributes={"tier": "gold"}))
    assert extra.status_code == 422 and extra.json()["errors"][0]["pointer"] == "/attributes"
    assert await scalar(settings.database_url, "SELECT count(*) FROM response") == 0


async def test_answers_are_checked_against_the_version_the_form_came_from(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    v2 = pulse_definition()
    v2["questions"].append(
        {"key": "mood", "type": "rating", "label": "Mood", "scale": {"min": 1, "max": 3}}
    )
    assert (await publish_version(client, org, "pulse", v2))["version"] == 2
    with_mood = pulse_answers(mood=2)
    older = await submit(client, org, submission(version=1, answers=with_mood))
    assert older.status_code == 422
    assert [e["pointer"] for e in older.json()["errors"]] == ["/answers/mood"]
    assert (await submit(client, org, submission(version=2, answers=with_mood))).status_code == 201
    # A supporter still on version 1 during the publish is not lost.
    assert (await submit(client, org, submission(version=1))).status_code == 201
    unknown = await submit(client, org, submission(version=3))
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["pointer"] == "/version"
    draft = await client.put(
        "/api/v1/surveys/pulse/draft", json={"definition": v2}, headers=org.auth("campaigner")
    )
    assert draft.status_code == 200
    unpublished = await submit(client, org, submission(version=3))
    assert unpublished.status_code == 422
    assert unpublished.json()["errors"][0]["pointer"] == "/version"


async def test_a_closed_survey_answers_409_with_the_next_opening(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    schedule = {
        "rrule": "FREQ=YEARLY",
        "starts_at": "2099-03-01T00:00:00Z",
        "timezone": "UTC",
        "wave_duration": "P14D",
    }
    await make_survey(client, org, schedule=schedule)
    got = await submit(client, org, submission())
    assert got.status_code == 409
    assert got.json()["next_opens_at"].startswith("2099-03-01T00:00:00")
    assert await scalar(settings.database_url, "SELECT count(*) FROM response") == 0


@pytest.mark.parametrize(
    ("clock", "expected"),
    [
        (fixed_clock(datetime(2026, 3, 15, 10, 0, tzinfo=UTC)), 74),
        (fixed_clock(datetime(2028, 2, 29, 23, 59, 59, tzinfo=UTC)), 790),
        (fixed_clock(datetime(2028, 3, 1, 0, 0, tzinfo=UTC)), 791),
    ],
)
async def test_the_wave_is_the_one_holding_the_receive_time(client: Client, expected: int) -> None:
    org = await make_org(client)
    schedule = {"rrule": "FREQ=DAILY", "starts_at": "2026-01-01T00:00:00Z", "timezone": "UTC"}
    await make_survey(client, org, schedule=schedule)
    got = await submitted(client, org)
    assert got["wave"] == expected
    for wave, expected_count in ((got["wave"], 1), (got["wave"] - 1, 0)):
        listed = await client.get(
            "/api/v1/surveys/pulse/responses",
            params={"wave": str(wave)},
            headers=org.auth("analyst"),
        )
        assert len(listed.json()["items"]) == expected_count


async def test_an_archived_survey_refuses_answers(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    earlier = submission()
    await submitted(client, org, earlier)
    archived = await client.post("/api/v1/surveys/pulse/archive", headers=org.auth("campaigner"))
    assert archived.status_code == 200
    got = await submit(client, org, submission())
    assert got.status_code == 409
    assert "archived" in got.json()["detail"]
    # A replay of what was stored before still gets its original answer.
    assert (await submit(client, org, earlier)).status_code == 200


async def test_unknown_organisation_or_survey_is_404(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    assert (await submit(client, "nobody", submission())).status_code == 404
    assert (await submit(client, org, submission(), survey="nothing")).status_code == 404


async def test_a_personal_token_links_the_supporter_across_waves(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    person = await make_respondent(client, org, external_ref="crm-42", country="NL")
    first = submission(respondent_token=person["token"])
    await submitted(client, org, first)
    await submitted(client, org, submission(respondent_token=person["token"]))
    listed = (
        await client.get("/api/v1/surveys/pulse/responses", headers=org.auth("analyst"))
    ).json()
    assert {r["respondent_id"] for r in listed["items"]} == {person["id"]}
    bad = await submit(client, org, submission(respondent_token="not-a-token"))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/respondent_token"
    # The token is never stored as it came, neither in the respondent nor in the document.
    assert person["token"] not in await _everything(settings)
    assert (
        await scalar(
            settings.database_url,
            "SELECT count(*) FROM respondent WHERE token_hash = :h",
            h=hash_secret(person["token"]),
        )
        == 1
    )


async def test_an_anonymous_id_links_a_browser_without_identifying_it(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    browser = str(uuid.uuid4())
    for _ in range(2):
        await submitted(client, org, submission(anonymous_id=browser))
    await submitted(client, org, submission(anonymous_id=str(uuid.uuid4())))
    listed = (
        await client.get("/api/v1/surveys/pulse/responses", headers=org.auth("analyst"))
    ).json()["items"]
    ids = [r["respondent_id"] for r in listed]
    assert ids[0] == ids[1] and ids[2] not in (None, ids[0])
    assert browser not in await _everything(settings)
    assert (
        await scalar(
            settings.database_url, "SELECT count(*) FROM respondent WHERE kind = 'anonymous'"
        )
        == 2
    )


async def test_a_submission_refused_between_waves_creates_no_respondent(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY | {"wave_duration": "P7D"})
    with clock_reading(client, datetime(2026, 1, 20, tzinfo=UTC)):  # between two waves
        got = await submit(client, org, submission(anonymous_id="browser-between-waves"))
    assert got.status_code == 409, got.text
    assert await _respondents(settings) == 0
    listed = await client.get("/api/v1/respondents", headers=org.auth("admin"))
    assert listed.status_code == 200 and listed.json()["items"] == []


# Archived at the first instant of a month (in UTC, and where the survey's default zone,
# Amsterdam, starts it), the submission a minute later.
FIRSTS = [datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 2, 28, 23, 0, tzinfo=UTC)]


@pytest.mark.parametrize("clock", [fixed_clock(at) for at in FIRSTS], ids=["utc", "amsterdam"])
async def test_a_submission_to_an_archived_survey_creates_no_respondent(
    client: Client, settings: Settings, clock: Clock
) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    archived = await client.post("/api/v1/surveys/pulse/archive", headers=org.auth("campaigner"))
    assert archived.status_code == 200, archived.text
    with clock_reading(client, clock() + timedelta(minutes=1)):
        got = await submit(client, org, submission(anonymous_id="browser-archived-survey"))
    assert got.status_code == 409, got.text
    assert await _respondents(settings) == 0


async def test_a_reused_response_id_creates_no_respondent(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    first = submission()
    await submitted(client, org, first)
    other_answers = dict(first, answers=pulse_answers(trust=1), anonymous_id="browser-reused-id")
    got = await submit(client, org, other_answers)
    assert got.status_code == 409, got.text
    assert await _respondents(settings) == 0


async def test_a_replayed_anonymous_submission_answers_as_before(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    body = submission(anonymous_id="browser-replaying")
    first = await submit(client, org, body)
    again = await submit(client, org, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert await _respondents(settings) == 1
    # Two first submissions of one browser at once (likely one batch) make one respondent.
    both = [submission(anonymous_id="browser-in-a-batch") for _ in range(2)]
    answered = await asyncio.gather(*(submit(client, org, b) for b in both))
    assert [a.status_code for a in answered] == [201, 201]
    assert await _respondents(settings) == 2


async def test_the_edit_token_is_stored_hashed(client: Client, settings: Settings) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    got = await submitted(client, org)
    stored = await _everything(settings)
    assert got["edit_token"] not in stored
    assert hash_secret(got["edit_token"]) in stored


async def _everything(settings: Settings) -> str:
    return await all_text(settings.database_url)


async def _respondents(settings: Settings) -> int:
    return int(await scalar(settings.database_url, "SELECT count(*) FROM respondent"))


@pytest.mark.parametrize("version", [True, "1", 1.0, None])
async def test_a_version_that_is_not_a_json_integer_is_refused(
    client: Client, version: object
) -> None:
    """Lax validation would read `true` and `"1"` as version 1: a client's bug stored against a
    version it never named."""
    org = await make_org(client)
    await make_survey(client, org)
    got = await submit(client, org, submission() | {"version": version})
    assert got.status_code == 422, got.text
    assert [e["pointer"] for e in got.json()["errors"]] == ["/version"]
    stored = await client.get("/api/v1/surveys/pulse/responses", headers=org.auth("analyst"))
    assert stored.json()["items"] == []
