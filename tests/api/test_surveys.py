"""Surveys, drafts, immutable versions, change detection, waves and XLSForm import over HTTP."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import create_async_engine

from feedback.clock import fixed_clock
from feedback.config import Settings
from tests.builders.orgs import Org, make_org
from tests.builders.surveys import MONTHLY, make_survey, publish_version, pulse_definition
from tests.builders.xlsform import xlsform
from tests.surveys.test_xlsform_field import FIELD_VISIT_XLS

Client = AsyncTestClient[Litestar]


def pointers(response: Any) -> set[str]:
    return {e["pointer"] for e in response.json()["errors"]}


async def test_create_and_read_a_survey(client: Client) -> None:
    org = await make_org(client)
    survey = await make_survey(client, org, publish=False)
    assert survey["current_version"] is None and survey["draft_version"] == 1
    assert survey["current_wave"]["label"] == "always"
    assert survey["settings"]["min_n"] == 5 and survey["settings"]["allow_edits"] is True
    listed = (await client.get("/api/v1/surveys", headers=org.auth("analyst"))).json()
    assert [s["slug"] for s in listed["items"]] == ["pulse"]
    again = await client.post(
        "/api/v1/surveys",
        json={"slug": "pulse", "title": "x", "definition": pulse_definition()},
        headers=org.auth("campaigner"),
    )
    assert again.status_code == 409


async def test_invalid_survey_reports_every_field(client: Client) -> None:
    org = await make_org(client)
    definition = pulse_definition()
    definition["questions"][0]["scale"] = {"min": 5, "max": 1}
    definition["questions"][1]["key"] = "trust"
    definition["questions"][2]["options"] = []
    got = await client.post(
        "/api/v1/surveys",
        json={
            "slug": "pulse",
            "title": "Pulse",
            "schedule": {
                "rrule": "FREQ=SOMETIMES",
                "starts_at": "2025-01-01T00:00:00Z",
                "timezone": "Mars/Olympus",
            },
            "settings": {"min_n": 0},
            "definition": definition,
        },
        headers=org.auth("campaigner"),
    )
    assert got.status_code == 422, got.text
    found = pointers(got)
    assert "/definition/questions/0/scale" in {p.rsplit("/", 1)[0] for p in found} or any(
        p.startswith("/definition/questions/0/scale") for p in found
    )
    assert "/definition/questions/1/key" in found
    assert any(p.startswith("/definition/questions/2/options") for p in found)
    assert "/schedule/rrule" in found and "/schedule/timezone" in found
    assert "/settings/min_n" in found
    assert (await client.get("/api/v1/surveys/pulse", headers=org.auth())).status_code == 404


async def test_label_missing_a_declared_locale(client: Client) -> None:
    org = await make_org(client)
    definition = pulse_definition()
    definition["questions"][0]["label"] = {"en": "Trust"}
    got = await client.post(
        "/api/v1/surveys",
        json={
            "slug": "p",
            "title": "P",
            "settings": {"locales": ["en", "hi"]},
            "definition": definition,
        },
        headers=org.auth("campaigner"),
    )
    assert got.status_code == 422
    assert any(p.startswith("/definition/questions/0/label") for p in pointers(got))


@pytest.mark.parametrize("locale", ["en US", "en_GB", "12", "en\n", "<b>x</b>"])
async def test_a_default_locale_that_is_no_language_tag_is_422(client: Client, locale: str) -> None:
    org = await make_org(client)
    got = await client.post(
        "/api/v1/surveys",
        json={
            "slug": "p",
            "title": "P",
            "default_locale": locale,
            "definition": pulse_definition(),
        },
        headers=org.auth("campaigner"),
    )
    assert got.status_code == 422, got.text
    assert got.json()["errors"] == [
        {
            "pointer": "/default_locale",
            "message": "must be a BCP 47 language tag such as en, hi or pt-BR",
        }
    ]
    assert (await client.get("/api/v1/surveys/p", headers=org.auth())).status_code == 404


TITLE_RULE = "must be a visible text of 1 to 300 characters, or a {locale: text} map of them"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", TITLE_RULE),
        ("title", 5, TITLE_RULE),
        ("title", {"en": ""}, TITLE_RULE),
        ("title", "x" * 301, TITLE_RULE),
        ("title", "\u200b \u200f", TITLE_RULE),  # shows nothing
        ("description", 5, "must be a string or an object mapping locale codes to strings"),
    ],
)
async def test_a_bad_title_or_description_is_one_error_at_its_field(
    client: Client, field: str, value: object, message: str
) -> None:
    # Not one error per member of `text | map`, at pointers no body has (/title/constrained-str).
    org = await make_org(client)
    body = {"slug": "p", "title": "P", "definition": pulse_definition(), field: value}
    got = await client.post("/api/v1/surveys", json=body, headers=org.auth("campaigner"))
    assert got.status_code == 422, got.text
    assert got.json()["errors"] == [{"pointer": f"/{field}", "message": message}]
    await make_survey(client, org, slug="q")
    patched = await client.patch(
        "/api/v1/surveys/q", json={field: value}, headers=org.auth("campaigner")
    )
    assert patched.status_code == 422, patched.text
    assert patched.json()["errors"] == [{"pointer": f"/{field}", "message": message}]


async def test_a_locale_written_twice_in_other_case_is_422(client: Client) -> None:
    # Tags are matched without regard to case (`en-gb` finds `en-GB`): a second spelling would
    # be a locale every label must repeat and no reader is ever shown.
    org = await make_org(client)
    got = await client.post(
        "/api/v1/surveys",
        json={
            "slug": "p",
            "title": "P",
            "default_locale": "en",
            "settings": {"locales": ["en", "EN", "pt-BR", "pt-br"]},
            "definition": pulse_definition(),
        },
        headers=org.auth("campaigner"),
    )
    assert got.status_code == 422, got.text
    assert got.json()["errors"] == [
        {"pointer": "/settings/locales/1", "message": "is the locale 'en' written otherwise"},
        {"pointer": "/settings/locales/3", "message": "is the locale 'pt-BR' written otherwise"},
    ]


async def test_roles(client: Client) -> None:
    org = await make_org(client)
    body = {"slug": "p", "title": "P", "definition": pulse_definition()}
    assert (
        await client.post("/api/v1/surveys", json=body, headers=org.auth("analyst"))
    ).status_code == 403
    await make_survey(client, org, slug="p")
    for path in ("/api/v1/surveys/p/publish", "/api/v1/surveys/p/archive"):
        assert (await client.post(path, json={}, headers=org.auth("analyst"))).status_code == 403
    assert (
        await client.get("/api/v1/surveys/p/versions", headers=org.auth("analyst"))
    ).status_code == 200


async def _changes(
    client: Client, org: Org, definition: dict[str, Any]
) -> dict[tuple[str, str], bool]:
    published = await publish_version(client, org, "pulse", definition, confirm_breaks=True)
    return {(c["key"], c["kind"]): c["breaks_series"] for c in published["changes"]}


async def test_publish_detects_every_kind_of_change(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    v2 = pulse_definition()
    v2["questions"][0]["label"] = "I trust the organisation to listen"  # reworded
    v2["questions"][0]["scale"] = {"min": 1, "max": 7}  # scale changed
    v2["questions"][2]["options"].append({"key": "jobs", "label": "Jobs"})  # options changed
    v2["questions"][4]["type"] = "rating"  # number → rating: type changed
    v2["questions"][4]["scale"] = {"min": 0, "max": 10}
    v2["questions"][4].pop("min")
    v2["questions"][4].pop("max")
    del v2["questions"][5]  # comment removed
    v2["questions"].append(
        {"key": "energy", "type": "likert", "label": "Energy", "scale": {"min": 1, "max": 5}}
    )
    changes = await _changes(client, org, v2)
    assert changes[("trust", "scale_changed")] is True
    assert changes[("trust", "reworded")] is False
    assert ("priority", "options_changed") in changes
    assert changes[("hours", "type_changed")] is True
    assert changes[("comment", "removed")] is False
    assert changes[("energy", "added")] is False
    # A declared break on a rewording, and a re-added key, break the series.
    v3 = pulse_definition()
    v3["questions"][1]["label"] = "Would you recommend us?"
    v3["questions"][1]["breaks_series"] = True
    changes3 = await _changes(client, org, v3)
    assert changes3[("nps", "reworded")] is True
    assert changes3[("comment", "added")] is True  # removed in v2, asked again in v3
    versions = (await client.get("/api/v1/surveys/pulse/versions", headers=org.auth())).json()
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert all(v["status"] == "published" for v in versions)
    survey = (await client.get("/api/v1/surveys/pulse", headers=org.auth())).json()
    assert survey["current_version"] == 3 and survey["draft_version"] is None


async def test_publish_without_a_draft_is_409(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    got = await client.post("/api/v1/surveys/pulse/publish", json={}, headers=org.auth())
    assert got.status_code == 409


async def test_draft_is_replaced_not_duplicated(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    for title in ("A", "B"):
        definition = pulse_definition()
        definition["questions"][0]["label"] = title
        put = await client.put(
            "/api/v1/surveys/pulse/draft",
            json={"definition": definition, "note": title},
            headers=org.auth("campaigner"),
        )
        assert put.status_code == 200 and put.json()["version"] == 2
    draft = (await client.get("/api/v1/surveys/pulse/versions/2", headers=org.auth())).json()
    assert draft["status"] == "draft" and draft["note"] == "B"
    assert draft["definition"]["questions"][0]["label"] == "B"
    assert (
        await client.get("/api/v1/surveys/pulse/versions/9", headers=org.auth())
    ).status_code == 404


async def test_published_versions_are_immutable_in_the_database(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    engine = create_async_engine(settings.database_url)
    try:
        for statement in (
            "UPDATE survey_version SET note = 'tampered' WHERE number = 1",
            "DELETE FROM survey_version WHERE number = 1",
        ):
            with pytest.raises(sa.exc.DBAPIError, match="immutable"):
                async with engine.begin() as conn:
                    await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()
    v1 = (await client.get("/api/v1/surveys/pulse/versions/1", headers=org.auth())).json()
    assert v1["note"] == "first"


async def test_patch_title_settings_and_schedule(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    got = await client.patch(
        "/api/v1/surveys/pulse",
        json={
            "title": "Supporter pulse",
            "settings": {"min_n": 10, "allowed_origins": ["https://example.org"]},
        },
        headers=org.auth("campaigner"),
    )
    assert got.status_code == 200, got.text
    assert got.json()["title"] == "Supporter pulse" and got.json()["settings"]["min_n"] == 10
    bad = await client.patch(
        "/api/v1/surveys/pulse",
        json={"settings": {"allowed_origins": ["not a url"]}},
        headers=org.auth("campaigner"),
    )
    assert bad.status_code == 422
    assert any(p.startswith("/settings/allowed_origins") for p in pointers(bad))
    questions = await client.patch(
        "/api/v1/surveys/pulse", json={"definition": {}}, headers=org.auth("campaigner")
    )
    assert questions.status_code == 422 and pointers(questions) == {"/definition"}


async def test_new_locales_must_be_met_by_the_title_and_description_kept(client: Client) -> None:
    # A map names exactly the survey's locales: declaring one more (or one less) in the
    # settings must come with the survey's own texts in them, as the draft's labels must.
    org = await make_org(client)
    campaigner = org.auth("campaigner")
    created = await client.post(
        "/api/v1/surveys",
        json={
            "slug": "p",
            "title": {"en": "Pulse"},
            "description": {"en": "Monthly"},
            "definition": pulse_definition(),
        },
        headers=campaigner,
    )
    assert created.status_code == 201, created.text
    assert (await client.post("/api/v1/surveys/p/publish", headers=campaigner)).status_code == 201
    dutch = await client.patch(
        "/api/v1/surveys/p", json={"settings": {"locales": ["nl"]}}, headers=campaigner
    )
    assert dutch.status_code == 422, dutch.text
    assert pointers(dutch) == {"/title/nl", "/description/nl"}
    got = await client.get("/api/v1/surveys/p", headers=org.auth("analyst"))
    assert got.json()["settings"]["locales"] == []  # refused: nothing changed
    both = await client.patch(
        "/api/v1/surveys/p",
        json={
            "settings": {"locales": ["nl"]},
            "title": {"en": "Pulse", "nl": "Peiling"},
            "description": "Monthly / maandelijks",
        },
        headers=campaigner,
    )
    assert both.status_code == 200, both.text
    back = await client.patch("/api/v1/surveys/p", json={"settings": {}}, headers=campaigner)
    assert back.status_code == 422, back.text
    assert pointers(back) == {"/title/nl"}


async def test_waves_of_a_monthly_schedule(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    got = await client.get(
        "/api/v1/surveys/pulse/waves",
        params={"from": "2025-01-01", "to": "2025-06-30"},
        headers=org.auth("analyst"),
    )
    assert got.status_code == 200, got.text
    waves = got.json()
    assert [w["number"] for w in waves] == [1, 2, 3, 4, 5, 6]
    assert [w["label"] for w in waves] == [f"2025-0{m}" for m in range(1, 7)]
    assert all(w["status"] == "closed" and w["responses"] == 0 for w in waves)
    for earlier, later in itertools.pairwise(waves):
        assert earlier["closes_at"] == later["opens_at"]
    bad = await client.get(
        "/api/v1/surveys/pulse/waves",
        params={"from": "2025-06-01", "to": "2025-01-01"},
        headers=org.auth(),
    )
    assert bad.status_code == 422
    not_a_date = await client.get(
        "/api/v1/surveys/pulse/waves", params={"from": "yesterday"}, headers=org.auth()
    )
    assert not_a_date.status_code in (400, 422)


async def test_waves_refuse_an_unknown_or_repeated_parameter(client: Client) -> None:
    # A misspelt `from` would otherwise be ignored and every wave listed, as if asked for.
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    for query, name, message in [
        ("form=2025-03-01", "/form", "is not a parameter of this route"),
        (
            "from=2025-03-01&from=2025-04-01",
            "/from",
            "is given more than once: give it once (a list separated by commas)",
        ),
    ]:
        got = await client.get(f"/api/v1/surveys/pulse/waves?{query}", headers=org.auth("analyst"))
        assert got.status_code == 422, got.text
        assert got.json()["errors"] == [{"pointer": name, "message": message, "source": "query"}]


# 01:00 on 1 May in Europe/Amsterdam (MONTHLY's zone; its waves open at 01:00 there): the
# instant wave 5 opens, still 30 April in UTC.
MAY_OPENS = datetime(2025, 4, 30, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "clock", [fixed_clock(MAY_OPENS), fixed_clock(MAY_OPENS + timedelta(microseconds=1))]
)
async def test_at_the_instant_a_wave_opens_it_is_listed_open(client: Client) -> None:
    """Not left out between the waves before it and the next to come (it once was: the
    listing ended just before `now`, and the next opening was the one after `now`)."""
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    got = await client.get("/api/v1/surveys/pulse/waves", headers=org.auth("analyst"))
    assert got.status_code == 200, got.text
    waves = got.json()
    assert [(w["number"], w["status"]) for w in waves] == [
        (1, "closed"),
        (2, "closed"),
        (3, "closed"),
        (4, "closed"),
        (5, "open"),
        (6, "upcoming"),
    ]
    assert waves[4]["opens_at"] == "2025-04-30T23:00:00Z"


async def test_archive(client: Client) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    got = await client.post("/api/v1/surveys/pulse/archive", headers=org.auth("campaigner"))
    assert got.status_code == 200 and got.json()["archived_at"] is not None
    assert got.json()["current_wave"] is None
    draft = await client.put(
        "/api/v1/surveys/pulse/draft",
        json={"definition": pulse_definition()},
        headers=org.auth("campaigner"),
    )
    assert draft.status_code == 409


async def test_xlsform_import(client: Client) -> None:
    org = await make_org(client)
    workbook = xlsform(
        survey=[
            ["type", "name", "label::English (en)", "label::Hindi (hi)", "required", "relevant"],
            ["select_one issue", "priority", "Top issue", "मुख्य मुद्दा", "yes", None],
            ["integer", "hours", "Hours", "घंटे", None, None],
            ["text", "comment", "Anything else?", "और कुछ?", None, "${hours} > 0"],
            ["begin_group", "g", "Group", "समूह", None, None],
            ["select_multiple issue", "actions", "Actions", "कार्य", None, None],
            ["end_group", None, None, None, None, None],
        ],
        choices=[
            ["list_name", "name", "label::English (en)", "label::Hindi (hi)"],
            ["issue", "climate", "Climate", "जलवायु"],
            ["issue", "housing", "Housing", "आवास"],
        ],
    )
    got = await client.post(
        "/api/v1/surveys/import/xlsform",
        files={
            "file": (
                "pulse.xlsx",
                workbook,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        },
        data={"slug": "kobo-pulse"},
        headers=org.auth("campaigner"),
    )
    assert got.status_code == 201, got.text
    body = got.json()
    assert body["survey"]["slug"] == "kobo-pulse" and body["survey"]["draft_version"] == 1
    reported = {(u["row"], u["name"]) for u in body["unsupported"]}
    assert (5, "g") in reported and (4, "comment") not in reported
    draft = (await client.get("/api/v1/surveys/kobo-pulse/versions/1", headers=org.auth())).json()
    questions = {q["key"]: q for q in draft["definition"]["questions"]}
    # the relevance ${hours} > 0 of a whole-number question is shown if hours >= 1
    assert questions["comment"]["show_if"] == {"question": "hours", "at_least": 1}
    assert questions["priority"]["type"] == "single_choice" and questions["priority"]["required"]
    assert questions["priority"]["label"] == {"en": "Top issue", "hi": "मुख्य मुद्दा"}
    assert questions["hours"]["type"] == "number"
    assert questions["actions"]["type"] == "multi_choice"


async def test_xlsform_import_takes_an_old_xls_workbook(client: Client) -> None:
    org = await make_org(client)
    got = await client.post(
        "/api/v1/surveys/import/xlsform",
        files={
            "file": ("field_visit.xls", FIELD_VISIT_XLS.read_bytes(), "application/vnd.ms-excel")
        },
        data={"slug": "field-visit"},
        headers=org.auth("campaigner"),
    )
    assert got.status_code == 201, got.text
    body = got.json()
    assert body["survey"]["default_locale"] == "en"
    assert [u["name"] for u in body["unsupported"]] == ["area", "only", "thanks", "greet"]


async def test_malformed_xlsform_is_422(client: Client) -> None:
    org = await make_org(client)
    got = await client.post(
        "/api/v1/surveys/import/xlsform",
        files={"file": ("x.xlsx", b"not a workbook", "application/octet-stream")},
        data={"slug": "x"},
        headers=org.auth("campaigner"),
    )
    assert got.status_code == 422
    assert "/file" in pointers(got)
    assert (await client.get("/api/v1/surveys/x", headers=org.auth())).status_code == 404


@pytest.mark.parametrize("titled", [True, False])
async def test_an_xlsform_whose_file_name_holds_a_nul_is_422(client: Client, titled: bool) -> None:
    # A browser sends the file's name as it is; the name (the title's fallback, and the audit
    # log's record of the import) is text no database can store when it holds a NUL.
    org = await make_org(client)
    settings = [["form_title"], ["Pulse"]] if titled else None
    workbook = xlsform([["type", "name", "label"], ["text", "t", "T"]], settings=settings)
    body = (
        b'--b0undary\r\nContent-Disposition: form-data; name="slug"\r\n\r\nnul\r\n'
        b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="a\x00b.xlsx"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + workbook + b"\r\n--b0undary--\r\n"
    )
    got = await client.post(
        "/api/v1/surveys/import/xlsform",
        content=body,
        headers={
            **org.auth("campaigner"),
            "Content-Type": "multipart/form-data; boundary=b0undary",
        },
    )
    assert got.status_code == 422, got.text
    assert got.json()["errors"] == [
        {
            "pointer": "/file",
            "message": "must have a name without NUL characters or unpaired surrogates",
        }
    ]
    assert (await client.get("/api/v1/surveys/nul", headers=org.auth())).status_code == 404
