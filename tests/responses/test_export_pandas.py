"""The exports as an analyst reads them: with pandas, by the calls docs/exports.md gives,
every column gets a useful type (instants as UTC datetimes, waves and versions as integers,
scale answers as numbers) and every response and answer is there."""

from __future__ import annotations

import io

import pandas as pd
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pandas.api import types

from tests.builders.analysis import import_lines, line
from tests.builders.orgs import Org, make_org
from tests.builders.responses import pulse_answers
from tests.builders.surveys import MONTHLY, make_survey

Client = AsyncTestClient[Litestar]
INSTANTS = ["submitted_at", "revised_at"]
NEW_YEAR = "2026-01-01T00:30:00+01:00"


async def _three_responses(client: Client) -> Org:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    await import_lines(
        client,
        org,
        [
            line(1, pulse_answers(), respondent="a"),
            # Sent with an offset, exported in UTC: 2025-12-31T23:30:00Z, still in wave 12
            # (waves of MONTHLY open at midnight UTC).
            {"answers": pulse_answers(trust=1, comment="=1+1"), "submitted_at": NEW_YEAR},
            line(2, {"trust": 5, "actions": []}),
        ],
    )  # fmt: skip
    return org


async def _get(client: Client, org: Org, path: str) -> bytes:
    got = await client.get(f"/api/v1/surveys/pulse/{path}", headers=org.auth("analyst"))
    assert got.status_code == 200, got.text
    return got.content


async def test_the_long_csv_reads_typed(client: Client) -> None:
    org = await _three_responses(client)
    body = await _get(client, org, "export.csv?layout=long")
    frame = pd.read_csv(
        io.BytesIO(body),
        parse_dates=["submitted_at"],
        dtype={"response_id": "string", "respondent_id": "string", "value": "string"},
    )
    # Two full pulse answers of 7 values; trust and a multi-choice answered with no option
    # (one row, its value empty).
    assert len(frame) == 7 + 7 + 2
    assert frame[frame["question_key"] == "actions"]["value"].isna().sum() == 1
    assert frame["response_id"].nunique() == 3
    assert str(frame["submitted_at"].dt.tz) == "UTC"
    for column in ("revision", "wave", "version"):
        assert types.is_integer_dtype(frame[column]), column
    assert sorted(frame["wave"].unique()) == [1, 2, 12]
    assert frame["respondent_id"].notna().sum() == 7
    trust = frame[frame["question_key"] == "trust"]
    assert pd.to_numeric(trust["value"]).tolist() == [4, 5, 1]


async def test_the_wide_csv_reads_typed(client: Client) -> None:
    org = await _three_responses(client)
    body = await _get(client, org, "export.csv?layout=wide")
    frame = pd.read_csv(
        io.BytesIO(body),
        parse_dates=INSTANTS,
        dtype={"response_id": "string", "respondent_id": "string", "comment": "string"},
    )
    assert len(frame) == 3
    for column in INSTANTS:
        assert str(frame[column].dt.tz) == "UTC", column
    assert frame["submitted_at"].tolist()[1:] == [
        pd.Timestamp("2025-02-15T12:00:00Z"),
        pd.Timestamp("2025-12-31T23:30:00Z"),
    ]
    for column in ("revision", "wave", "version", "trust"):
        assert types.is_integer_dtype(frame[column]), column
    # A question someone skipped is a float column with NaN, as pandas reads gaps in numbers.
    assert types.is_float_dtype(frame["nps"]) and frame["nps"].isna().sum() == 1
    assert frame["actions"].str.split(";").tolist()[0] == ["petition", "march"]
    assert frame["comment"].tolist()[2] == "'=1+1"  # a formula defused, as documented


async def test_the_ndjson_reads_typed(client: Client) -> None:
    org = await _three_responses(client)
    body = await _get(client, org, "export.ndjson")
    frame = pd.read_json(io.BytesIO(body), lines=True, dtype={"response_id": "string"})
    assert len(frame) == 3
    for column in INSTANTS:
        frame[column] = pd.to_datetime(frame[column], format="ISO8601")
        assert str(frame[column].dt.tz) == "UTC", column
    for column in ("revision", "wave", "version"):
        assert types.is_integer_dtype(frame[column]), column
    answers = pd.json_normalize(frame["answers"].tolist())
    assert types.is_integer_dtype(answers["trust"])
    assert answers["trust"].tolist() == [4, 5, 1]
    assert answers["actions"].tolist()[1] == []
