"""A number question's moments stay exact whatever the answers' distance from zero (up to the
documented 10^15): sd, interval, Welch test and paired t against SciPy on the raw answers, for
answers clustered near 10^3 … 10^12, for a series whose level climbs from 10^3 to 10^12, and
when the figures are served again from the rollups. Sums around zero (or the question's `min`)
gave sd 0 and no test from 10^6 on (docs/statistics.md, "Number answers far from zero")."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from numpy.typing import NDArray
from scipy import stats

from tests.builders.analysis import import_lines, line
from tests.builders.orgs import Org, make_org
from tests.builders.surveys import MONTHLY, make_survey

Client = AsyncTestClient[Litestar]
AMOUNT = {
    "questions": [{"key": "amount", "type": "number", "label": "Amount", "min": 0, "max": 1e15}]
}
# Two waves of six answers a little apart, as QA's report had them.
LOW = (0.1, 0.2, 0.3, 0.4, 0.5, 0.7)
HIGH = (0.4, 0.5, 0.6, 0.8, 0.9, 1.1)
# The engine's figures against SciPy's on the same floats: the sums lose nothing that matters.
RTOL = 1e-9


async def amounts(client: Client, waves: Sequence[Sequence[float]]) -> Org:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY, definition=AMOUNT)
    await import_lines(
        client,
        org,
        [line(w, {"amount": a}) for w, xs in enumerate(waves, start=1) for a in xs],
    )
    return org


async def trend_waves(client: Client, org: Org, months: int) -> list[dict[str, Any]]:
    got = await client.get(
        f"/api/v1/surveys/pulse/trends?from=2025-01-01&to=2025-{months:02d}-28",
        headers=org.auth("analyst"),
    )
    assert got.status_code == 200, got.text
    waves: list[dict[str, Any]] = got.json()["questions"][0]["waves"]
    return waves


def close(got: float | None, expected: float) -> bool:
    return got is not None and math.isclose(got, expected, rel_tol=RTOL)


def within_ulps(got: float | None, expected: float, ulps: int = 4) -> bool:
    return got is not None and abs(got - expected) <= ulps * math.ulp(expected)


def centred(xs: Sequence[float]) -> NDArray[np.float64]:
    """The answers less their first: an exact subtraction between floats this close, and what
    SciPy is given. On the raw answers NumPy's own sums round away the tenths near 10^12 (its
    sd of QA's answers there is off by 2e-8; the exact one is the engine's)."""
    return np.subtract(xs, xs[0])


def mean_sd(xs: Sequence[float]) -> tuple[float, float]:
    ys = centred(xs)
    return xs[0] + float(np.mean(ys)), float(np.std(ys, ddof=1))


def assert_like_scipy(waves: list[dict[str, Any]], answers: Sequence[Sequence[float]]) -> None:
    """Each wave's mean, sd and t interval, and each change's Welch test, as SciPy has them:
    `ttest_1samp` and `ttest_ind_from_stats`, with Welch's df from the same moments."""
    for wave, xs in zip(waves, answers, strict=True):
        mean, sd = mean_sd(xs)
        ci = stats.ttest_1samp(centred(xs), 0).confidence_interval()
        assert close(wave["estimate"], mean), wave
        assert close(wave["sd"], sd), wave
        # Bounds near 10^12 carry a few digits of the interval only: the same float, within
        # the rounding of the last addition (the sd above pins the width to 1e-9).
        assert within_ulps(wave["ci_low"], xs[0] + ci.low), wave
        assert within_ulps(wave["ci_high"], xs[0] + ci.high), wave
    for wave, before, after in zip(waves[1:], answers, answers[1:], strict=False):
        (m_from, s_from), (m_to, s_to) = mean_sd(before), mean_sd(after)
        n_from, n_to = len(before), len(after)
        welch = stats.ttest_ind_from_stats(m_to, s_to, n_to, m_from, s_from, n_from, False)
        a, b = s_to**2 / n_to, s_from**2 / n_from
        change = wave["change"]
        assert change["test"] == "welch_t", change
        assert close(change["statistic"], welch.statistic), change
        assert close(change["p"], welch.pvalue) or welch.pvalue == change["p"] == 0, change
        assert close(change["df"], (a + b) ** 2 / (a**2 / (n_to - 1) + b**2 / (n_from - 1)))


@pytest.mark.parametrize("base", [1e3, 1e6, 1e9, 1e12])
async def test_number_figures_equal_scipys_far_from_zero(client: Client, base: float) -> None:
    answers = [[base + d for d in LOW], [base + d for d in HIGH]]
    org = await amounts(client, answers)
    waves = await trend_waves(client, org, 2)
    assert_like_scipy(waves, answers)
    change = waves[1]["change"]
    # QA's case: t = 2.514, p = 0.0316 on 9.62 degrees of freedom, at every magnitude (the
    # answers near 10^12 are floats 1.2e-4 apart, so t there is 2.5134).
    assert math.isclose(change["statistic"], 2.5136, abs_tol=3e-4), change
    assert round(change["p"], 4) == 0.0316 and round(change["df"], 2) == 9.62, change
    # SciPy on the raw answers (two waves of one magnitude: it loses little below 10^12).
    raw = stats.ttest_ind(answers[1], answers[0], equal_var=False)
    assert math.isclose(change["statistic"], raw.statistic, rel_tol=1e-7), change
    assert math.isclose(change["p"], raw.pvalue, rel_tol=1e-7), change
    # Served again from the rollups (the pieces carry what their sums are centred on): the same.
    assert await trend_waves(client, org, 2) == waves


async def test_a_series_whose_level_climbs_nine_orders_of_magnitude(client: Client) -> None:
    """One reference for the whole question cannot serve both 10^3 and 10^12 (the 10^12 wave
    would keep none of its digits): a wave the first sums leave ill-conditioned is counted again
    around its own mean."""
    answers = [
        [base + d for d in (LOW if i % 2 == 0 else HIGH)]
        for i, base in enumerate((1e3, 1e6, 1e9, 1e12))
    ]
    org = await amounts(client, answers)
    waves = await trend_waves(client, org, 4)
    assert_like_scipy(waves, answers)
    assert await trend_waves(client, org, 4) == waves


async def test_answers_all_equal_far_from_zero_do_not_vary(client: Client) -> None:
    answers = [[1e9 + 0.5] * 6, [1e9 + 0.5] * 6]
    org = await amounts(client, answers)
    waves = await trend_waves(client, org, 2)
    assert [w["sd"] for w in waves] == [0.0, 0.0]
    assert waves[1]["change"]["p"] is None


@pytest.mark.parametrize("base", [1e6, 1e12])
async def test_paired_t_equals_scipys_far_from_zero(client: Client, base: float) -> None:
    """Each respondent's difference sits near 10^6 with a spread of tenths: the panel's sums
    of d and d² would keep none of that spread's digits around zero."""
    before = [base + d for d in LOW]
    after = [base + 1e6 + d for d in HIGH]
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY, definition=AMOUNT)
    await import_lines(
        client,
        org,
        [
            line(w, {"amount": a}, respondent=f"r{i}")
            for w, xs in ((1, before), (2, after))
            for i, a in enumerate(xs)
        ],
    )
    got = await client.get(
        "/api/v1/surveys/pulse/panel/amount?from_wave=1&to_wave=2", headers=org.auth("analyst")
    )
    assert got.status_code == 200, got.text
    panel = got.json()
    expected = stats.ttest_rel(after, before)
    interval = expected.confidence_interval()
    assert panel["test"] == "paired_t" and panel["n_pairs"] == 6
    assert close(panel["statistic"], expected.statistic), panel
    assert close(panel["p"], expected.pvalue), panel
    assert close(panel["mean_diff"], float(np.mean(np.subtract(after, before)))), panel
    assert within_ulps(panel["ci_low"], interval.low), panel
    assert within_ulps(panel["ci_high"], interval.high), panel
