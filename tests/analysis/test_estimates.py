"""Per-wave estimates: hand-computed values, then equality with SciPy on the expanded answers."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from feedback.analysis.estimates import (
    choice_estimate,
    nps_estimate,
    number_estimate,
    scale_estimate,
    text_estimate,
)
from feedback.analysis.results import Z_CRITICAL, Share
from feedback.analysis.sufficient import Moments, OptionCounts, ScaleCounts
from tests.analysis.tables import (
    close,
    expand,
    moments_of,
    number_values,
    option_counts,
    scale,
    scale_counts,
)
from tests.builders.wire import wire

T_975_3 = 3.182446305284263  # Student t table, 0.975 quantile, 3 degrees of freedom
Z_975 = 1.959963984540054  # standard normal 0.975 quantile


def likert(*counts: int) -> ScaleCounts:
    return ScaleCounts(np.arange(1, len(counts) + 1), np.array(counts))


def test_z_critical_is_the_normal_quantile() -> None:
    assert math.isclose(Z_CRITICAL, Z_975, rel_tol=1e-15)


def test_likert_mean_interval_and_top_box_by_hand() -> None:
    # answers 1, 3, 5, 5: mean 3.5, s² = (6.25 + 0.25 + 2.25 + 2.25)/3 = 11/3
    result = scale_estimate(likert(1, 0, 1, 0, 2), min_n=1)
    half = T_975_3 * math.sqrt(11 / 3 / 4)
    assert result.metric == "mean" and result.n == 4 and not result.suppressed
    assert result.estimate == 3.5
    assert result.sd is not None and math.isclose(result.sd, math.sqrt(11 / 3), rel_tol=1e-12)
    assert result.ci_low is not None and math.isclose(result.ci_low, 3.5 - half, rel_tol=1e-9)
    assert result.ci_high is not None and math.isclose(result.ci_high, 3.5 + half, rel_tol=1e-9)
    assert result.distribution == {"1": 1, "2": 0, "3": 1, "4": 0, "5": 2}
    # top two points (4, 5) hold 2 of 4; Wilson 95% for 2/4 is 0.5 ∓ z/(2·√(4 + z²))
    delta = Z_975 / (2 * math.sqrt(4 + Z_975**2))
    assert result.top_box is not None and result.top_box.count == 2
    assert result.top_box.estimate == 0.5
    assert math.isclose(result.top_box.ci_low or 0, 0.5 - delta, rel_tol=1e-12)
    assert math.isclose(result.top_box.ci_high or 0, 0.5 + delta, rel_tol=1e-12)
    assert round(0.5 - delta, 4) == 0.1500  # the tabulated Wilson interval (0.1500, 0.8500)


def test_top_box_is_the_top_point_on_scales_of_fewer_than_five_points() -> None:
    four = scale_estimate(likert(1, 1, 3, 5), min_n=1)
    five = scale_estimate(likert(0, 1, 1, 3, 5), min_n=1)
    assert four.top_box is not None and four.top_box.count == 5
    assert five.top_box is not None and five.top_box.count == 8


def test_wilson_with_no_successes_by_hand() -> None:
    share = Share.wilson(0, 10)
    # k = 0: the lower bound is 0 and the upper z²/(n + z²)
    assert share.estimate == 0.0 and share.ci_low == 0.0
    assert math.isclose(share.ci_high or 0, Z_975**2 / (10 + Z_975**2), rel_tol=1e-12)
    assert Share.wilson(0, 0) == Share(0, None, None, None)


def test_nps_by_hand() -> None:
    # 5 promoters, 3 passives, 2 detractors of 10: NPS 30, v = 0.5 + 0.2 − 0.3² = 0.61
    counts = ScaleCounts.from_rows(
        [(10, 3), (9, 2), (8, 2), (7, 1), (3, 2)], scale_min=0, scale_max=10
    )
    result = nps_estimate(counts, min_n=5)
    half = Z_975 * 100 * math.sqrt(0.61 / 10)
    assert result.estimate == 30.0
    assert math.isclose(result.ci_low or 0, 30 - half, rel_tol=1e-12)
    assert math.isclose(result.ci_high or 0, 30 + half, rel_tol=1e-12)
    assert (result.promoters, result.passives, result.detractors) == (0.5, 0.3, 0.2)
    assert result.distribution is not None and result.distribution["10"] == 3
    assert len(result.distribution) == 11


def test_single_answer_has_no_t_interval_and_no_sd() -> None:
    result = scale_estimate(likert(0, 0, 1, 0, 0), min_n=1)
    assert result.estimate == 3.0
    assert (result.ci_low, result.ci_high, result.sd) == (None, None, None)
    number = number_estimate(Moments(1, 2.5, 6.25), min_n=1)
    assert number.estimate == 2.5 and (number.ci_low, number.ci_high, number.sd) == (
        None,
        None,
        None,
    )


def test_equal_answers_have_a_zero_width_interval() -> None:
    # s = 0, so ttest_1samp(x, 0).confidence_interval() is (mean, mean)
    result = scale_estimate(likert(0, 0, 0, 7, 0), min_n=5)
    assert (result.estimate, result.ci_low, result.ci_high, result.sd) == (4.0, 4.0, 4.0, 0.0)
    number = number_estimate(moments_of(np.full(6, 0.1)), min_n=5)
    assert number.sd == 0.0 and number.ci_low == number.ci_high == number.estimate


def test_suppressed_wave_shows_only_n() -> None:
    for result in (
        scale_estimate(likert(1, 1, 1, 1, 0), min_n=5),
        nps_estimate(ScaleCounts.from_rows([(9, 4)], scale_min=0, scale_max=10), min_n=5),
        choice_estimate(OptionCounts(("a", "b"), np.array([2, 2]), 4), min_n=5),
        number_estimate(Moments(4, 10.0, 30.0), min_n=5),
    ):
        assert result.suppressed and result.n == 4
        assert wire(result) == {"n": 4, "suppressed": "small"}


def test_no_answers_is_suppressed_and_carries_no_figures() -> None:
    result = scale_estimate(likert(0, 0, 0, 0, 0), min_n=1)
    assert result.suppressed and result.estimate is None and result.distribution is None


def test_text_reports_only_n() -> None:
    assert wire(text_estimate(7, min_n=5)) == {"n": 7, "suppressed": False}
    assert text_estimate(3, min_n=5).suppressed


def test_choice_shares_by_hand() -> None:
    counts = OptionCounts.from_rows(
        [("housing", 3), ("climate", 6)], options=["climate", "housing", "jobs"]
    )
    result = choice_estimate(counts, min_n=5)
    assert result.n == 9 and result.distribution == {"climate": 6, "housing": 3, "jobs": 0}
    assert result.options is not None
    assert result.options["climate"].estimate == 6 / 9
    assert result.options["jobs"] == replace(Share.wilson(0, 9), mdc=0.0)
    assert wire(result)["options"] == {
        key: {
            "count": s.count,
            "estimate": s.estimate,
            "ci_low": s.ci_low,
            "ci_high": s.ci_high,
            "mdc": s.mdc,
        }
        for key, s in result.options.items()
    }


def test_wire_fields_by_metric() -> None:
    mean = wire(scale_estimate(likert(1, 2, 3, 4, 5), min_n=5))
    assert set(mean) == {
        "n",
        "suppressed",
        "estimate",
        "ci_low",
        "ci_high",
        "sd",
        "distribution",
        "top_box",
        "mdc",
    }
    nps = nps_estimate(ScaleCounts.from_rows([(9, 6)], scale_min=0, scale_max=10), min_n=5)
    assert {"promoters", "passives", "detractors", "distribution"} <= set(wire(nps))
    number = wire(number_estimate(Moments(1, 3.0, 9.0), min_n=1))
    assert number == {
        "n": 1,
        "suppressed": False,
        "estimate": 3.0,
        "ci_low": None,
        "ci_high": None,
        "sd": None,
        "mdc": None,
    }
    share = wire(choice_estimate(OptionCounts(("a",), np.array([5]), 5), min_n=5))
    assert "estimate" not in share and set(share) == {"n", "suppressed", "distribution", "options"}
    # JSON has no NaN: the strict encoder refuses it
    json.dumps([mean, wire(nps), number, share], allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_scale_estimate_equals_scipy_on_raw_answers(data: st.DataObject) -> None:
    bounds = data.draw(scale())
    counts = data.draw(scale_counts(bounds, min_n=1))
    raw = expand(counts.values, counts.counts)
    result = scale_estimate(counts, min_n=1)
    assert close(result.estimate, raw.mean())
    if raw.size == 1:
        assert result.ci_low is None and result.sd is None
    else:
        assert close(result.sd, raw.std(ddof=1))
        if raw.std() == 0:
            assert result.ci_low == result.ci_high == result.estimate
        else:
            ci = stats.ttest_1samp(raw, 0).confidence_interval()
            assert close(result.ci_low, ci.low) and close(result.ci_high, ci.high)
    top = raw >= (bounds[1] - 1 if bounds[1] - bounds[0] + 1 >= 5 else bounds[1])
    ci = stats.binomtest(int(top.sum()), raw.size).proportion_ci(method="wilson")
    assert result.top_box is not None
    assert close(result.top_box.ci_low, ci.low) and close(result.top_box.ci_high, ci.high)


@settings(max_examples=150, deadline=None)
@given(scale_counts((0, 10), min_n=1))
def test_nps_equals_the_score_mean_on_raw_answers(counts: ScaleCounts) -> None:
    raw = expand(counts.values, counts.counts)
    # +1 promoter, 0 passive, −1 detractor: NPS is 100·mean and v its population variance
    score = np.where(raw >= 9, 1.0, np.where(raw <= 6, -1.0, 0.0))
    result = nps_estimate(counts, min_n=1)
    half = Z_975 * 100 * math.sqrt(score.var() / raw.size)
    assert close(result.estimate, 100 * score.mean(), abs_tol=1e-9)
    assert close(result.ci_low, 100 * score.mean() - half, abs_tol=1e-9)
    assert close(result.ci_high, 100 * score.mean() + half, abs_tol=1e-9)
    assert close(result.promoters, (score == 1).mean())
    assert close(result.detractors, (score == -1).mean())


@settings(max_examples=150, deadline=None)
@given(st.booleans(), st.data())
def test_choice_shares_equal_binomtest_on_raw_answers(multi: bool, data: st.DataObject) -> None:
    options = ("a", "b", "c", "d")[: data.draw(st.integers(1, 4))]
    counts = data.draw(option_counts(options, multi=multi))
    result = choice_estimate(counts, min_n=1)
    assert result.options is not None
    for option, count in zip(options, counts.counts, strict=True):
        chose = np.zeros(counts.n, dtype=bool)
        chose[:count] = True
        ci = stats.binomtest(int(chose.sum()), chose.size).proportion_ci(method="wilson")
        share = result.options[option]
        assert close(share.estimate, chose.mean())
        assert close(share.ci_low, ci.low) and close(share.ci_high, ci.high)


@settings(max_examples=150, deadline=None)
@given(st.lists(number_values, min_size=2, max_size=60))
def test_number_estimate_equals_scipy_on_raw_answers(values: list[float]) -> None:
    raw = np.array(values)
    result = number_estimate(moments_of(raw), min_n=1)
    assert close(result.estimate, raw.mean())
    assert close(result.sd, raw.std(ddof=1))
    if raw.std() > 0:
        ci = stats.ttest_1samp(raw, 0).confidence_interval()
        assert close(result.ci_low, ci.low) and close(result.ci_high, ci.high)


@pytest.mark.parametrize("offset", [1e6, 1e9])
def test_shifted_moments_keep_precision_far_from_zero(offset: float) -> None:
    rng = np.random.default_rng(7)
    raw = offset + rng.integers(0, 400, size=500) / 100
    ci = stats.ttest_1samp(raw, 0).confidence_interval()
    result = number_estimate(moments_of(raw, shift=offset), min_n=5)
    assert close(result.sd, raw.std(ddof=1))
    assert close(result.ci_low, ci.low) and close(result.ci_high, ci.high)
