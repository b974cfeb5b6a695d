"""Charts draw Chinese, Japanese, Korean and Devanagari text in fallback fonts, glyph by glyph,
as PNG and SVG, with no glyph missing; Latin text exactly as DejaVu Sans alone draws it; widths
measured in the same fonts, so shortened labels fit. The fonts are Debian's fonts-noto-cjk and
fonts-sil-annapurna, which ./scripts/test installs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from feedback.analysis import chart_fonts
from feedback.analysis.chart_fonts import CJK, DEVANAGARI, LATIN, Fallback
from feedback.analysis.charts import (
    ChartData,
    ChartDecision,
    _shorten,
    _text_px,
    chart,
    render,
    render_chart,
    render_segments,
    segment_chart,
)
from tests.analysis.test_charts import CASES, LIKERT

REPO = Path(__file__).resolve().parents[2]

# title, decision, four option labels, a wave label; and the face the chart should draw in
LANGUAGES = {
    "zh-Hans": (
        "我信任这个组织会根据我的意见采取行动",
        "公布了运动的优先事项",
        ("气候变化", "教育", "健康", "住房"),
        "2025年1月",
        "Noto Sans CJK SC",
    ),
    "zh-Hant": (
        "我相信這個組織會根據我的意見採取行動",
        "公佈了運動的優先事項",
        ("氣候變化", "教育", "健康", "住房"),
        "2025年1月",
        "Noto Sans CJK TC",
    ),
    "ja": (
        "私の意見に基づいて行動してくれると信頼しています",
        "キャンペーンの優先順位を公開",
        ("気候変動", "教育", "健康", "住まい"),
        "2025年1月",
        "Noto Sans CJK JP",
    ),
    "ko": (
        "저는 이 단체가 제 의견에 따라 행동할 것이라고 믿습니다",
        "캠페인 우선순위 발표",
        ("기후 변화", "교육", "건강", "주거"),
        "2025년 1월",
        "Noto Sans CJK KR",
    ),
    "hi": (
        "मुझे भरोसा है कि संगठन मेरे विचारों पर काम करेगा",
        "अभियान की प्राथमिकताएँ प्रकाशित",
        ("जलवायु", "शिक्षा", "स्वास्थ्य", "आवास"),
        "जनवरी",
        "Annapurna SIL",
    ),
}


@pytest.fixture(autouse=True)
def _fonts_installed() -> None:
    missing = [f.package for f in chart_fonts.missing()]
    assert not missing, (
        f"{' '.join(missing)} not installed: ./scripts/test installs them "
        f"(apt-get install {' '.join(missing)})"
    )


@pytest.fixture
def no_missing_glyph() -> Iterator[None]:
    """matplotlib reports a glyph no font has as a UserWarning ("Glyph 25105 (…) missing from
    font(s) DejaVu Sans."), drawing a box in its place: here it is an error."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Glyph .* missing from font", category=UserWarning)
        yield


def charts_in(language: str) -> dict[str, Figure]:
    title, decision, options, wave, _ = LANGUAGES[language]
    points = tuple(replace(p, label=f"{wave} {p.wave}") for p in LIKERT.points)
    trend = replace(
        LIKERT,
        title=title,
        points=points,
        decisions=(ChartDecision(6.4, decision),),
        summary=f"{title}: {options[0]}",
        y_label=options[1],
    )
    shares = replace(
        CASES["single_choice"],
        title=title,
        option_labels={f"option_{i}": label for i, label in enumerate(options)},
    )
    lines = replace(
        CASES["multi_choice"],
        title=title,
        option_labels={f"option_{i}": label for i, label in enumerate(options)},
    )
    return {
        "trend": chart(trend),
        "shares": chart(shares),
        "lines": chart(lines),
        "segments": segment_chart(
            title, [replace(trend, title=o) for o in options[:3]], subtitle=decision
        ),
        "empty": chart(ChartData(title, "mean", (), 5)),
    }


@pytest.mark.parametrize("fmt", ["png", "svg"])
@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_glyph_is_drawn(language: str, fmt: str, no_missing_glyph: None) -> None:
    for name, figure in charts_in(language).items():
        assert render(figure, fmt), name  # a missing glyph raises


def test_a_missing_glyph_fails_these_tests(no_missing_glyph: None) -> None:
    """The check bites: text in DejaVu Sans alone, as charts were drawn, fails it."""
    figure = Figure()
    figure.text(0.5, 0.5, "气候变化", family=[LATIN])
    with pytest.raises(UserWarning, match=r"Glyph \d+ .* missing from font\(s\) DejaVu Sans"):
        render(figure, "png")


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_a_chart_draws_in_the_faces_of_its_language(language: str) -> None:
    title, *_, face = LANGUAGES[language]
    figure = charts_in(language)["trend"]
    render(figure, "png")
    drawn = [t for t in figure.findobj(Text) if t.get_text() == title]
    assert len(drawn) == 1 and face in drawn[0].get_fontfamily()
    assert drawn[0].get_fontfamily()[0] == LATIN


def test_faces_follow_the_text() -> None:
    assert CJK.face("气候变化 and climate") == "Noto Sans CJK SC"
    assert CJK.face("氣候變化，這個問題") == "Noto Sans CJK TC"
    assert CJK.face("気候変動について") == "Noto Sans CJK JP"
    assert CJK.face("기후 변화") == "Noto Sans CJK KR"
    assert CJK.face("Only Latin") == "Noto Sans CJK SC"
    assert chart_fonts.families("Only Latin") == [LATIN, "Noto Sans CJK SC", "Annapurna SIL"]
    # a matplotlib that reads only a collection's first face: every CJK text in that one
    first_face_only = replace(CJK, families=("Noto Sans CJK JP",))
    assert first_face_only.face("气候变化") == "Noto Sans CJK JP"


def test_latin_charts_are_drawn_exactly_as_with_dejavu_sans_alone() -> None:
    """The fallback fonts change no pixel of a Latin chart: each is drawn again with every text
    in DejaVu Sans only, and the bytes compare equal."""
    figures: dict[str, Callable[[], Figure]] = {
        name: partial(chart, series) for name, series in CASES.items()
    }
    figures["segments"] = partial(
        segment_chart,
        "By tier",
        [replace(LIKERT, title=f"segment {i}") for i in range(5)],
        subtitle="by x",
    )
    figures["segment_shares"] = partial(
        segment_chart, "By tier", [CASES["single_choice"], CASES["many_options"]]
    )
    for name, make in figures.items():
        for fmt in ("png", "svg"):
            with_fallbacks = render(make(), fmt)
            alone = make()
            for text in alone.findobj(Text):
                if text.get_fontfamily() == chart_fonts.families():
                    text.set_fontfamily([LATIN])
            assert _stable(render(alone, fmt)) == _stable(with_fallbacks), (name, fmt)


def _stable(image: bytes) -> bytes:
    return re.sub(rb"\b[a-z][0-9a-f]{10}\b", b"id", image)


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_measured_widths_are_the_drawn_widths(language: str) -> None:
    """Measured from the fonts' outlines, drawn hinted: within 3 %, as for Latin text."""
    title, decision, *_ = LANGUAGES[language]
    figure = Figure(figsize=(8, 4.5), dpi=100)
    renderer = FigureCanvasAgg(figure).get_renderer()
    for text, size, bold in ((title, 13.5, True), (decision, 8, False)):
        drawn = figure.text(
            0,
            0,
            text,
            fontsize=size,
            fontweight="bold" if bold else "normal",
            family=chart_fonts.families(text),
        )
        measured = _text_px(text, size, bold=bold)
        assert measured > 0
        assert measured == pytest.approx(drawn.get_window_extent(renderer).width, rel=0.03)


def test_a_cjk_character_is_about_one_em_wide() -> None:
    em = 10 * 100 / 72  # 10 pt at 100 dpi, in pixels
    assert _text_px("气候变化", 10) == pytest.approx(4 * em)
    assert _text_px("気候変動", 10) == pytest.approx(4 * em)
    assert _text_px("기후변화", 10) == pytest.approx(4 * 0.92 * em)  # Hangul is a little narrower


def test_long_labels_are_cut_within_the_text_and_fit() -> None:
    words = "我们的志愿者在社区中开展了许多关于气候变化的活动"
    assert _shorten(words, 24) == words[:11] + "…"  # 2 columns a character, 1 for the "…"
    assert _shorten("저는 이 단체가 제 의견에 따라", 16) == "저는 이 단체가…"  # cut at a space
    assert _shorten("気候変動", 24) == "気候変動"
    # a Devanagari letter keeps its vowel signs and half-forms: प्र is प, virama, र
    assert _shorten("प्राथमिकताएँप्रकाशित", 4) == "प्रा…"
    assert _shorten("प्राथमिकताएँप्रकाशित", 6) == "प्राथ…"
    labels = {f"option_{i}": f"{words}{i}" for i in range(4)}
    legend = chart(replace(CASES["single_choice"], option_labels=labels)).legends[-1]
    shown = [t.get_text() for t in legend.get_texts()]
    assert all(t.startswith(words[:5]) and t.endswith("…") for t in shown)
    figure = chart(replace(CASES["single_choice"], option_labels=labels))
    renderer = FigureCanvasAgg(figure).get_renderer()
    legend_texts = figure.legends[-1].get_texts()
    assert all(t.get_window_extent(renderer).x1 <= 800 for t in legend_texts)  # inside the chart
    title = chart(replace(LIKERT, title=words * 4)).texts[0].get_text()
    assert title.startswith(words) and title.endswith("…")
    assert _text_px(title, 12.0, bold=True) <= 0.96 * 800


def test_right_to_left_and_joined_scripts_draw_in_dejavu_sans(no_missing_glyph: None) -> None:
    """Arabic and Hebrew are in DejaVu Sans; matplotlib (libraqm) joins and orders them."""
    for title in ("أثق في أن المنظمة ستتصرف بناءً على آرائي", "אני סומך על הארגון"):
        series = replace(CASES["single_choice"], title=title, option_labels={"option_0": title})
        for fmt in ("png", "svg"):
            assert render_chart(series, fmt)
    # joined, the Arabic letters are narrower than the same letters drawn apart
    joined = _text_px("بناء", 10)
    apart = sum(_text_px(c, 10) for c in "بناء")
    assert joined < apart


def test_a_font_missing_from_the_system_is_left_out() -> None:
    """A fallback that is not installed stays out of the list (matplotlib would warn about it
    on every chart), and its text draws as boxes, as it always did."""
    absent = Fallback("No Such Sans", "Klingon", "fonts-nosuch", ("No Such Sans",), ("x.ttf",))
    assert chart_fonts.register(font_manager.fontManager, [absent]) == []
    assert chart_fonts.families("中文", fallbacks=[]) == [LATIN]


def test_fonts_installed_after_matplotlib_cached_its_font_list_are_found(tmp_path: Path) -> None:
    """matplotlib builds its list of the system's fonts once and keeps it (fontlist-*.json in
    MPLCONFIGDIR): with a list from before the fonts were installed, charts still find them."""
    stale = font_manager.FontManager.__new__(font_manager.FontManager)
    vars(stale).update(vars(font_manager.fontManager))
    ours = {family for f in (CJK, DEVANAGARI) for family in f.families}
    stale.ttflist = [f for f in font_manager.fontManager.ttflist if f.name not in ours]
    cache = tmp_path / f"fontlist-v{font_manager.FontManager.__version__}.json"
    font_manager.json_dump(stale, cache)
    before = json.loads(cache.read_text())
    assert not any(f["name"] in ours for f in before["ttflist"])
    code = (
        "import warnings\n"
        "warnings.filterwarnings('error', message='Glyph .* missing from font')\n"
        "from matplotlib import font_manager\n"
        "from feedback.analysis import chart_fonts\n"
        "assert font_manager.fontManager.ttflist, 'the cache was not read'\n"
        "assert not chart_fonts.installed(font_manager.fontManager, 'Noto Sans CJK SC')\n"
        "from tests.analysis.test_chart_fonts import charts_in\n"
        "from feedback.analysis.charts import render\n"
        "for language in ('zh-Hans', 'ja', 'ko', 'hi'):\n"
        "    for figure in [charts_in(language)['trend']]:\n"
        "        render(figure, 'png')\n"
        "print(' '.join(f.package for f in chart_fonts.available()))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "MPLCONFIGDIR": str(tmp_path),
        "PYTHONPATH": str(REPO),
    }
    got = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert got.returncode == 0, got.stderr
    assert got.stdout.split() == ["fonts-noto-cjk", "fonts-sil-annapurna"]
    # matplotlib read the stale list rather than building a new one
    assert json.loads(cache.read_text()) == before


def test_segment_charts_in_cjk_render(no_missing_glyph: None) -> None:
    title, _, options, *_ = LANGUAGES["ja"]
    panels = [replace(LIKERT, title=o) for o in options]
    assert render_segments(title, panels, "svg", subtitle=options[0])
