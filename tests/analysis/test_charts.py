"""Charts: every metric and the thin-data cases render at 800×450, as PNG and well-formed SVG,
deterministically, concurrently, and without touching matplotlib's global state."""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from itertools import pairwise

import matplotlib
import numpy as np
import pytest
from matplotlib.cbook import is_math_text
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from feedback.analysis.charts import (
    BLUE,
    ChartBreak,
    ChartData,
    ChartDecision,
    ChartPoint,
    chart,
    decision_position,
    render,
    render_chart,
    render_segments,
    segment_chart,
)
from feedback.analysis.estimates import choice_estimate, scale_estimate
from feedback.analysis.results import NoTrend, TrendTest
from feedback.analysis.sufficient import OptionCounts, ScaleCounts

MIN_N = 5


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG signature and IHDR chunk (RFC 2083)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def texts(figure: Figure) -> list[str]:
    return [t.get_text() for t in figure.findobj(Text) if t.get_text()]


def mean_points(n_waves: int, suppressed: frozenset[int] = frozenset()) -> tuple[ChartPoint, ...]:
    rng = np.random.default_rng(n_waves)
    points = []
    for wave in range(1, n_waves + 1):
        size = 3 if wave in suppressed else 120 + wave
        counts = ScaleCounts(np.arange(1, 6), rng.multinomial(size, [0.1, 0.2, 0.3, 0.25, 0.15]))
        estimate = scale_estimate(counts, min_n=MIN_N)
        points.append(ChartPoint.from_estimate(wave, f"2025-{wave:02d}", estimate))
    return tuple(points)


def share_points(n_waves: int, multi: bool, options: int = 4) -> tuple[ChartPoint, ...]:
    rng = np.random.default_rng(options)
    keys = tuple(f"option_{i}" for i in range(options))
    points = []
    for wave in range(1, n_waves + 1):
        n = 4 if wave == 2 else 150
        counts = (
            rng.binomial(n, 0.3, size=options)
            if multi
            else rng.multinomial(n, [1 / options] * options)
        )
        estimate = choice_estimate(OptionCounts(keys, counts, n), min_n=MIN_N)
        points.append(ChartPoint.from_estimate(wave, f"W{wave}", estimate))
    return tuple(points)


TREND = TrendTest(
    s=40, var_s=212.67, tau=0.61, z=2.6, p=0.009, slope=0.07, direction="increasing", waves=12
)

LIKERT = ChartData(
    title="I trust the organisation to act on my views",
    metric="mean",
    points=mean_points(12, frozenset({5})),
    min_n=MIN_N,
    breaks=(ChartBreak(8, 3),),
    decisions=(
        ChartDecision(6.4, "Published campaign priorities"),
        ChartDecision(11.0, "Assemblies"),
    ),
    trend=TREND,
    y_label="Mean agreement (1–5)",
    y_bounds=(1, 5),
)

CASES = {
    "likert": LIKERT,
    "nps": ChartData(
        "Would you recommend us?",
        "nps",
        tuple(
            replace(p, estimate=(p.estimate or 0) * 10 - 30, ci_low=None, ci_high=None)
            for p in LIKERT.points
        ),
        MIN_N,
        trend=NoTrend(
            "a trend needs at least 4 non-suppressed waves in one run without a series break; "
            "there are 3",
            3,
        ),
    ),
    "number": ChartData("Hours volunteered", "mean", mean_points(30), MIN_N, y_label="Hours"),
    "single_choice": ChartData("Which issue?", "share", share_points(8, multi=False), MIN_N),
    "multi_choice": ChartData(
        "What did you do?",
        "share",
        share_points(8, multi=True, options=9),
        MIN_N,
        multiple_choice=True,
    ),
    "many_options": ChartData(
        "Ten options", "share", share_points(6, multi=False, options=10), MIN_N
    ),
    "empty": ChartData("Nothing yet", "mean", (), MIN_N),
    "single_wave": ChartData("One wave", "mean", mean_points(1), MIN_N),
    "all_suppressed": ChartData("Too few", "mean", mean_points(4, frozenset({1, 2, 3, 4})), MIN_N),
    "all_suppressed_share": ChartData(
        "Too few",
        "share",
        tuple(replace(p, suppressed=True, shares=None) for p in share_points(3, False)),
        MIN_N,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_case_renders_png_at_800_by_450_and_svg_that_parses(name: str) -> None:
    series = CASES[name]
    assert png_size(render_chart(series, "png")) == (800, 450)
    svg = ET.fromstring(render_chart(series, "svg"))
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert (svg.get("width"), svg.get("height")) == ("576pt", "324pt")


def test_high_density_png_doubles_the_pixels() -> None:
    assert png_size(render_chart(LIKERT, scale=2)) == (1600, 900)


def test_segment_charts_render_for_every_layout() -> None:
    for count in (0, 1, 2, 3, 4, 5, 7):
        panels = [replace(LIKERT, title=f"segment {i}", decisions=()) for i in range(count)]
        assert png_size(render_segments("By tier", panels)) == (800, 450)
    shares = [CASES["single_choice"], CASES["many_options"]]
    ET.fromstring(render_segments("By tier", shares, "svg"))


def test_thin_data_says_so() -> None:
    assert "No waves in this range yet." in texts(chart(CASES["empty"]))
    assert any("fewer than 5 answers" in t for t in texts(chart(CASES["all_suppressed"])))
    assert any("fewer than 5 answers" in t for t in texts(chart(CASES["all_suppressed_share"])))
    assert any(t.startswith("One wave so far") for t in texts(chart(CASES["single_wave"])))
    assert any(t.startswith("No trend test: a trend needs") for t in texts(chart(CASES["nps"])))
    assert any("nobody has this attribute" in t for t in texts(segment_chart("By tier", [])))


def test_trend_chart_shows_verdict_breaks_decisions_and_n() -> None:
    shown = texts(chart(LIKERT))
    assert any(
        "Mann–Kendall: increasing, p=0.009, Sen slope +0.07/wave (12 waves)" in t for t in shown
    )
    assert "v3 · new series" in shown
    assert {"Published campaign priorities", "Assemblies"} <= set(shown)
    assert "n<5: suppressed" in shown
    assert "2025-05\nn=3" in shown and "2025-12\nn=132" in shown


def test_lines_never_bridge_a_suppressed_wave_or_a_break() -> None:
    figure = chart(LIKERT)
    runs = [
        np.asarray(line.get_xdata()).astype(int).tolist()
        for line in figure.axes[0].get_lines()
        if line.get_color() == BLUE
    ]
    assert runs == [[1, 2, 3, 4], [6, 7], [8, 9, 10, 11, 12]]


def test_the_other_line_never_joins_waves_of_different_members() -> None:
    """small_groups=fold: `other` holds other values from wave 3, so it is another group."""
    members = {1: {"a", "b"}, 2: {"a", "b"}, 3: {"a", None}, 4: {"a", None}}
    points = tuple(
        ChartPoint(w, f"w{w}", 6, False, 3.0 + w / 10, 2.5, 3.5, members=frozenset(m))
        for w, m in members.items()
    )
    panel = ChartData(title="Other", metric="mean", points=points, min_n=5, pooled=True)
    figure = segment_chart("q", [panel])
    runs = [
        np.asarray(line.get_xdata()).astype(int).tolist()
        for line in figure.axes[0].get_lines()
        if line.get_color() == BLUE
    ]
    assert runs == [[1, 2], [3, 4]]


def test_many_waves_thin_the_labels_but_keep_the_newest() -> None:
    ax = chart(CASES["number"]).axes[0]
    ticks = [int(t) for t in ax.get_xticks()]
    assert ticks[-1] == 30 and 5 <= len(ticks) < 30
    assert len({b - a for a, b in pairwise(ticks)}) == 1


def test_ten_options_keep_six_colours_and_group_the_rest() -> None:
    legend = chart(CASES["many_options"]).legends[-1]
    labels = [t.get_text() for t in legend.get_texts()]
    assert len(labels) == 7 and labels[0] == "Other (4)"


def test_segment_panels_share_the_y_axis() -> None:
    lower = tuple(
        replace(p, estimate=p.estimate - 1, ci_low=None, ci_high=None)
        if p.estimate is not None
        else p
        for p in LIKERT.points
    )
    figure = segment_chart("By tier", [LIKERT, replace(LIKERT, title="low", points=lower)])
    assert figure.axes[0].get_ylim() == figure.axes[1].get_ylim()
    assert figure.axes[0].get_ylim()[0] <= min(p.estimate for p in lower if p.estimate is not None)


def test_segment_panels_give_an_option_one_colour_in_every_panel() -> None:
    def panel(title: str, a: float) -> ChartData:
        points = tuple(
            ChartPoint(w, f"W{w}", 50, False, shares={"a": a, "b": 1 - a}) for w in (1, 2)
        )
        return ChartData(title, "share", points, MIN_N)

    # "b" has the larger share overall, so it is the first option (bottom band) in both panels,
    # although "a" is larger in the first panel on its own
    figure = segment_chart("By tier", [panel("one", 0.7), panel("two", 0.2)])
    first, second = (ax.patches[0] for ax in figure.axes)
    assert isinstance(first, Rectangle) and isinstance(second, Rectangle)
    assert first.get_facecolor() == second.get_facecolor()
    assert first.get_height() == pytest.approx(0.3) and second.get_height() == pytest.approx(0.8)


def test_user_text_is_never_read_as_mathtext() -> None:
    series = replace(
        LIKERT,
        title="Donations of $5 and $10",
        decisions=(ChartDecision(3, "Cut the $5 ask to $3"),),
        y_label="$ per month",
    )
    figure = chart(series)
    dollar = [t for t in texts(figure) if "$" in t]
    assert len(dollar) == 3 and not any(is_math_text(t) for t in dollar)
    render(figure, "png")


def test_long_titles_are_shortened_with_an_ellipsis() -> None:
    series = replace(LIKERT, title="How much " * 30)
    title = chart(series).texts[0].get_text()
    assert title.endswith("…") and len(title) < 100


def test_long_labels_without_spaces_keep_their_beginning() -> None:
    """A label with no space to shorten at (a compound word, an attribute value joined by
    underscores, Chinese or Japanese) is cut within the word, not reduced to a bare "…"."""
    region = "supporters_in_the_north_east_of_england"
    figure = segment_chart("By region", [replace(LIKERT, title=region), LIKERT])
    panel = figure.axes[0].get_title(loc="left")
    assert panel.startswith("supporters_in_the") and panel.endswith("…")
    word = "Donaudampfschifffahrtsgesellschaftskapitänsmütze"
    labels = {f"option_{i}": f"{word}{i}" for i in range(4)}
    shares = replace(CASES["single_choice"], option_labels=labels)
    legend = [t.get_text() for t in chart(shares).legends[-1].get_texts()]
    assert len(legend) == 4 and all(t.startswith("Donaudampf") for t in legend)
    decided = replace(LIKERT, title="x" * 300, decisions=(ChartDecision(3.0, word * 2),))
    title = chart(decided).texts[0].get_text()
    assert title.startswith("xxxx") and title.endswith("…")
    assert any(t.startswith("Donaudampf") and t.endswith("…") for t in texts(chart(decided)))


def test_rendering_is_deterministic_and_thread_safe() -> None:
    cases = [CASES[name] for name in ("likert", "single_choice", "multi_choice", "all_suppressed")]
    serial = [render_chart(s, fmt) for s in cases for fmt in ("png", "svg")]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(
            pool.map(
                lambda job: render_chart(*job),
                [(s, fmt) for s in cases for fmt in ("png", "svg")] * 2,
            )
        )
    assert [_stable(b) for b in parallel] == [_stable(b) for b in serial] * 2


def _stable(image: bytes) -> bytes:
    """PNG as is; SVG without the element ids matplotlib salts randomly on each save."""
    return re.sub(rb"\b[a-z][0-9a-f]{10}\b", b"id", image)


def test_rendering_leaves_rcparams_alone() -> None:
    before = dict(matplotlib.rcParams)
    for series in CASES.values():
        render_chart(series)
    assert dict(matplotlib.rcParams) == before


def test_charts_never_import_pyplot() -> None:
    code = (
        "import sys\n"
        "from tests.analysis.test_charts import CASES\n"
        "from feedback.analysis.charts import render_chart\n"
        "render_chart(CASES['likert'])\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=_repo_root(), env=_env())


def _repo_root() -> str:
    import pathlib

    return str(pathlib.Path(__file__).resolve().parents[2])


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": _repo_root()}


def test_decision_position_on_the_wave_axis() -> None:
    openings = [(w, datetime(2025, w, 1, tzinfo=UTC)) for w in (1, 2, 3)]
    assert decision_position(datetime(2024, 12, 31, tzinfo=UTC), openings) is None
    assert decision_position(datetime(2025, 1, 1, tzinfo=UTC), openings) == 1.0
    # 14 of January's 31 days in: 1 + 14/31
    assert decision_position(datetime(2025, 1, 15, tzinfo=UTC), openings) == pytest.approx(
        1 + 14 / 31
    )
    assert decision_position(datetime(2025, 2, 1, tzinfo=UTC), openings) == 2.0
    # after the last opening: drawn just right of the last wave, never beyond 0.4
    assert decision_position(datetime(2025, 3, 8, tzinfo=UTC), openings) == pytest.approx(
        3 + 7 / 28
    )
    assert decision_position(datetime(2025, 9, 1, tzinfo=UTC), openings) == 3.4
    assert decision_position(datetime(2025, 9, 1, tzinfo=UTC), []) is None


def test_chart_points_from_estimates() -> None:
    suppressed = ChartPoint.from_estimate(
        3, "W3", scale_estimate(ScaleCounts(np.arange(1, 6), np.array([1, 1, 0, 0, 0])), min_n=5)
    )
    assert (
        suppressed.suppressed
        and suppressed.n == 2
        and suppressed.estimate is None
        and not suppressed.shown
    )
    share = ChartPoint.from_estimate(
        1, "W1", choice_estimate(OptionCounts(("a", "b"), np.array([3, 7]), 10), min_n=5)
    )
    assert share.shares == {"a": 0.3, "b": 0.7} and share.shown
