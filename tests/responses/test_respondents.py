"""Respondents: pseudonymous refs, attributes from the organisation, subject export, erasure."""

from __future__ import annotations

import uuid

from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.config import Settings
from feedback.responses.respondents import ref_hash
from tests.builders.orgs import make_org
from tests.builders.responses import (
    all_text,
    database,
    make_respondent,
    pulse_answers,
    responses_url,
    scalar,
    submission,
    submitted,
)
from tests.builders.surveys import make_survey

Client = AsyncTestClient[Litestar]


async def test_external_refs_are_kept_only_as_keyed_hashes(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    other = await make_org(client, "other")
    ref = "ada@example.org"
    created = await make_respondent(client, org, external_ref=ref, country="NL", tier=2)
    assert set(created) == {"id", "token"}
    stored = await all_text(settings.database_url)
    assert ref not in stored and created["token"] not in stored
    org_id = await scalar(settings.database_url, "SELECT org_id FROM respondent")
    expected = ref_hash(settings.resolved_secret_key(), uuid.UUID(str(org_id)), ref)
    assert await scalar(settings.database_url, "SELECT ref_hash FROM respondent") == expected
    again = await client.post(
        "/api/v1/respondents", json={"external_ref": ref}, headers=org.auth("campaigner")
    )
    assert again.status_code == 409 and again.json()["id"] == created["id"]
    # The same ref in another organisation is another respondent, hashed differently.
    elsewhere = await make_respondent(client, other, external_ref=ref)
    assert elsewhere["id"] != created["id"]
    hashes = await scalar(settings.database_url, "SELECT count(DISTINCT ref_hash) FROM respondent")
    assert hashes == 2


async def test_attributes_are_set_by_the_organisation(client: Client) -> None:
    org = await make_org(client)
    created = await make_respondent(client, org, country="NL")
    url = f"/api/v1/respondents/{created['id']}"
    got = await client.get(url, headers=org.auth("campaigner"))
    assert got.json()["attributes"] == {"country": "NL"}
    put = await client.put(
        url, json={"attributes": {"country": "BE", "joined": 2021}}, headers=org.auth("campaigner")
    )
    assert put.status_code == 200 and put.json()["attributes"] == {"country": "BE", "joined": 2021}
    nested = await client.put(
        url, json={"attributes": {"Bad Key": 1, "deep": {"a": 1}}}, headers=org.auth("campaigner")
    )
    assert nested.status_code == 422
    assert {e["pointer"].split("/")[2] for e in nested.json()["errors"]} == {"Bad Key", "deep"}
    assert (
        await client.put(url, json={"attributes": {}}, headers=org.auth("analyst"))
    ).status_code == 403
    audit = (await client.get("/api/v1/audit", headers=org.auth())).json()["items"]
    actions = [e["action"] for e in audit if e["object_type"] == "respondent"]
    assert actions == ["respondent.updated", "respondent.created"]
    # The audit log names attributes, never their values.
    assert all("NL" not in str(e["details"]) and "BE" not in str(e["details"]) for e in audit)


async def test_a_value_equal_in_python_but_of_another_json_type_is_stored(
    client: Client,
) -> None:
    # 1, 1.0 and true are equal in Python (and to the ORM's change tracking), but three
    # different segments: each PUT stores what it says.
    org = await make_org(client)
    created = await make_respondent(client, org, external_ref="crm-1", joined=1)
    url = f"/api/v1/respondents/{created['id']}"
    for value in (1.5, True, 1, 1.0, True):
        put = await client.put(url, json={"attributes": {"joined": value}}, headers=org.auth())
        assert put.status_code == 200, put.text
        got = (await client.get(url, headers=org.auth())).json()["attributes"]["joined"]
        assert (type(got), got) == (type(value), value)


async def test_a_supporter_cannot_set_their_own_attributes(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    person = await make_respondent(client, org, tier="basic")
    body = submission(respondent_token=person["token"])
    body["attributes"] = {"tier": "gold"}
    assert (await client.post(responses_url(org), json=body)).status_code == 422
    got = await client.get(f"/api/v1/respondents/{person['id']}", headers=org.auth("campaigner"))
    assert got.json()["attributes"] == {"tier": "basic"}


async def test_segments_join_answers_to_respondent_attributes(
    client: Client, settings: Settings
) -> None:
    """What analysis does for `segment=`: answer → respondent, attribute read by key."""
    import sqlalchemy as sa

    from feedback.responses.models import Answer, Respondent
    from feedback.responses.queries import attribute_value

    org = await make_org(client)
    await make_survey(client, org)
    for country, trust in (("NL", 5), ("NL", 3), ("BE", 1)):
        person = await make_respondent(client, org, country=country)
        await submitted(
            client,
            org,
            submission(respondent_token=person["token"], answers=pulse_answers(trust=trust)),
        )
    await submitted(client, org)  # anonymous: no segment
    country = attribute_value("country")
    stmt = (
        sa.select(country, sa.func.count(), sa.func.sum(Answer.value_num))
        .select_from(Answer)
        .join(Respondent, Respondent.id == Answer.respondent_id, isouter=True)
        .where(Answer.question_key == "trust", Answer.is_current)
        .group_by(country)
    )
    async with database(settings.database_url) as conn:
        rows = {r[0]: (r[1], r[2]) for r in (await conn.execute(stmt)).all()}
    assert rows == {"NL": (2, 8.0), "BE": (1, 1.0), None: (1, 4.0)}


async def test_attribute_values_read_as_postgresql_text_on_every_database(
    client: Client, settings: Settings
) -> None:
    """Every JSON scalar an attribute holds reads as PostgreSQL's `->>` gives it, on SQLite
    too: booleans as 'true'/'false', numbers as written, JSON null as NULL."""
    import sqlalchemy as sa

    from feedback.responses.models import Respondent
    from feedback.responses.queries import attribute_value

    expected = {
        "yes": (True, "true"),
        "no": (False, "false"),
        "text": ('Zoë "1"', 'Zoë "1"'),
        "count": (3, "3"),
        "below": (-7, "-7"),
        "big": (2**70, "1180591620717411303424"),
        "half": (2.5, "2.5"),
        "whole": (1.0, "1.0"),
        "sum": (0.1 + 0.2, "0.30000000000000004"),
        "negative": (-12.75, "-12.75"),
        "nothing": (None, None),
    }
    org = await make_org(client)
    person = await make_respondent(client, org, **{k: v for k, (v, _) in expected.items()})
    keys = [*expected, "missing"]
    stmt = sa.select(*(attribute_value(k) for k in keys)).where(
        Respondent.id == uuid.UUID(person["id"])
    )
    async with database(settings.database_url) as conn:
        row = (await conn.execute(stmt)).one()
    assert dict(zip(keys, row, strict=True)) == {
        **{k: text for k, (_, text) in expected.items()},
        "missing": None,
    }


async def test_subject_export_holds_everything_about_them(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    person = await make_respondent(client, org, external_ref="crm-1", country="NL")
    body = submission(respondent_token=person["token"])
    await submitted(client, org, body)
    await submitted(client, org)  # someone else
    url = f"/api/v1/respondents/{person['id']}/export"
    assert (await client.get(url, headers=org.auth("campaigner"))).status_code == 403
    got = await client.get(url, headers=org.auth())
    assert got.status_code == 200
    export = got.json()
    assert export["respondent"]["attributes"] == {"country": "NL"}
    assert [r["response_id"] for r in export["responses"]] == [body["response_id"]]
    revision = export["responses"][0]["revisions"][0]
    assert revision["document"]["answers"] == body["answers"]
    assert "respondent_token" not in revision["document"]


async def test_erasure_leaves_nothing_of_them(client: Client, settings: Settings) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    await make_survey(client, org, slug="second")
    person = await make_respondent(client, org, external_ref="erase-me", country="NL")
    marker = "my-unique-words-" + uuid.uuid4().hex
    theirs = submission(
        respondent_token=person["token"], answers=pulse_answers(comment=marker, hours=13)
    )
    created = await submitted(client, org, theirs)
    revised = await client.put(
        f"{responses_url(org)}/{theirs['response_id']}",
        json={"version": 1, "answers": pulse_answers(comment=marker + " revised")},
        headers={"X-Edit-Token": created["edit_token"], "If-Match": '"1"'},
    )
    assert revised.status_code == 200
    await submitted(
        client,
        org,
        submission(respondent_token=person["token"], answers=pulse_answers(comment=marker)),
        survey="second",
    )
    keep = submission(answers=pulse_answers(comment="someone else"))
    await submitted(client, org, keep)
    erased = await client.delete(f"/api/v1/respondents/{person['id']}", headers=org.auth())
    assert erased.status_code == 200
    assert erased.json() == {"responses": 2, "answers": 21}

    stored = await all_text(settings.database_url)
    assert marker not in stored and theirs["response_id"] not in stored
    # Their random id stays only in the audit log, which says that an erasure happened.
    elsewhere = await all_text(settings.database_url, exclude=frozenset({"audit_event"}))
    assert person["id"] not in elsewhere and uuid.UUID(person["id"]).hex not in elsewhere
    for table, column in (("answer", "respondent_id"), ("response", "respondent_id")):
        count = await scalar(
            settings.database_url,
            f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL",
        )
        assert count == 0
    assert await scalar(settings.database_url, "SELECT count(*) FROM respondent") == 0
    assert await scalar(settings.database_url, "SELECT count(*) FROM response") == 1
    for url in ("export.csv?layout=long", "export.csv?layout=wide", "export.ndjson"):
        body = (await client.get(f"/api/v1/surveys/pulse/{url}", headers=org.auth("analyst"))).text
        assert marker not in body and theirs["response_id"] not in body
        assert keep["response_id"] in body
    gone = await client.get(f"/api/v1/respondents/{person['id']}", headers=org.auth("campaigner"))
    assert gone.status_code == 404
    # The token no longer links anyone.
    later = await client.post(responses_url(org), json=submission(respondent_token=person["token"]))
    assert later.status_code == 422
