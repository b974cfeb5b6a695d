"""Questions for skip-logic tests: a recommendation score and the follow-up asked of detractors."""

from __future__ import annotations

from typing import Any


def nps() -> dict[str, Any]:
    return {"key": "nps", "type": "nps", "label": "Recommend us?", "required": True}


def why_not() -> dict[str, Any]:
    """Required, and shown only to detractors (a score of 6 or less)."""
    return {
        "key": "why_not",
        "type": "text",
        "label": "What would change your mind?",
        "required": True,
        "show_if": {"question": "nps", "at_most": 6},
    }
