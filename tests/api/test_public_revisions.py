"""Revisions: PUT with X-Edit-Token and If-Match adds revision n+1 and keeps the history."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.config import Settings
from tests.builders.orgs import Org, make_org
from tests.builders.responses import (
    Client as AnyClient,
)
from tests.builders.responses import (
    all_text,
    concurrent_client,
    database,
    make_respondent,
    pulse_answers,
    responses_url,
    submission,
    submitted,
)
from tests.builders.surveys import make_survey

Client = AsyncTestClient[Litestar]


async def revise(
    client: AnyClient,
    org: Org,
    created: dict[str, Any],
    answers: dict[str, Any],
    *,
    if_match: str | None = '"1"',
    token: str | None = None,
    version: int = 1,
) -> Any:
    headers = {"X-Edit-Token": token or created["edit_token"]}
    if if_match is not None:
        headers["If-Match"] = if_match
    return await client.put(
        f"{responses_url(org)}/{created['response_id']}",
        json={"version": version, "answers": answers},
        headers=headers,
    )


async def test_a_revision_keeps_history_and_moves_the_current_flag(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    created = await submitted(client, org)
    got = await revise(client, org, created, pulse_answers(trust=2, actions=["donate"]))
    assert got.status_code == 200, got.text
    assert got.json()["revision"] == 2 and got.json()["wave"] == created["wave"]
    assert got.headers["etag"] == '"2"'
    detail = (
        await client.get(
            f"/api/v1/surveys/pulse/responses/{created['response_id']}",
            headers=org.auth("analyst"),
        )
    ).json()
    assert detail["revision"] == 2 and detail["answers"]["trust"] == 2
    assert [r["revision"] for r in detail["revisions"]] == [1, 2]
    assert detail["revisions"][0]["answers"]["trust"] == 4
    async with database(settings.database_url) as conn:
        rows = (
            await conn.exec_driver_sql(
                "SELECT revision, question_key, value_num, option_key, is_current FROM answer"
            )
        ).all()
    current = {(r[1], r[2], r[3]) for r in rows if r[4]}
    assert {r[0] for r in rows if r[4]} == {2}
    assert ("trust", 2.0, None) in current and ("trust", 4.0, None) not in current
    assert ("actions", None, "donate") in current and ("actions", None, "petition") not in current
    # Both revisions' rows are kept; only the flag says which one analysis counts.
    assert sum(1 for r in rows if r[0] == 1) == 7 and not any(r[4] for r in rows if r[0] == 1)


async def test_analysis_counts_only_the_latest_revision(client: Client, settings: Settings) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    created = await submitted(client, org)
    await submitted(client, org, submission(answers=pulse_answers(trust=5)))
    await revise(client, org, created, pulse_answers(trust=1))
    async with database(settings.database_url) as conn:
        counts = (
            await conn.exec_driver_sql(
                "SELECT value_num, count(*) FROM answer WHERE survey_id IN "
                "(SELECT id FROM survey) AND question_key = 'trust' AND is_current "
                "GROUP BY value_num ORDER BY value_num"
            )
        ).all()
    assert [tuple(c) for c in counts] == [(1.0, 1), (5.0, 1)]


async def test_a_stale_if_match_is_412_and_changes_nothing(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    created = await submitted(client, org)
    assert (await revise(client, org, created, pulse_answers(trust=2))).status_code == 200
    stale = await revise(client, org, created, pulse_answers(trust=3), if_match='"1"')
    assert stale.status_code == 412
    assert stale.headers["content-type"].startswith("application/problem+json")
    later = await revise(client, org, created, pulse_answers(trust=3), if_match='"2"')
    assert later.status_code == 200 and later.json()["revision"] == 3
    unconditional = await revise(client, org, created, pulse_answers(trust=5), if_match=None)
    assert unconditional.json()["revision"] == 4
    garbled = await revise(client, org, created, pulse_answers(), if_match="four")
    assert garbled.status_code == 422
    assert garbled.json()["errors"][0]["pointer"] == "/If-Match"


async def test_resending_a_revision_answers_it_again(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    created = await submitted(client, org)
    first = await revise(client, org, created, pulse_answers(trust=2))
    # The device did not hear back and sends the same revision, still naming revision 1.
    again = await revise(client, org, created, pulse_answers(trust=2))
    assert again.status_code == 200 and again.json() == first.json()


async def test_two_devices_revising_at_once_cannot_both_win(app: Litestar) -> None:
    async with concurrent_client(app) as client:
        org = await make_org(client)
        await make_survey(client, org)
        created = await submitted(client, org)
        answers = await asyncio.gather(
            *(revise(client, org, created, pulse_answers(trust=t)) for t in (1, 2, 3, 5))
        )
        assert sorted(a.status_code for a in answers) == [200, 412, 412, 412]


async def test_the_edit_token_is_required_and_checked(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    created = await submitted(client, org)
    other = await submitted(client, org)
    wrong = await revise(client, org, created, pulse_answers(), token=other["edit_token"])
    assert wrong.status_code == 404
    missing = await client.put(
        f"{responses_url(org)}/{created['response_id']}",
        json={"version": 1, "answers": pulse_answers()},
    )
    assert missing.status_code == 422
    bad_answers = await revise(client, org, created, pulse_answers(trust=9))
    assert bad_answers.status_code == 422
    assert bad_answers.json()["errors"][0]["pointer"] == "/answers/trust"


async def test_allow_edits_false_forbids_revisions(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org, settings={"allow_edits": False})
    created = await submitted(client, org)
    got = await revise(client, org, created, pulse_answers(trust=1))
    assert got.status_code == 409
    detail = await client.get(
        f"/api/v1/surveys/pulse/responses/{created['response_id']}", headers=org.auth("analyst")
    )
    assert detail.json()["revision"] == 1


async def test_an_archived_survey_takes_no_revisions(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    created = await submitted(client, org)
    await client.post("/api/v1/surveys/pulse/archive", headers=org.auth("campaigner"))
    assert (await revise(client, org, created, pulse_answers(trust=1))).status_code == 409


async def test_a_body_field_named_like_a_path_parameter_is_located_in_the_body(
    client: Client,
) -> None:
    """The domain names `/response_id`; the route has a `response_id` path parameter too, but
    the field it checked is the body's, and problem+json says so (no `source`: the body)."""
    org = await make_org(client)
    await make_survey(client, org)
    created = await submitted(client, org)
    got = await client.put(
        f"{responses_url(org)}/{created['response_id']}",
        json={
            "version": 1,
            "answers": pulse_answers(trust=2),
            "response_id": "00000000-0000-4000-8000-000000000000",
        },
        headers={"X-Edit-Token": created["edit_token"]},
    )
    assert got.status_code == 422, got.text
    assert got.json()["errors"] == [
        {"pointer": "/response_id", "message": "must be the response id of the URL"}
    ]


async def test_a_revision_stores_neither_the_respondent_token_nor_the_anonymous_id(
    client: Client, settings: Settings
) -> None:
    """A form sends the body it submitted with, secrets included: they are taken and not stored
    (as a submission's are), so neither the database nor a subject-access export gives them."""
    org = await make_org(client)
    await make_survey(client, org)
    person = await make_respondent(client, org)
    token, anonymous_id = person["token"], "0f0e0d0c-anonymous-browser-id-mark"
    first = await submitted(client, org, submission(respondent_token=token))
    body = {
        "version": 1,
        "answers": pulse_answers(trust=2),
        "channel": "embed",
        "respondent_token": token,
        "anonymous_id": anonymous_id,
    }
    url = f"{responses_url(org)}/{first['response_id']}"
    headers = {"X-Edit-Token": first["edit_token"]}
    revised = await client.put(url, json=body, headers=headers)
    assert revised.status_code == 200 and revised.json()["revision"] == 2, revised.text
    # Sent again, it is the same revision (its body, secrets and all, is what is compared).
    again = await client.put(url, json=body, headers=headers)
    assert again.status_code == 200 and again.json()["revision"] == 2, again.text
    stored = await all_text(settings.database_url)
    assert token not in stored and anonymous_id not in stored
    export = await client.get(
        f"/api/v1/respondents/{person['id']}/export", headers=org.auth("admin")
    )
    assert export.status_code == 200, export.text
    assert token not in export.text and anonymous_id not in export.text
