"""A computed result as the API sends it, through the wire types of `analysis.schemas`."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from feedback.analysis import schemas
from feedback.analysis.decision_impact import DecisionImpact
from feedback.analysis.figures import QuestionTrends, SurveyTrends
from feedback.analysis.impact import Impact
from feedback.analysis.results import ChangeTest, NoTrend, PanelResult, TrendTest, WaveEstimate


def wire(value: object) -> Any:
    """The JSON value of a result (datetimes and UUIDs as strings, as on the wire)."""
    read: object
    if isinstance(value, WaveEstimate):
        read = schemas.estimate_read(value)
    elif isinstance(value, ChangeTest):
        read = schemas.change_read(value)
    elif isinstance(value, TrendTest | NoTrend):
        read = schemas.trend_read(value)
    elif isinstance(value, PanelResult):
        read = schemas.panel_result_read(value)
    elif isinstance(value, Impact):
        read = schemas.impact_read(value)
    elif isinstance(value, QuestionTrends):
        read = schemas.question_trends_read(value)
    elif isinstance(value, SurveyTrends):
        read = schemas.trends_read(value)
    elif isinstance(value, DecisionImpact):
        read = schemas.decision_impact_read(value)
    else:
        raise TypeError(f"no wire type for {type(value).__name__}")
    built = msgspec.to_builtins(read)
    return unsaid(built) if isinstance(value, ChangeTest | TrendTest | NoTrend) else built


def unsaid(value: Any) -> Any:
    """A JSON value without its plain-language `summary` sentences: a computed result alone has
    none (they need the question, the waves and a locale); tests/analysis/test_summaries.py
    checks them."""
    if isinstance(value, dict):
        return {k: unsaid(v) for k, v in value.items() if k != "summary"}
    if isinstance(value, list):
        return [unsaid(v) for v in value]
    return value


def same(a: Any, b: Any, *, rel: float = 1e-12) -> bool:
    """The same JSON, floats to `rel` relative: a sum of floats depends on the order it is added
    in, which PostgreSQL's parallel plans already vary from one run of the same statement to the
    next; counts and text are compared exactly."""
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=rel, abs=1e-300)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], rel=rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y, rel=rel) for x, y in zip(a, b, strict=True))
    return bool(a == b)
