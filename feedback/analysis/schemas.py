"""Wire types of the analysis answers that have a typed model (so /schema shows their fields)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from feedback.analysis.impact import Verdict
from feedback.analysis.results import Metric


class ImpactChangeRead(BaseModel):
    """A change estimated by the interrupted time series: β2 (level) or β3 (slope, per wave).
    `t`, `p` and the interval are null when the fit is exact (no residual variance)."""

    estimate: float
    se: float
    t: float | None
    p: float | None = Field(description="Two-sided, t distribution with n − 4 df.")
    ci_low: float | None
    ci_high: float | None


class ImpactRead(BaseModel):
    """ANALYSIS.md "Decision impact" over one series run of closed, non-suppressed waves."""

    pre_waves: int = Field(description="Waves before the decision in the fitted run.")
    post_waves: int = Field(description="Waves opening at or after the decision in the run.")
    waves: list[int] = Field(description="The wave numbers fitted (one series run).")
    series: int | None = Field(description="The series run fitted (index as in `trends`).")
    first_post_wave: int | None
    level_change: ImpactChangeRead | None
    slope_change: ImpactChangeRead | None
    intercept: float | None = Field(description="β0: the pre line at the first fitted wave.")
    pre_slope: float | None = Field(description="β1: the pre line's change per wave.")
    df: int | None = Field(description="Residual degrees of freedom, n − 4.")
    verdict: Verdict | None = Field(
        description="`insufficient data` (see `reason`), `no significant change`, or which of "
        "level and slope changed significantly (p < 0.05) and how, level first. Null only at "
        "the question level of a share metric, whose verdicts are per option."
    )
    reason: str | None
    summary: str


class ImpactFiguresRead(ImpactRead):
    options: dict[str, ImpactRead] | None = Field(
        description="Share metrics (choice questions): the impact on each option's share."
    )


class SegmentImpactRead(ImpactFiguresRead):
    value: str | None = Field(description="The attribute value (null: respondents without it).")


class DecisionImpactRead(ImpactFiguresRead):
    decision: uuid.UUID
    decision_title: str
    decided_at: datetime
    question: str
    metric: Metric
    min_n: int
    segment: str | None
    segments: dict[str, SegmentImpactRead] | None = Field(
        description="With `segment`: the impact per attribute value, each cell suppressed as "
        "in `trends`."
    )
