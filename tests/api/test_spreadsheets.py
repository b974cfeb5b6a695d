"""Results for spreadsheets: trends.csv beside the trends JSON, respondent attributes in the wide
export, and the respondents list with attribute filters. Read back with pandas, as an analyst
would, to check the columns' types and the row counts."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.test_analysis import HALF_YEAR, KEYS, pulse
from tests.builders.analysis import import_lines, line
from tests.builders.orgs import make_org
from tests.builders.responses import make_respondent
from tests.builders.surveys import MONTHLY, make_survey

Client = AsyncTestClient[Litestar]
B = "/api/v1"


def frame(text: str, **kwargs: Any) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), **kwargs)


def utc_instants(column: pd.Series) -> bool:
    return isinstance(column.dtype, pd.DatetimeTZDtype) and str(column.dt.tz) == "UTC"


async def test_trends_csv_is_the_trends_json_one_row_per_question_wave_and_option(
    client: Client,
) -> None:
    org = await pulse(client)
    auth = org.auth("analyst")
    got = await client.get(f"{B}/surveys/pulse/trends.csv?{HALF_YEAR}", headers=auth)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/csv")
    assert 'filename="pulse-trends.csv"' in got.headers["content-disposition"]
    rows = frame(got.text, parse_dates=["opens_at", "closes_at"])
    # Six waves; a row per wave for trust, nps, hours and comment, per option for the choices.
    assert len(rows) == 4 * 6 + 2 * 3 * 6
    assert rows.groupby("question").size().to_dict() == {
        "actions": 18,
        "comment": 6,
        "hours": 6,
        "nps": 6,
        "priority": 18,
        "trust": 6,
    }
    assert str(rows["wave"].dtype) == "int64" and str(rows["n"].dtype) == "int64"
    assert str(rows["suppressed"].dtype) == "bool"
    for column in ("estimate", "ci_low", "ci_high", "change_p", "change_q", "count"):
        assert str(rows[column].dtype) == "float64", column
    assert utc_instants(rows["opens_at"]) and utc_instants(rows["closes_at"])
    assert rows["opens_at"].notna().all()  # the suppressed sixth wave has its dates too
    assert rows["segment"].isna().all()

    body = (await client.get(f"{B}/surveys/pulse/trends?{HALF_YEAR}", headers=auth)).json()
    trust = body["questions"][KEYS.index("trust")]
    mine = rows[rows.question == "trust"].set_index("wave")
    for wave in trust["waves"]:
        row = mine.loc[wave["number"]]
        assert row["n"] == wave["n"] and bool(row["suppressed"]) == bool(wave["suppressed"])
        if not wave["suppressed"]:
            assert row["estimate"] == wave["estimate"] and row["ci_low"] == wave["ci_low"]
    assert mine.loc[6, "suppressed"] and pd.isna(mine.loc[6, "estimate"])
    priority = body["questions"][KEYS.index("priority")]["waves"][1]
    climate = rows[(rows.question == "priority") & (rows.wave == 2) & (rows.option == "climate")]
    assert climate["count"].item() == priority["options"]["climate"]["count"]
    assert climate["change_p"].item() == pytest.approx(priority["change"]["p"], abs=0)


async def test_trends_csv_repeats_each_row_per_segment_value(client: Client) -> None:
    org = await pulse(client)
    got = await client.get(
        f"{B}/surveys/pulse/trends.csv?{HALF_YEAR}&questions=trust&segment=country",
        headers=org.auth("analyst"),
    )
    assert got.status_code == 200, got.text
    rows = frame(got.text)
    # The total, then the segment `null`: no answer here has a respondent.
    assert len(rows) == 12
    assert rows["segment"].fillna("").tolist() == [""] * 6 + ["country"] * 6
    assert rows["segment_value"].isna().all()
    bad = await client.get(
        f"{B}/surveys/pulse/trends.csv?segment=Not-A-Name", headers=org.auth("analyst")
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/segment"


async def respondents_world(client: Client) -> Any:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    people = [
        ("r1", {"country": "NL", "age": 34, "member": True}),
        ("r2", {"country": "DE", "age": 51, "member": False}),
        ("r3", {"country": "NL", "age": 42, "member": False}),
    ]
    for ref, attributes in people:
        await make_respondent(client, org, external_ref=ref, **attributes)
    lines = [
        line(w, {"trust": 1 + i}, respondent=ref)
        for w in (1, 2)
        for i, (ref, _) in enumerate(people)
    ]
    await import_lines(client, org, lines)
    return org


async def test_the_wide_export_carries_respondent_attributes(client: Client) -> None:
    org = await respondents_world(client)
    got = await client.get(f"{B}/surveys/pulse/export.csv?layout=wide", headers=org.auth("analyst"))
    assert got.status_code == 200, got.text
    rows = frame(got.text, parse_dates=["submitted_at"])
    assert len(rows) == 6
    attributes = ["attribute.age", "attribute.country", "attribute.member"]
    assert list(rows.columns[-3:]) == attributes
    assert str(rows["attribute.age"].dtype) == "int64"
    assert str(rows["attribute.member"].dtype) == "bool"
    assert utc_instants(rows["submitted_at"])
    assert rows.groupby("attribute.country").size().to_dict() == {"DE": 2, "NL": 4}
    assert sorted(rows[rows["attribute.member"]]["trust"]) == [1, 1]
    book = (await client.get(f"{B}/surveys/pulse/codebook", headers=org.auth("analyst"))).json()
    assert book["columns"][-3:] == attributes
    # The export imports as it is (here into a copy of the survey): the attribute columns are
    # skipped, not read as answers to unknown questions.
    await make_survey(client, org, slug="copy", schedule=MONTHLY)
    again = await client.post(
        f"{B}/surveys/copy/responses/import",
        content=got.text.encode(),
        headers={**org.auth("campaigner"), "Content-Type": "text/csv"},
    )
    assert again.status_code == 200, again.text
    assert again.json() == {"imported": 6, "duplicates": 0, "rejected": []}


async def test_respondents_are_listed_by_attribute_for_admins(client: Client) -> None:
    org = await respondents_world(client)
    await make_respondent(client, org)  # no attributes at all
    admin = org.auth("admin")
    everyone = (await client.get(f"{B}/respondents", headers=admin)).json()
    assert len(everyone["items"]) == 4 and everyone["next_cursor"] is None
    assert all(
        set(r) == {"id", "kind", "attributes", "created_at", "updated_at"}
        for r in everyone["items"]
    )

    async def countries(query: str) -> list[str]:
        got = await client.get(f"{B}/respondents?{query}", headers=admin)
        assert got.status_code == 200, got.text
        return sorted(r["attributes"].get("country", "-") for r in got.json()["items"])

    assert await countries("attribute.country=NL") == ["NL", "NL"]
    assert await countries("attribute.country=NL&attribute.member=false") == ["NL"]
    assert await countries("attribute.age=51") == ["DE"]
    assert await countries("attribute.country=FR") == []

    seen: list[str] = []
    cursor = ""
    while True:
        page = (await client.get(f"{B}/respondents?limit=3&cursor={cursor}", headers=admin)).json()
        seen += [r["id"] for r in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(r["id"] for r in everyone["items"])

    analyst = await client.get(f"{B}/respondents", headers=org.auth("analyst"))
    assert analyst.status_code == 403
    for query, pointer in (
        ("country=NL", "/country"),
        ("attribute.Bad-Name=1", "/attribute.Bad-Name"),
        ("attribute.country=NL&attribute.country=DE", "/attribute.country"),
        ("cursor=garbage", "/cursor"),
    ):
        got = await client.get(f"{B}/respondents?{query}", headers=admin)
        assert got.status_code == 422, (query, got.text)
        assert [e["pointer"] for e in got.json()["errors"]] == [pointer]
    other = await make_org(client, "other")
    assert (await client.get(f"{B}/respondents", headers=other.auth())).json()["items"] == []
