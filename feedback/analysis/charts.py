"""Trend charts as PNG or SVG bytes, drawn with matplotlib without pyplot.

Each chart is a fresh `matplotlib.figure.Figure` rendered by `savefig` into a buffer; nothing
touches pyplot's figure registry or the global rcParams (every style is set on the artist that
uses it), so concurrent requests in threads cannot interfere. At the default scale a chart is
800×450 px (8 × 4.5 in at 100 dpi); the SVG is 576 × 324 pt with text as paths, so it is crisp
at any size and looks the same whatever fonts the viewer has.

Text is drawn in DejaVu Sans, and what it has no glyphs for (Chinese, Japanese, Korean,
Devanagari) in the fallback fonts of `chart_fonts`, glyph by glyph, when they are installed;
widths are measured in the same fonts, so shortened labels fit whatever their script.

The input is a `ChartData` the service builds from results (`ChartPoint.from_estimate`), the
runs between series breaks, the decisions and the trend. A chart never raises on thin data: no
waves, one wave or only suppressed waves render with a message that says so.
"""

from __future__ import annotations

import io
import math
import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.textpath import text_to_path
from matplotlib.ticker import MaxNLocator, PercentFormatter, ScalarFormatter
from matplotlib.transforms import blended_transform_factory

from feedback.analysis.chart_fonts import families as font_families
from feedback.analysis.number_text import figure_text, p_text, share_text
from feedback.analysis.results import Metric, NoTrend, TrendTest, WaveEstimate

ChartFormat = Literal["png", "svg"]
# (option, colour) for the options drawn in colour, and the options grouped as "Other".
Colours = tuple[list[tuple[str, str]], list[str]]

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.5, 100

# Okabe & Ito (2008), "Color Universal Design": told apart under the common colour-vision
# deficiencies. Vermillion is kept for decisions and black for text, so options cycle through
# the other six; further options are grouped as "Other" in grey.
BLUE = "#0072B2"
VERMILLION = "#D55E00"
OPTION_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442")
OTHER_COLOUR = "#BBBBBB"
INK = "#1A1A1A"
MUTED = "#5F5F5F"
FAINT = "#8C8C8C"
GRID = "#E6E6E6"
SUPPRESSED_FILL = "#F3F3F3"
# A cell hidden to protect a small one is drawn apart from a small cell: its group is not small.
COMPLEMENTARY_FILL = "#EEF1F6"
COMPLEMENTARY_LABEL = "hidden to protect a small group"

# Vertical layout in figure fractions, top down: title, subtitle, key, decision labels, plot.
LEFT, RIGHT = 0.085, 0.95
TITLE_Y, SUBTITLE_Y, KEY_Y = 0.955, 0.885, 0.845
PLOT_BOTTOM, PLOT_TOP = 0.145, 0.8
DECISION_ROW = 0.034  # one row of decision labels
DECISION_BAND = 0.045  # the first row and the ▼ markers under it
DECISION_ROWS = 3
DECISION_PT = 8
FIT_DASHES = (0, (5, 2.5))
CHANGE_DOTS = (0, (1, 2.5))
LEGEND_WIDTH = 0.2  # right column for the option legend of share charts


@dataclass(frozen=True, slots=True)
class ChartPoint:
    """One wave on the chart. `shares` (option → share) is for choice questions; `complementary`
    marks a cell hidden so that a small one cannot be recovered, not for being small itself."""

    wave: int
    label: str
    n: int
    suppressed: bool
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    shares: Mapping[str, float] | None = None
    complementary: bool = False
    # The `other` panel: the values pooled in this wave; its line never joins two waves whose
    # values differ, since those are different groups.
    members: frozenset[str | None] | None = None

    @classmethod
    def from_estimate(cls, wave: int, label: str, estimate: WaveEstimate) -> ChartPoint:
        shares = None
        if estimate.options is not None:
            shares = {
                key: share.estimate
                for key, share in estimate.options.items()
                if share.estimate is not None
            }
        return cls(
            wave=wave,
            label=label,
            n=estimate.n,
            suppressed=estimate.suppressed,
            estimate=estimate.estimate,
            ci_low=estimate.ci_low,
            ci_high=estimate.ci_high,
            shares=shares,
            complementary=estimate.suppression == "complementary",
        )

    @property
    def shown(self) -> bool:
        return not self.suppressed and (self.estimate is not None or bool(self.shares))


@dataclass(frozen=True, slots=True)
class ChartBreak:
    """A series break before `wave`, the first wave of a run, answered under `version`.

    From `series.runs`: `ChartBreak(r.waves[0], r.version)` for each `r.starts_at_break`.
    """

    wave: int
    version: int


@dataclass(frozen=True, slots=True)
class ChartChange:
    """A version that changed the question without breaking its series (reworded, options
    relabelled, …), first answerable in `wave`; `kinds` as publishing names them."""

    wave: int
    version: int
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChartDecision:
    """A decision marked at `position` on the wave axis (see `decision_position`)."""

    position: float
    title: str


@dataclass(frozen=True, slots=True)
class ChartFit:
    """A fitted line of a decision's impact, from `start` to `end` (wave, value): the pre line
    or the post line of the interrupted time series. `option` colours it on a share chart."""

    start: tuple[float, float]
    end: tuple[float, float]
    option: str | None = None


@dataclass(frozen=True, slots=True)
class ChartData:
    """Everything one chart (or one panel of a segment chart) shows.

    `title` is the question, or in a segment chart the segment value. `y_label` says what the
    figure is ("Mean agreement, 1–5"). `y_bounds` are the values the metric can take (a scale's
    ends; NPS defaults to −100..100): the axis fits the data but never extends past them. For
    choice questions `option_labels` orders and names the options, and `multiple_choice` draws
    one line per option instead of stacked shares, which would not add up to 100 % when
    respondents may pick several. `fits` are a decision's fitted pre and post lines, dashed and
    keyed as `fit_label`; a single-choice chart with fits draws its shares as lines too, since
    a fitted share can only be read against the share's own line, not a stacked band.
    """

    title: str
    metric: Metric
    points: tuple[ChartPoint, ...]
    min_n: int
    breaks: tuple[ChartBreak, ...] = ()
    decisions: tuple[ChartDecision, ...] = ()
    trend: TrendTest | NoTrend | None = None
    changes: tuple[ChartChange, ...] = ()
    # The trend in plain words, shown instead of the test's figures (those are in the JSON and
    # the report, one click away).
    summary: str | None = None
    subtitle: str | None = None
    y_label: str | None = None
    y_bounds: tuple[float, float] | None = None
    option_labels: Mapping[str, str] | None = None
    multiple_choice: bool = False
    fits: tuple[ChartFit, ...] = ()
    fit_label: str | None = None
    share_lines: bool = False
    # A segment chart's `other` panel (small_groups=fold): small groups pooled, titled apart.
    pooled: bool = False

    @property
    def option_lines(self) -> bool:
        """Shares drawn as one line per option (rather than stacked bars)."""
        return self.multiple_choice or self.share_lines

    def __post_init__(self) -> None:
        points = tuple(sorted(self.points, key=lambda p: p.wave))
        if len({p.wave for p in points}) != len(points):
            raise ValueError("a chart has one point per wave")
        object.__setattr__(self, "points", points)


def decision_position(when: datetime, openings: Sequence[tuple[int, datetime]]) -> float | None:
    """Where a decision dated `when` sits on the wave axis, from the waves' opening instants.

    Between the openings of waves k and k + 1 it is interpolated linearly, so a decision on the
    day wave k + 1 opens sits on that wave (its first "post" wave). After the last opening it is
    drawn just right of the last wave; before the first, it is outside the chart (None).
    """
    ordered = sorted(openings)
    if not ordered or when < ordered[0][1]:
        return None
    for (wave, opened), (next_wave, next_opened) in pairwise(ordered):
        if when < next_opened:
            share = (when - opened).total_seconds() / (next_opened - opened).total_seconds()
            return wave + (next_wave - wave) * share
    last_wave, last_opened = ordered[-1]
    if len(ordered) == 1:
        return last_wave + 0.4
    step = (ordered[-1][1] - ordered[-2][1]).total_seconds()
    return last_wave + min(0.4, (when - last_opened).total_seconds() / step)


# ---------------------------------------------------------------------------------------------
# entry points


def chart(series: ChartData) -> Figure:
    """The trend chart for a mean or NPS metric, the share chart for a choice question."""
    return share_chart(series) if series.metric == "share" else trend_chart(series)


def render(figure: Figure, fmt: ChartFormat = "png", *, scale: float = 1.0) -> bytes:
    """PNG (800×450 px at scale 1; 2 for high-density screens) or SVG bytes."""
    _regional_faces(figure)
    buffer = io.BytesIO()
    # No creation date in the SVG. PNG output is byte-for-byte reproducible; SVG is up to the
    # element ids, which matplotlib salts randomly on every save unless rcParams say otherwise.
    metadata: dict[str, str | None] = {"Date": None} if fmt == "svg" else {}
    figure.savefig(buffer, format=fmt, dpi=DPI * scale, metadata=metadata)
    return buffer.getvalue()


def render_chart(series: ChartData, fmt: ChartFormat = "png", *, scale: float = 1.0) -> bytes:
    return render(chart(series), fmt, scale=scale)


def render_segments(
    title: str,
    panels: Sequence[ChartData],
    fmt: ChartFormat = "png",
    *,
    subtitle: str | None = None,
    scale: float = 1.0,
) -> bytes:
    return render(segment_chart(title, panels, subtitle=subtitle), fmt, scale=scale)


def trend_chart(series: ChartData) -> Figure:
    """Estimate per wave with its 95 % band, n under each wave, suppressed waves as labelled
    gaps, series breaks as labelled rules, decisions as labelled markers, and the trend verdict
    in the subtitle."""
    figure = _figure()
    _header(figure, series.title, _join(series.subtitle, _trend_text(series)))
    if not series.points:
        _empty(_plot(figure), "No waves in this range yet.")
        return figure
    ax, placed = _plot_with_decisions(figure, series, RIGHT)
    _style_axes(ax)
    _x_axis(ax, series.points, series.min_n, show_n=True)
    _suppressed_gaps(ax, series.points, series.min_n, labelled=True)
    _estimate_line(ax, series)
    _fits(ax, series, None)
    _y_axis(ax, [series])
    _breaks(ax, series.breaks, series.points)
    _changes(ax, series)
    _decisions(figure, ax, placed)
    _key(figure, _line_key(series.metric) + _marks_key(series))
    _all_suppressed_message(ax, series)
    return figure


def share_chart(series: ChartData) -> Figure:
    """Shares over waves: stacked to 100 % for single choice, one line per option for multiple
    choice; suppressed waves, breaks and decisions as on the trend chart."""
    figure = _figure()
    _header(figure, series.title, series.subtitle or _share_subtitle(series))
    if not series.points:
        _empty(_plot(figure), "No waves in this range yet.")
        return figure
    ax, placed = _plot_with_decisions(figure, series, RIGHT - LEGEND_WIDTH)
    _style_axes(ax)
    _x_axis(ax, series.points, series.min_n, show_n=True)
    _suppressed_gaps(ax, series.points, series.min_n, labelled=True)
    colours = _option_colours([series])
    _shares(ax, series, colours)
    _fits(ax, series, colours)
    handles = _shares_key(series, colours)
    _share_axis(ax, [series])
    _breaks(ax, series.breaks, series.points)
    _changes(ax, series)
    _decisions(figure, ax, placed)
    _key(figure, _marks_key(series))
    if handles:
        top = ax.get_position().y1
        figure.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(RIGHT - LEGEND_WIDTH + 0.035, top),
            frameon=False,
            prop={"family": font_families(), "size": 8.5},
            labelcolor=INK,
            handlelength=1.2,
            borderaxespad=0,
            borderpad=0,
            alignment="left",
        )
    _all_suppressed_message(ax, series)
    return figure


def segment_chart(
    title: str, panels: Sequence[ChartData], *, subtitle: str | None = None
) -> Figure:
    """Small multiples: one panel per segment value on a shared y axis, so levels compare.

    Each panel shows its estimates (or shares), suppressed cells as gaps, series breaks, and
    decisions as unlabelled rules; its header gives the latest n and, when significant, the
    trend's direction.
    """
    figure = _figure()
    _header(figure, title, subtitle)
    if not panels:
        _empty(_plot(figure), "No segments to show: nobody has this attribute in these waves.")
        return figure
    columns = 2 if len(panels) in (2, 4) else min(len(panels), 3)
    rows = math.ceil(len(panels) / columns)
    grid = figure.add_gridspec(
        rows,
        columns,
        left=LEFT,
        right=RIGHT + 0.03,
        top=PLOT_TOP - 0.05,
        bottom=PLOT_BOTTOM - 0.05,
        hspace=0.45 if rows > 1 else 0,
        wspace=0.08,
    )
    colours = _option_colours(panels)  # one colour per option across every panel
    axes: list[Axes] = []
    for i, panel in enumerate(panels):
        ax = figure.add_subplot(grid[i // columns, i % columns], sharey=axes[0] if axes else None)
        axes.append(ax)
        _style_axes(ax, small=True)
        last_in_column = i + columns >= len(panels)
        _segment_panel(ax, panel, colours, x_labels=last_in_column)
        if i % columns:
            ax.tick_params(labelleft=False)
    first = panels[0]
    if first.metric == "share":
        _share_axis(axes[0], panels)
        handles = _shares_key(first, colours)
    else:
        _y_axis(axes[0], panels, small=True)
        handles = _line_key(first.metric)
    _key(figure, handles + _marks_key(*panels, labelled_decisions=False))
    return figure


# ---------------------------------------------------------------------------------------------
# figure, header, key, messages


def _figure() -> Figure:
    return Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor="white")


def _plot(figure: Figure, right: float = RIGHT, top: float = PLOT_TOP) -> Axes:
    return figure.add_axes((LEFT, PLOT_BOTTOM, right - LEFT, top - PLOT_BOTTOM))


def _regional_faces(figure: Figure) -> None:
    """The chart's text in the fallback faces its language calls for: the same Chinese
    character is drawn a little differently in Japan or Korea. Decided from all the chart's
    text together, so one chart uses one set of forms; Latin text is not affected."""
    drawn = [t for t in figure.findobj(Text) if t.get_text()]
    default = font_families()
    chosen = font_families(" ".join(t.get_text() for t in drawn))
    if chosen == default:
        return
    for text in drawn:
        if text.get_fontfamily() == default:
            text.set_fontfamily(chosen)


def _plain(text: str) -> str:
    """User text as literal text: a `$` would otherwise start matplotlib mathtext."""
    return text.replace("$", r"\$")


def _shorten(text: str, width: int) -> str:
    """The text in at most `width` columns, cut at a word with "…" if longer. A Chinese,
    Japanese or Korean character takes two columns, as wide as two Latin letters or so."""
    text = " ".join(text.split())
    if _columns(text) != len(text):
        return _shorten_wide(text, width)
    short = textwrap.shorten(text, width=width, placeholder="…")
    # A first word longer than the width leaves only the placeholder: a label written without
    # spaces (a compound word, a value joined by underscores, Chinese) is cut within the word.
    if short == "…" and text:
        return _cut(text, width - 1) + "…"
    return short


def _cut(text: str, length: int) -> str:
    """The text's first `length` characters, fewer (or, from the very first, more) rather than
    split a letter from its marks (an accent typed apart, a Devanagari vowel sign or half-form)."""
    back = length
    while 0 < back < len(text) and _joined(text, back):
        back -= 1
    if back > 0:
        return text[:back]
    while length < len(text) and _joined(text, length):
        length += 1
    return text[:length]


def _joined(text: str, i: int) -> bool:
    """Whether text[i] belongs to the letter before it."""
    mark = unicodedata.combining(text[i]) > 0 or unicodedata.category(text[i]) == "Mc"
    return mark or unicodedata.combining(text[i - 1]) == 9  # a virama joins the next letter


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _shorten_wide(text: str, width: int) -> str:
    """`_shorten` for text with wide characters: cut after the last character that fits, or at
    a space in its second half (Korean spaces its words; Chinese and Japanese do not)."""
    if _columns(text) <= width:
        return text
    used = 0
    for cut, char in enumerate(text):
        used += _columns(char)
        if used > width - 1:  # room for the "…"
            head = _cut(text, cut)
            cut = len(head)
            space = head.rfind(" ")
            if space > cut // 2:
                head = head[:space]
            return head.rstrip() + "…"
    return text


def _join(*parts: str | None) -> str | None:
    return " · ".join(p for p in parts if p) or None


def _header(figure: Figure, title: str, subtitle: str | None) -> None:
    room = (1 - 2 * 0.02) * WIDTH_IN * DPI
    size = 13.5 if _text_px(title, 13.5, bold=True) <= room else 12.0
    figure.text(
        0.02,
        TITLE_Y,
        _plain(_fit(title, size, room, bold=True)),
        ha="left",
        va="top",
        fontsize=size,
        fontweight="bold",
        color=INK,
        family=font_families(),
    )
    if subtitle:
        figure.text(
            0.02,
            SUBTITLE_Y,
            _plain(_fit(subtitle, 9.5, room)),
            ha="left",
            va="top",
            fontsize=9.5,
            color=MUTED,
            family=font_families(),
        )


def _key(figure: Figure, handles: list[Patch | Line2D]) -> None:
    if not handles:
        return
    figure.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.02, KEY_Y),
        frameon=False,
        ncols=len(handles),
        prop={"family": font_families(), "size": 8},
        labelcolor=MUTED,
        handlelength=1.8,
        handletextpad=0.5,
        columnspacing=1.4,
        borderaxespad=0,
        borderpad=0,
    )


def _line_key(metric: Metric) -> list[Patch | Line2D]:
    name = {"mean": "mean", "nps": "NPS", "share": "share"}[metric]
    return [
        Line2D(
            [],
            [],
            color=BLUE,
            linewidth=2,
            marker="o",
            markersize=5,
            markeredgecolor="white",
            label=name,
        ),
        Patch(facecolor=BLUE, alpha=0.18, label="95% confidence interval"),
    ]


def _marks_key(*panels: ChartData, labelled_decisions: bool = True) -> list[Patch | Line2D]:
    handles: list[Patch | Line2D] = []
    hidden = [p for panel in panels for p in panel.points if not p.shown]
    if any(not p.complementary for p in hidden):
        handles.append(
            Patch(
                facecolor=SUPPRESSED_FILL,
                edgecolor="#C8C8C8",
                hatch="////",
                linewidth=0,
                label=f"suppressed (n<{panels[0].min_n})",
            )
        )
    if any(p.complementary for p in hidden):
        handles.append(
            Patch(
                facecolor=COMPLEMENTARY_FILL,
                edgecolor="#B9C3D3",
                hatch="....",
                linewidth=0,
                label=COMPLEMENTARY_LABEL,
            )
        )
    if any(_drawn_breaks(panel.breaks, panel.points) for panel in panels):
        handles.append(
            Line2D([], [], color=INK, linewidth=0.9, linestyle=(0, (4, 3)), label="series break")
        )
    if any(_drawn_changes(panel) for panel in panels):
        handles.append(
            Line2D(
                [],
                [],
                color=MUTED,
                linewidth=0.9,
                linestyle=CHANGE_DOTS,
                label="question changed",
            )
        )
    fitted = next((panel for panel in panels if panel.fits), None)
    if fitted is not None and fitted.fit_label:
        handles.append(
            Line2D(
                [],
                [],
                color=INK if fitted.metric == "share" else VERMILLION,
                linewidth=1.6,
                linestyle=FIT_DASHES,
                label=_plain(_shorten(fitted.fit_label, 44)),
            )
        )
    if any(panel.decisions for panel in panels):
        handles.append(
            Line2D(
                [],
                [],
                color=VERMILLION,
                linewidth=1.1,
                linestyle=(0, (1, 2)),
                marker="v" if labelled_decisions else "",
                markersize=6,
                label="decision",
            )
        )
    return handles


def _empty(ax: Axes, message: str) -> None:
    ax.set_axis_off()
    ax.text(
        0.5,
        0.5,
        _plain(message),
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=11,
        color=MUTED,
        family=font_families(),
    )


def _all_suppressed_message(ax: Axes, series: ChartData) -> None:
    if any(p.shown for p in series.points):
        return
    ax.set_yticks([])  # an axis with nothing on it would only suggest a scale
    ax.text(
        0.5,
        0.5,
        f"Every wave has fewer than {series.min_n} answers, so no figures\n"
        "are shown: that protects the respondents' anonymity.",
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=10,
        linespacing=1.5,
        color=INK,
        family=font_families(),
        bbox={"boxstyle": "round,pad=0.7", "facecolor": "white", "edgecolor": GRID},
        zorder=10,
    )


def _trend_text(series: ChartData) -> str | None:
    trend = series.trend
    if series.summary is not None:
        return series.summary
    if isinstance(trend, TrendTest):
        slope = _format_number(trend.slope, series.metric, signed=True)
        return (
            f"Mann–Kendall: {trend.direction}, {p_text(trend.p)}, "
            f"Sen slope {slope}/wave ({trend.waves} waves)"
        )
    if isinstance(trend, NoTrend):
        return f"No trend test: {trend.reason}"
    if sum(p.shown for p in series.points) == 1:
        return "One wave so far: changes and trends need more waves"
    return None


def _share_subtitle(series: ChartData) -> str:
    if series.multiple_choice:
        return "Share of respondents choosing each option (several could be chosen)"
    return "Share of respondents choosing each option"


def _format_number(value: float, metric: Metric, *, signed: bool = False) -> str:
    if metric == "share":
        return figure_text(value, metric, signed=True) + " pts" if signed else share_text(value)
    return figure_text(value, metric, signed=signed)


# ---------------------------------------------------------------------------------------------
# axes


def _x_range(points: Sequence[ChartPoint]) -> tuple[float, float]:
    return points[0].wave - 0.6, points[-1].wave + 0.6


def _axes_px(ax: Axes) -> float:
    return float(ax.get_position().width) * WIDTH_IN * DPI


def _text_px(text: str, size: float, *, bold: bool = False) -> float:
    """Rendered width of one line of text in pixels, from the font's metrics (no renderer)."""
    font = FontProperties(
        family=font_families(text), size=size, weight="bold" if bold else "normal"
    )
    width, _, _ = text_to_path.get_text_width_height_descent(text, font, ismath=False)
    return float(width) * DPI / 72


def _fit(text: str, size: float, max_px: float, *, bold: bool = False) -> str:
    """The text, shortened at a word with an ellipsis if it would be wider than max_px."""
    text = " ".join(text.split())
    if _text_px(text, size, bold=bold) <= max_px:
        return text
    low, high = 1, _columns(text)  # the longest `shorten` width that fits lies in [low, high)
    while high - low > 1:
        middle = (low + high) // 2
        if _text_px(_shorten(text, middle), size, bold=bold) <= max_px:
            low = middle
        else:
            high = middle
    return _shorten(text, low)


def _style_axes(ax: Axes, *, small: bool = False) -> None:
    ax.set_facecolor("white")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(FAINT)
    ax.spines["bottom"].set_linewidth(0.8)
    ax.tick_params(axis="both", labelsize=7.5 if small else 8.5, colors=MUTED, length=0, pad=4)
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)


def _x_axis(ax: Axes, points: Sequence[ChartPoint], min_n: int, *, show_n: bool) -> None:
    """Wave labels (and n) under the waves: a point smaller when they would not fit side by
    side, then thinned from the newest wave back."""
    low, high = _x_range(points)
    ax.set_xlim(low, high)
    texts = [_shorten(p.label, 12) for p in points]
    wave_px = _axes_px(ax) / (high - low)
    base = float(ax.xaxis.get_majorticklabels()[0].get_fontsize())
    for size in (base, base - 1):
        widest = max(
            _text_px(t, size) for t in texts + ([f"n={p.n:,}" for p in points] if show_n else [])
        )
        if widest + 4 <= wave_px:
            break
    every = max(1, math.ceil((widest + 4) / wave_px))
    last = len(points) - 1
    ticks = [i for i in range(len(points)) if (last - i) % every == 0]
    ax.set_xticks([points[i].wave for i in ticks])
    ax.set_xticklabels(
        [_plain(texts[i]) + (f"\nn={points[i].n:,}" if show_n else "") for i in ticks],
        family=font_families(),
        fontsize=size,
        linespacing=1.45,
    )
    for label, i in zip(ax.get_xticklabels(), ticks, strict=True):
        if points[i].n < min_n:
            label.set_color(FAINT)


def _y_axis(ax: Axes, panels: Sequence[ChartData], *, small: bool = False) -> None:
    """Fit the estimates and their intervals, padded, within the metric's possible values."""
    first = panels[0]
    bounds = first.y_bounds or ((-100.0, 100.0) if first.metric == "nps" else None)
    values = [
        v
        for panel in panels
        for p in panel.points
        if p.shown
        for v in (p.estimate, p.ci_low, p.ci_high)
        if v is not None
    ]
    if values:
        low, high = min(values), max(values)
        pad = max(high - low, 0.1 * max(abs(low), abs(high), 1.0)) * 0.12
        low, high = low - pad, high + pad
        if bounds is not None:
            low, high = max(low, bounds[0]), min(high, bounds[1])
        ax.set_ylim(low, high)
    elif bounds is not None:
        ax.set_ylim(*bounds)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4 if small else 5, steps=[1, 2, 2.5, 5, 10]))
    formatter = ScalarFormatter(useOffset=False)
    formatter.set_scientific(False)
    ax.yaxis.set_major_formatter(formatter)
    lo, hi = ax.get_ylim()
    if first.metric == "nps" and lo < 0 < hi:
        ax.axhline(0, color=FAINT, linewidth=0.9, zorder=1)
    if first.y_label:
        ax.set_ylabel(
            _plain(first.y_label), fontsize=8.5 if small else 9, color=MUTED, family=font_families()
        )


def _share_axis(ax: Axes, panels: Sequence[ChartData]) -> None:
    if panels[0].option_lines:
        top = max(
            (v for panel in panels for p in panel.points if p.shares for v in p.shares.values()),
            default=1.0,
        )
        ax.set_ylim(0, min(1.0, max(0.2, math.ceil(top * 11) / 10)))
    else:
        ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))


# ---------------------------------------------------------------------------------------------
# marks


@dataclass(frozen=True, slots=True)
class _Mark:
    x: float
    y: float
    low: float | None
    high: float | None


def _stretches(series: ChartData) -> list[list[ChartPoint]]:
    """Stretches of consecutive shown waves: a line never bridges a suppressed wave, a series
    break or (in the `other` panel) a change of the values pooled."""
    break_waves = {b.wave for b in series.breaks}
    stretches: list[list[ChartPoint]] = []
    previous: ChartPoint | None = None
    for point in series.points:
        if point.shown:
            if (
                previous is None
                or not previous.shown
                or point.wave in break_waves
                or previous.members != point.members
            ):
                stretches.append([])
            stretches[-1].append(point)
        previous = point
    return stretches


def _estimate_line(ax: Axes, series: ChartData, *, small: bool = False) -> None:
    last: _Mark | None = None
    for stretch in _stretches(series):
        marks = [
            _Mark(p.wave, p.estimate, p.ci_low, p.ci_high)
            for p in stretch
            if p.estimate is not None
        ]
        if not marks:
            continue
        last = marks[-1]
        lows = [m.low for m in marks if m.low is not None]
        highs = [m.high for m in marks if m.high is not None]
        if len(marks) > 1 and len(lows) == len(highs) == len(marks):
            ax.fill_between(
                [m.x for m in marks], lows, highs, color=BLUE, alpha=0.18, linewidth=0, zorder=2
            )
        else:
            for m in marks:
                if m.low is not None and m.high is not None:
                    ax.vlines(m.x, m.low, m.high, color=BLUE, alpha=0.35, linewidth=5, zorder=2)
        ax.plot(
            [m.x for m in marks],
            [m.y for m in marks],
            color=BLUE,
            linewidth=1.6 if small else 2.2,
            marker="o",
            markersize=3.5 if small else 5.5,
            markeredgecolor="white",
            markeredgewidth=0.8,
            zorder=4,
        )
    if last is not None and not small:
        ax.annotate(
            _format_number(last.y, series.metric),
            (last.x, last.y),
            xytext=(7, 0),
            textcoords="offset points",
            va="center",
            ha="left",
            fontsize=9,
            fontweight="bold",
            color=BLUE,
            family=font_families(),
            zorder=5,
        )


def _fits(ax: Axes, series: ChartData, colours: Colours | None, *, small: bool = False) -> None:
    """The fitted pre and post lines, dashed over a white casing so they stay legible over the
    estimates: vermillion (the decision's colour) for a mean or NPS, the option's colour for a
    share (grey for an option grouped as Other)."""
    named = dict(colours[0]) if colours else {}
    for fit in series.fits:
        colour = VERMILLION if fit.option is None else named.get(fit.option, OTHER_COLOUR)
        xs, ys = (fit.start[0], fit.end[0]), (fit.start[1], fit.end[1])
        width = 1.3 if small else 1.8
        ax.plot(xs, ys, color="white", linewidth=width + 2, solid_capstyle="round", zorder=5)
        ax.plot(xs, ys, color=colour, linewidth=width, linestyle=FIT_DASHES, zorder=6)


def _suppressed_gaps(ax: Axes, points: Sequence[ChartPoint], min_n: int, *, labelled: bool) -> None:
    for point in points:
        if point.shown:
            continue
        fill = COMPLEMENTARY_FILL if point.complementary else SUPPRESSED_FILL
        ax.axvspan(
            point.wave - 0.36,
            point.wave + 0.36,
            facecolor=fill,
            edgecolor="#C5CDDA" if point.complementary else "#D2D2D2",
            hatch="...." if point.complementary else "////",
            linewidth=0,
            zorder=0,
        )
        if labelled:
            if point.complementary:
                text = f"n={point.n}: {COMPLEMENTARY_LABEL}"
            else:
                text = f"n<{min_n}: suppressed" if point.n > 0 else "no answers"
            ax.text(
                point.wave,
                0.5,
                text,
                transform=ax.get_xaxis_transform(),
                rotation=90,
                ha="center",
                va="center",
                fontsize=7.5,
                color=MUTED,
                family=font_families(),
                bbox={"boxstyle": "square,pad=0.3", "facecolor": fill, "linewidth": 0},
                zorder=1,
            )


def _drawn_breaks(
    breaks: Sequence[ChartBreak], points: Sequence[ChartPoint]
) -> list[tuple[float, int]]:
    """(x, version) of each break inside the chart: midway between the waves it separates."""
    waves = [p.wave for p in points]
    return [
        ((max(w for w in waves if w < b.wave) + b.wave) / 2, b.version)
        for b in breaks
        if waves and waves[0] < b.wave <= waves[-1]
    ]


def _breaks(
    ax: Axes, breaks: Sequence[ChartBreak], points: Sequence[ChartPoint], *, small: bool = False
) -> None:
    """Dashed rules labelled with the new version, upright on the rule: a rule sits midway
    between two waves, in the gap between their bars, so an upright label covers no bar."""
    for x, version in _drawn_breaks(breaks, points):
        ax.axvline(x, color=INK, linewidth=0.9, linestyle=(0, (4, 3)), zorder=3)
        _rule_label(ax, x, f"v{version}" + ("" if small else " · new series"), INK, small=small)


def _drawn_changes(series: ChartData) -> list[tuple[float, ChartChange]]:
    """(x, change) of each non-breaking change inside the chart, midway before its wave; a
    change at a drawn break is said by the break."""
    waves = [p.wave for p in series.points]
    broken = {b.wave for b in series.breaks}
    return [
        ((max(w for w in waves if w < c.wave) + c.wave) / 2, c)
        for c in series.changes
        if waves and waves[0] < c.wave <= waves[-1] and c.wave not in broken
    ]


def _changes(ax: Axes, series: ChartData, *, small: bool = False) -> None:
    """Dotted rules, lighter than a break's, where a version changed the question without
    breaking its series (the +0.4 that coincides with a rewording should be seen as such)."""
    for x, change in _drawn_changes(series):
        ax.axvline(x, color=MUTED, linewidth=0.9, linestyle=CHANGE_DOTS, zorder=3)
        kinds = ", ".join(k.replace("_", " ") for k in change.kinds)
        _rule_label(
            ax, x, f"v{change.version}" + ("" if small else f" · {kinds}"), MUTED, small=small
        )


def _rule_label(ax: Axes, x: float, text: str, colour: str, *, small: bool) -> None:
    ax.text(
        x,
        0.98,
        text,
        transform=ax.get_xaxis_transform(),
        rotation=90,
        ha="center",
        va="top",
        fontsize=6.5 if small else 7.5,
        color=colour,
        family=font_families(),
        bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "linewidth": 0},
        zorder=5,
    )


@dataclass(frozen=True, slots=True)
class _Placed:
    x: float
    title: str
    row: int
    leftward: bool


def _place_decisions(
    decisions: Sequence[ChartDecision], x_range: tuple[float, float], axes_px: float
) -> list[_Placed]:
    """Rows for the decision titles above the plot: each goes right of its marker (left near the
    right edge) on the first of three rows where it overlaps no other title."""
    low, high = x_range
    data_per_px = (high - low) / axes_px
    rows: list[list[tuple[float, float]]] = [[] for _ in range(DECISION_ROWS)]
    placed: list[_Placed] = []
    for i, decision in enumerate(sorted(decisions, key=lambda d: d.position)):
        if not low <= decision.position <= high:
            continue
        title = _shorten(decision.title, 40)
        width = (_text_px(title, DECISION_PT) + 8) * data_per_px
        # Past the right edge of the plot the title would run into the margin: flip it left.
        leftward = decision.position + width > high + 0.05 * (high - low)
        start = decision.position - width if leftward else decision.position
        row = next(
            (
                r
                for r, taken in enumerate(rows)
                if all(start + width < a or start > b for a, b in taken)
            ),
            i % DECISION_ROWS,
        )
        rows[row].append((start, start + width))
        placed.append(_Placed(decision.position, title, row, leftward))
    return placed


def _plot_with_decisions(
    figure: Figure, series: ChartData, right: float
) -> tuple[Axes, list[_Placed]]:
    """The plot axes, lowered to make room for the rows of decision titles above it."""
    axes_px = (right - LEFT) * WIDTH_IN * DPI
    placed = _place_decisions(series.decisions, _x_range(series.points), axes_px)
    rows = 1 + max((p.row for p in placed), default=-1)
    top = PLOT_TOP - (DECISION_BAND + DECISION_ROW * (rows - 1) if rows else 0)
    return _plot(figure, right, top), placed


def _decisions(figure: Figure, ax: Axes, placed: Sequence[_Placed]) -> None:
    """A dotted rule through the plot, a ▼ on its top edge and the title above it."""
    text_transform = blended_transform_factory(ax.transData, figure.transFigure)
    top = ax.get_position().y1
    for decision in placed:
        ax.axvline(decision.x, color=VERMILLION, linewidth=1.1, linestyle=(0, (1, 2)), zorder=3)
        ax.plot(
            decision.x,
            1.0,
            marker="v",
            markersize=6.5,
            color=VERMILLION,
            transform=ax.get_xaxis_transform(),
            clip_on=False,
            zorder=6,
        )
        ax.text(
            decision.x,
            top + 0.02 + DECISION_ROW * decision.row,
            _plain(decision.title),
            transform=text_transform,
            ha="right" if decision.leftward else "left",
            va="bottom",
            fontsize=DECISION_PT,
            color=VERMILLION,
            family=font_families(),
            clip_on=False,
        )


def _option_order(panels: Sequence[ChartData]) -> list[str]:
    """Listed options first, in their order; then any others by their total share."""
    seen: dict[str, float] = {}
    for panel in panels:
        for point in panel.points:
            for key, value in (point.shares or {}).items():
                seen[key] = seen.get(key, 0.0) + value
    listed = [k for k in (panels[0].option_labels or {}) if k in seen]
    return listed + sorted((k for k in seen if k not in listed), key=lambda k: -seen[k])


def _option_colours(panels: Sequence[ChartData]) -> Colours:
    """(option, colour) for the first six options; the rest are grouped as Other."""
    keys = _option_order(panels)
    named = list(zip(keys, OPTION_COLOURS, strict=False))
    return named, keys[len(named) :]


def _option_label(series: ChartData, key: str) -> str:
    return _plain(_shorten((series.option_labels or {}).get(key, key), 24))


def _shares_key(series: ChartData, colours: Colours) -> list[Patch | Line2D]:
    """Legend handles: top-down as the stack reads, or in option order for lines."""
    named, rest = colours
    if series.option_lines:
        lines: list[Patch | Line2D] = [
            Line2D(
                [],
                [],
                color=c,
                linewidth=2,
                marker="o",
                markersize=4.5,
                label=_option_label(series, k),
            )
            for k, c in named
        ]
        if rest:
            lines.append(
                Line2D(
                    [], [], color=OTHER_COLOUR, linewidth=1.2, label=f"Other options ({len(rest)})"
                )
            )
        return lines
    patches: list[Patch | Line2D] = [
        Patch(facecolor=c, label=_option_label(series, k)) for k, c in named
    ]
    if rest:
        patches.append(Patch(facecolor=OTHER_COLOUR, label=f"Other ({len(rest)})"))
    return patches[::-1]


def _shares(ax: Axes, series: ChartData, colours: Colours, *, small: bool = False) -> None:
    """Single choice: bars stacked to 100 % in the options' colours, the rest as one grey
    "Other" band. Multiple choice: a line per option, the rest as thin grey lines."""
    named, rest = colours
    if series.option_lines:
        styled = [(k, c, 1.4 if small else 2.0, True) for k, c in named]
        styled += [(k, OTHER_COLOUR, 1.0, False) for k in rest]
        for key, colour, width, marked in styled:
            for stretch in _stretches(series):
                ax.plot(
                    [p.wave for p in stretch],
                    [(p.shares or {}).get(key, 0.0) for p in stretch],
                    color=colour,
                    linewidth=width,
                    marker="o" if marked else "",
                    markersize=3 if small else 4.5,
                    markeredgecolor="white",
                    markeredgewidth=0.6,
                    zorder=4 if marked else 3,
                )
        return
    shown = [p for p in series.points if p.shown and p.shares is not None]
    xs = [p.wave for p in shown]
    bands = [(c, [(p.shares or {}).get(k, 0.0) for p in shown]) for k, c in named]
    if rest:
        bands.append(
            (OTHER_COLOUR, [sum((p.shares or {}).get(k, 0.0) for k in rest) for p in shown])
        )
    bar_px = 0.72 * _axes_px(ax) / (ax.get_xlim()[1] - ax.get_xlim()[0])
    base = [0.0] * len(shown)
    for colour, heights in bands:
        ax.bar(
            xs,
            heights,
            bottom=base,
            width=0.72,
            color=colour,
            edgecolor="white",
            linewidth=0.6,
            zorder=3,
        )
        for x, b, h in zip(xs, base, heights, strict=True):
            if not small and h >= 0.07 and bar_px >= 26:
                ax.text(
                    x,
                    b + h / 2,
                    f"{h * 100:.0f}%",
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color=_text_on(colour),
                    family=font_families(),
                    zorder=4,
                )
        base = [b + h for b, h in zip(base, heights, strict=True)]


def _text_on(colour: str) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return INK if 0.299 * red + 0.587 * green + 0.114 * blue > 140 else "white"


def _segment_panel(
    ax: Axes,
    panel: ChartData,
    colours: Colours,
    *,
    x_labels: bool,
) -> None:
    ax.set_title(
        _plain(_shorten(panel.title, 30)),
        loc="left",
        fontsize=9.5,
        fontweight="normal" if panel.pooled else "bold",
        fontstyle="italic" if panel.pooled else "normal",
        color=MUTED if panel.pooled else INK,
        family=font_families(),
        pad=5,
    )
    if panel.pooled:
        ax.set_facecolor(COMPLEMENTARY_FILL)
    ax.set_title(
        _panel_note(panel), loc="right", fontsize=7.5, color=MUTED, family=font_families(), pad=5
    )
    if not panel.points:
        _empty(ax, "no waves")
        return
    _x_axis(ax, panel.points, panel.min_n, show_n=False)
    if not x_labels:
        ax.tick_params(labelbottom=False)
    _suppressed_gaps(ax, panel.points, panel.min_n, labelled=False)
    if panel.metric == "share":
        _shares(ax, panel, colours, small=True)
    else:
        _estimate_line(ax, panel, small=True)
    _fits(ax, panel, colours, small=True)
    _breaks(ax, panel.breaks, panel.points, small=True)
    _changes(ax, panel, small=True)
    low, high = ax.get_xlim()
    for decision in panel.decisions:
        if low <= decision.position <= high:
            ax.axvline(decision.position, color=VERMILLION, linewidth=1, linestyle=(0, (1, 2)))
    if not any(p.shown for p in panel.points):
        ax.text(
            0.5,
            0.5,
            f"every wave n<{panel.min_n}",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=8,
            color=MUTED,
            family=font_families(),
        )


def _panel_note(panel: ChartData) -> str:
    """The latest wave's n, and the trend when it is significant (an arrow and p)."""
    note = f"latest n={panel.points[-1].n:,}" if panel.points else ""
    trend = panel.trend
    if isinstance(trend, TrendTest) and trend.direction != "no trend":
        arrow = "↗" if trend.direction == "increasing" else "↘"
        note = _join(note, f"{arrow} {p_text(trend.p)}") or ""
    return note
