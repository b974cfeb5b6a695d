"""The report's text questions: the words that set the latest shown wave apart, and a few of its
answers; nothing of a wave under min_n."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.clock import Clock, fixed_clock
from tests.api.test_report import link, path_of
from tests.api.test_texts import WAVES, texts_world
from tests.builders.analysis import import_lines, line

Client = AsyncTestClient[Litestar]


@pytest.fixture
def clock() -> Clock:
    return fixed_clock(datetime(2025, 6, 1, tzinfo=UTC))


async def test_the_report_shows_a_text_questions_distinct_words_and_answers(
    client: Client,
) -> None:
    org = await texts_world(client)
    # Wave 4 stays under min_n (4 answers): none of its words may appear.
    await import_lines(client, org, [line(4, {"trust": 3, "comment": "hidden hamster"})])
    made = await link(client, org)
    page = await client.get(path_of(made["url"]))
    assert page.status_code == 200, page.text
    section = re.search(
        r'<section class="question" id="q-comment">(.*?)</section>', page.text, re.S
    )
    assert section is not None
    html = section.group(1)
    assert "Words that set 2025-03 apart from 2025-02" in html
    more = re.search(r"More often:</strong>(.*?)</li>", html, re.S)
    less = re.search(r"Less often:</strong>(.*?)</li>", html, re.S)
    new = re.search(r"New:</strong>(.*?)</li>", html, re.S)
    assert more is not None and less is not None and new is not None
    assert "friendly meetings" in more.group(1) and "buses" in less.group(1)
    assert "assembly" in new.group(1)
    assert "(z −" in less.group(1)  # a minus sign, as the report's other figures
    # The generic text summary ("only the number of answers") gives way to the words.
    assert "only the number" not in html
    assert "5 of the 78 answers in 2025-03" in html
    sample = re.findall(r"<li>([^<]*)</li>", html.split('class="answers"')[1])
    assert len(sample) == 5 and set(sample) <= set(WAVES[3])
    assert "hamster" not in page.text
