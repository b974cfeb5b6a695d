"""The pure analysis modules import only the numeric stack, a few typing helpers of the standard
library, and each other's data types (ARCHITECTURE.md, STYLE.md "Layout")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ANALYSIS = Path(__file__).resolve().parents[2] / "feedback" / "analysis"
PURE = ("sufficient", "results", "estimates", "changes", "trend", "series", "panel", "impact")
PLUMBING = {"__future__", "collections.abc", "typing", "itertools", "math", "dataclasses"}
ALLOWED = {
    "pure": PLUMBING
    | {
        "numpy",
        "numpy.typing",
        "scipy",
        "feedback.analysis.sufficient",
        "feedback.analysis.results",
    },
    "charts": PLUMBING | {"io", "textwrap", "datetime", "matplotlib", "feedback.analysis.results"},
}


def imported(module: str) -> set[str]:
    tree = ast.parse((ANALYSIS / f"{module}.py").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def allowed(name: str, rules: set[str]) -> bool:
    return any(name == rule or name.startswith(rule + ".") for rule in rules)


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_only_numpy_scipy_and_analysis_types(module: str) -> None:
    assert {n for n in imported(module) if not allowed(n, ALLOWED["pure"])} == set()


def test_charts_import_only_matplotlib_and_results() -> None:
    names = imported("charts")
    assert {n for n in names if not allowed(n, ALLOWED["charts"])} == set()
    assert not any(n.startswith("matplotlib.pyplot") for n in names)
