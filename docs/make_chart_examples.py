"""Render the example charts in docs/ from synthetic but realistic survey counts.

Run from the repository root: `PYTHONPATH=. python docs/make_chart_examples.py` (or without
PYTHONPATH once the package is installed). The counts go through the real pipeline
(estimates, runs between series breaks, change and trend tests), so the pictures show what the
service will draw.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from feedback.analysis.charts import (
    ChartBreak,
    ChartData,
    ChartDecision,
    ChartPoint,
    render_chart,
    render_segments,
)
from feedback.analysis.estimates import choice_estimate, scale_estimate
from feedback.analysis.results import WaveEstimate
from feedback.analysis.series import runs
from feedback.analysis.sufficient import OptionCounts, ScaleCounts
from feedback.analysis.suppression import suppressed_cells
from feedback.analysis.trend import mann_kendall

DOCS = Path(__file__).resolve().parent
MIN_N = 5
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]


def likert_counts(rng: np.random.Generator, n: int, lean: float) -> ScaleCounts:
    """n answers on 1..5 whose mean moves with `lean` (a shift on a latent normal)."""
    latent = rng.normal(lean, 1.0, size=n)
    answers = np.clip(np.round(latent + 3), 1, 5).astype(int)
    return ScaleCounts(np.arange(1, 6), np.bincount(answers, minlength=6)[1:])


VERSIONS = [1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3]  # v3 declared a series break (reworded scale)


def trust_series(title: str, estimates: list[WaveEstimate]) -> ChartData:
    """A chart series from per-wave estimates: runs, breaks and the last run's trend."""
    waves = list(range(1, len(estimates) + 1))
    parts = runs(list(zip(waves, VERSIONS, strict=True)), breaks={3})
    shown = [(w, e.estimate) for w, e in zip(waves, estimates, strict=True) if w in parts[-1].waves]
    points = [(w, v) for w, v in shown if v is not None]
    return ChartData(
        title=title,
        metric="mean",
        points=tuple(
            ChartPoint.from_estimate(w, MONTHS[w - 1], e)
            for w, e in zip(waves, estimates, strict=True)
        ),
        min_n=MIN_N,
        breaks=tuple(ChartBreak(s.waves[0], s.version) for s in parts if s.starts_at_break),
        trend=mann_kendall([w for w, _ in points], [v for _, v in points]),
        y_label="Mean agreement (1–5)",
        y_bounds=(1, 5),
    )


def likert_example(rng: np.random.Generator) -> bytes:
    sizes = [212, 198, 240, 187, 3, 205, 231, 264, 249, 277, 258, 281]
    leans = [-0.2, -0.25, -0.15, -0.2, 0, -0.1, -0.05, 0.0, 0.08, 0.15, 0.22, 0.3]
    estimates = [
        scale_estimate(likert_counts(rng, n, lean), min_n=MIN_N)
        for n, lean in zip(sizes, leans, strict=True)
    ]
    series = replace(
        trust_series("I trust the organisation to act on my views", estimates),
        decisions=(
            ChartDecision(6.4, "Published campaign priorities"),
            ChartDecision(9.5, "Opened supporter assemblies"),
        ),
    )
    return render_chart(series)


def choice_example(rng: np.random.Generator) -> bytes:
    options = ("climate", "cost_of_living", "housing", "health", "democracy")
    labels = {
        "climate": "Climate",
        "cost_of_living": "Cost of living",
        "housing": "Housing",
        "health": "Health",
        "democracy": "Democracy",
    }
    sizes = [180, 210, 195, 4, 230, 244, 238, 251, 266, 259]
    points = []
    for wave, n in enumerate(sizes, start=1):
        drift = (wave - 1) / 9
        p = np.array([0.34 - 0.1 * drift, 0.22 + 0.12 * drift, 0.18, 0.14, 0.12 - 0.02 * drift])
        counts = rng.multinomial(n, p / p.sum())
        estimate = choice_estimate(OptionCounts(options, counts, n), min_n=MIN_N)
        points.append(ChartPoint.from_estimate(wave, MONTHS[wave - 1], estimate))
    series = ChartData(
        title="Which issue matters most to you?",
        metric="share",
        points=tuple(points),
        min_n=MIN_N,
        decisions=(ChartDecision(7.3, "Launched cost-of-living campaign"),),
        option_labels=labels,
    )
    return render_chart(series)


def segments_example(rng: np.random.Generator) -> bytes:
    leans = [-0.2, -0.25, -0.15, -0.2, -0.1, -0.1, -0.05, 0.0, 0.08, 0.15, 0.22, 0.3]
    countries = {
        "United Kingdom": (220, 0.1),
        "Netherlands": (75, -0.15),
        "Germany": (26, 0.0),
        "Not recorded": (6, -0.3),
    }
    cells = {
        name: [likert_counts(rng, int(rng.poisson(size)), lean + offset) for lean in leans]
        for name, (size, offset) in countries.items()
    }
    estimates: dict[str, list[WaveEstimate]] = {name: [] for name in countries}
    for wave in range(len(leans)):
        ns = {name: cells[name][wave].n for name in countries}
        # the total wave is shown, so small cells also hide the next smallest (ANALYSIS.md)
        hidden = suppressed_cells(sum(ns.values()), ns, MIN_N)
        for name in countries:
            estimate = scale_estimate(cells[name][wave], min_n=MIN_N)
            why = hidden.get(name)
            estimates[name].append(estimate if why is None else estimate.as_suppressed(why))
    decisions = (ChartDecision(6.4, "Published campaign priorities"),)
    panels = [
        replace(trust_series(name, estimates[name]), decisions=decisions) for name in countries
    ]
    return render_segments(
        "I trust the organisation to act on my views, by country",
        panels,
        subtitle="Mean agreement (1–5) with its 95% confidence interval; one panel per country",
    )


def main() -> None:
    rng = np.random.default_rng(2025)
    (DOCS / "chart-likert.png").write_bytes(likert_example(rng))
    (DOCS / "chart-choice.png").write_bytes(choice_example(rng))
    (DOCS / "chart-segments.png").write_bytes(segments_example(rng))


if __name__ == "__main__":
    main()
