"""The survey every benchmark submits to: ten questions, eleven answer rows a submission."""

from __future__ import annotations

from typing import Any

_SCALE = {"min": 1, "max": 5, "labels": {"1": "Strongly disagree", "5": "Strongly agree"}}
_ISSUES = [{"key": k, "label": k.title()} for k in ("climate", "housing", "health", "jobs")]
_ACTIONS = [{"key": k, "label": k.title()} for k in ("petition", "march", "donate", "call")]

DEFINITION: dict[str, Any] = {
    "questions": [
        {"key": "trust", "type": "likert", "label": "I trust you", "scale": _SCALE},
        {"key": "listened", "type": "likert", "label": "You listen", "scale": _SCALE},
        {"key": "informed", "type": "likert", "label": "I feel informed", "scale": _SCALE},
        {"key": "proud", "type": "likert", "label": "I am proud", "scale": _SCALE},
        {"key": "nps", "type": "nps", "label": "Recommend us?"},
        {"key": "priority", "type": "single_choice", "label": "Top issue", "options": _ISSUES},
        {"key": "second", "type": "single_choice", "label": "Next issue", "options": _ISSUES},
        {"key": "actions", "type": "multi_choice", "label": "Done", "options": _ACTIONS},
        {"key": "hours", "type": "number", "label": "Hours", "min": 0, "max": 168},
        {"key": "comment", "type": "text", "label": "Anything else?", "max_length": 2000},
    ]
}

ANSWERS: dict[str, Any] = {
    "trust": 4,
    "listened": 3,
    "informed": 5,
    "proud": 4,
    "nps": 9,
    "priority": "climate",
    "second": "housing",
    "actions": ["petition", "march"],
    "hours": 2.5,
    "comment": "Keep going, and tell us what changed.",
}
ANSWER_ROWS = 11
