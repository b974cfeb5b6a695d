"""`small_groups=fold` through the real app (docs/statistics.md "Segments"): the worked example
of issue 13, a `recruited` attribute with groups of 49 and 40 and a few groups of 1–3 answers.

Per wave (min_n 5), trust answers: online 49 × 4, offline 40 × 2, and
- wave 1: phone 2 × 2, street 3 × 4, one answer without a respondent (`null`) × 5;
- waves 2 and 3: phone 2 × 2, street 3 × 4;
- wave 4: two answers without a respondent × 5 (the issue's case: nothing else is small).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.clock import Clock, fixed_clock
from tests.builders.analysis import import_lines, line
from tests.builders.orgs import Org, make_org
from tests.builders.surveys import MONTHLY, make_survey

Client = AsyncTestClient[Litestar]
BASE = "/api/v1/surveys/pulse"
TRENDS = f"{BASE}/trends"
SPLIT = "to=2025-04-30&segment=recruited"
QUERY = f"questions=trust&{SPLIT}"
NOW = datetime(2025, 9, 20, 12, 0, tzinfo=UTC)
GROUPS = {"online": (49, 4), "offline": (40, 2), "phone": (2, 2), "street": (3, 4)}


@pytest.fixture
def clock() -> Clock:
    return fixed_clock(NOW)


async def recruited(client: Client) -> Org:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    lines = []
    for group, (size, answer) in GROUPS.items():
        for i in range(size):
            ref = f"{group}{i}"
            made = await client.post(
                "/api/v1/respondents",
                json={"external_ref": ref, "attributes": {"recruited": group}},
                headers=org.auth("campaigner"),
            )
            assert made.status_code == 201, made.text
            waves = range(1, 5) if size > 5 else range(1, 4)
            lines += [line(wave, {"trust": answer}, respondent=ref) for wave in waves]
    lines.append(line(1, {"trust": 5}))
    lines += [line(4, {"trust": 5}), line(4, {"trust": 5}, day=16)]
    await import_lines(client, org, lines)
    return org


def reasons(waves: list[dict[str, Any]]) -> list[Any]:
    return [w["suppressed"] for w in waves]


async def test_fold_shows_the_small_groups_together_and_keeps_large_ones(client: Client) -> None:
    org = await recruited(client)
    got = await client.get(f"{TRENDS}?{QUERY}&small_groups=fold", headers=org.auth("analyst"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["small_groups"] == "fold"
    trust = body["questions"][0]
    segments = trust["segments"]
    assert list(segments) == ["online", "offline", "street", "phone", "null"]
    assert reasons(segments["online"]["waves"]) == [False] * 4
    # Wave 4 is the case: two answers alone cannot make `other` reach 5, so it is
    # hidden as small, and the smallest large group with it, exactly as without folding.
    assert reasons(segments["offline"]["waves"]) == [False, False, False, "complementary"]
    assert reasons(segments["phone"]["waves"]) == ["folded", "folded", "folded", "small"]
    assert [w["n"] for w in segments["phone"]["waves"]] == [2, 2, 2, 0]
    assert reasons(segments["null"]["waves"]) == ["folded", "small", "small", "folded"]

    other = trust["other"]
    waves = other["waves"]
    assert [w["members"] for w in waves] == [
        [None, "phone", "street"],
        ["phone", "street"],
        ["phone", "street"],
        [None],
    ]
    assert [w["n"] for w in waves] == [6, 5, 5, 2]
    assert reasons(waves) == [False, False, False, "small"]
    # Exactly the pooled answers: (5 + 2·2 + 3·4) / 6 and (2·2 + 3·4) / 5.
    assert waves[0]["estimate"] == pytest.approx(21 / 6)
    assert waves[1]["estimate"] == pytest.approx(16 / 5)
    assert waves[0]["distribution"] == {"1": 0, "2": 2, "3": 0, "4": 3, "5": 1}
    # Wave 2's `other` is another group than wave 1's: no change claimed; wave 3's is the same.
    assert waves[1]["change"]["p"] is None
    assert waves[1]["change"]["reason"] == "the other group holds different values in these waves"
    assert waves[1]["change"]["summary"] is None
    assert waves[2]["change"]["from_wave"] == 2 and waves[2]["change"]["p"] is not None
    assert other["trend"] is None
    assert other["trend_reason"] == "the other group holds different values in these waves"


async def test_suppress_stays_the_default_and_says_so(client: Client) -> None:
    org = await recruited(client)
    auth = org.auth("analyst")
    default = (await client.get(f"{TRENDS}?{QUERY}", headers=auth)).json()
    explicit = (await client.get(f"{TRENDS}?{QUERY}&small_groups=suppress", headers=auth)).json()
    assert default == explicit
    assert default["small_groups"] == "suppress"
    trust = default["questions"][0]
    assert "other" not in trust
    segments = trust["segments"]
    assert reasons(segments["phone"]["waves"]) == ["small", "small", "small", "small"]
    assert reasons(segments["offline"]["waves"]) == [False, False, False, "complementary"]
    plain = (await client.get(f"{TRENDS}?questions=trust&small_groups=fold", headers=auth)).json()
    assert plain["small_groups"] is None and "other" not in plain["questions"][0]


async def test_a_split_with_nothing_small_has_no_other(client: Client) -> None:
    org = await recruited(client)
    # Every answer was imported: one channel, nothing small, nothing folded.
    got = await client.get(
        f"{TRENDS}?questions=trust&segment=channel&small_groups=fold", headers=org.auth("analyst")
    )
    assert got.json()["questions"][0]["other"] is None


@pytest.mark.parametrize("value", ["merge", "FOLD", ""])
async def test_an_unknown_mode_is_a_problem_naming_the_parameter(
    client: Client, value: str
) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    for path in (TRENDS, f"{TRENDS}.csv", f"{TRENDS}/trust/chart.svg"):
        got = await client.get(
            f"{path}?segment=recruited&small_groups={value}", headers=org.auth("analyst")
        )
        assert got.status_code == 422, got.text
        assert got.headers["content-type"].startswith("application/problem+json")
        assert [(e["pointer"], e["source"]) for e in got.json()["errors"]] == [
            ("/small_groups", "query")
        ]


async def test_trends_csv_has_the_other_rows_with_their_members(client: Client) -> None:
    org = await recruited(client)
    got = await client.get(f"{TRENDS}.csv?{QUERY}&small_groups=fold", headers=org.auth("analyst"))
    assert got.status_code == 200
    rows = list(csv.DictReader(io.StringIO(got.text)))
    other = [r for r in rows if r["other"] == "true"]
    assert [json.loads(r["other_members"]) for r in other] == [
        [None, "phone", "street"],
        ["phone", "street"],
        ["phone", "street"],
        [None],
    ]
    assert {(r["segment"], r["segment_value"]) for r in other} == {("recruited", "")}
    assert [r["suppressed_reason"] for r in other] == ["", "", "", "small"]
    phone = [r["suppressed_reason"] for r in rows if r["segment_value"] == "phone"]
    assert phone == ["folded", "folded", "folded", "small"]
    assert {r["other"] for r in rows if r not in other} == {"false"}


async def test_the_chart_draws_other_as_its_own_panel_in_the_surveys_language(
    client: Client,
) -> None:
    org = await recruited(client)
    auth = org.auth("analyst")
    folded = await client.get(f"{TRENDS}/trust/chart.svg?{SPLIT}&small_groups=fold", headers=auth)
    assert folded.status_code == 200
    assert "Other (small groups)" in folded.text
    plain = await client.get(f"{TRENDS}/trust/chart.svg?{SPLIT}", headers=auth)
    assert "Other (small groups)" not in plain.text
    png = await client.get(f"{TRENDS}/trust/chart.png?{SPLIT}&small_groups=fold", headers=auth)
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
