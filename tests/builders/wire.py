"""A computed result as the API sends it, through the wire types of `analysis.schemas`."""

from __future__ import annotations

from typing import Any

import msgspec

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
    return msgspec.to_builtins(read)
