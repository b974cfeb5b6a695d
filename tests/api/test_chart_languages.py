"""Charts of surveys in Chinese, Japanese, Korean and Hindi over HTTP (the chart routes and a
report's charts), with every glyph drawn: matplotlib warns of a glyph no font has, and here that
warning is an error, so the render (on the server's worker thread) fails and the route with it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.clock import Clock, fixed_clock
from tests.builders.analysis import import_lines, line
from tests.builders.orgs import make_org
from tests.builders.surveys import MONTHLY, make_survey

Client = AsyncTestClient[Litestar]

# question label, three option labels, a decision's title
SURVEYS = {
    "zh-Hans": (
        "我信任这个组织会根据我的意见采取行动",
        ("气候变化", "住房", "健康"),
        "公布会议纪要",
    ),
    "zh-Hant": (
        "我相信這個組織會根據我的意見採取行動",
        ("氣候變化", "住房", "健康"),
        "公佈會議紀要",
    ),
    "ja": (
        "私の意見に基づいて行動してくれると信頼しています",
        ("気候変動", "住まい", "健康"),
        "議事録を公開",
    ),
    "ko": (
        "저는 이 단체가 제 의견에 따라 행동할 것이라고 믿습니다",
        ("기후 변화", "주거", "건강"),
        "회의록 공개",
    ),
    "hi": (
        "मुझे भरोसा है कि संगठन मेरे विचारों पर काम करेगा",
        ("जलवायु", "आवास", "स्वास्थ्य"),
        "बैठक का ब्योरा प्रकाशित",
    ),
}


@pytest.fixture
def clock() -> Clock:
    return fixed_clock(datetime(2026, 2, 1, tzinfo=UTC))


def definition(label: str, options: tuple[str, ...]) -> dict[str, Any]:
    return {
        "questions": [
            {
                "key": "trust",
                "type": "likert",
                "label": label,
                "required": True,
                "scale": {"min": 1, "max": 5, "labels": {"1": options[0], "5": options[1]}},
            },
            {
                "key": "priority",
                "type": "single_choice",
                "label": label,
                "options": [
                    {"key": key, "label": text}
                    for key, text in zip(("climate", "housing", "health"), options, strict=True)
                ],
            },
        ]
    }


@pytest.mark.filterwarnings("error:Glyph .* missing from font:UserWarning")
@pytest.mark.parametrize("locale", sorted(SURVEYS))
async def test_charts_and_reports_draw_every_glyph(client: Client, locale: str) -> None:
    label, options, decision = SURVEYS[locale]
    org = await make_org(client)
    await make_survey(
        client,
        org,
        schedule=MONTHLY,
        default_locale=locale,
        definition=definition(label, options),
    )
    keys = ("climate", "housing", "health")
    lines = [
        line(w, {"trust": 1 + (i + w) % 5, "priority": keys[i % 3]})
        for w in range(1, 6)
        for i in range(8 + w)
    ]
    await import_lines(client, org, lines)
    decided = await client.post(
        "/api/v1/surveys/pulse/decisions",
        json={"title": decision, "decided_at": "2025-03-20T00:00:00Z"},
        headers=org.auth("campaigner"),
    )
    assert decided.status_code == 201, decided.text
    auth = org.auth("analyst")
    trends = "/api/v1/surveys/pulse/trends"
    for question in ("trust", "priority"):
        for fmt in ("png", "svg"):
            got = await client.get(f"{trends}/{question}/chart.{fmt}", headers=auth)
            assert got.status_code == 200, got.text
            assert got.headers["content-type"].startswith(f"image/{fmt}")
    made = await client.post("/api/v1/surveys/pulse/report-links", json={}, headers=auth)
    assert made.status_code == 201, made.text
    page = await client.get("/" + made.json()["url"].split("/", 3)[3])
    assert page.status_code == 200 and label in page.text
    charts = re.findall(r'<img src="([^"]+)"', page.text)
    assert len(charts) == 2
    for chart in charts:
        got = await client.get(unescape(chart))
        assert got.status_code == 200, got.text
