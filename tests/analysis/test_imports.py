"""The pure analysis modules import only the numeric stack, a few typing helpers of the standard
library, and each other's data types; the modules assembling figures from a survey's definition
import no I/O either (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ANALYSIS = Path(__file__).resolve().parents[2] / "feedback" / "analysis"
PURE = (
    "sufficient",
    "results",
    "estimates",
    "changes",
    "trend",
    "series",
    "panel",
    "impact",
    "cells",
    "number_text",
    "mdc",
    "suppression",
    "folding",
)
# Pure as well (no I/O, no database, no web framework), but assembling figures from the survey's
# definition: they may read the pure modules, each other and the definition types.
ASSEMBLY = (
    "catalogue",
    "figures",
    "decision_impact",
    "chart_adapter",
    "version_marks",
    "option_series",
    "summaries",
)
PLUMBING = {
    "__future__",
    "collections.abc",
    "typing",
    "itertools",
    "functools",
    "math",
    "dataclasses",
    "bisect",
}
ALLOWED = {
    "pure": PLUMBING
    | {
        "numpy",
        "numpy.typing",
        "scipy",
        "feedback.analysis.sufficient",
        "feedback.analysis.results",
        "feedback.analysis.number_text",
        # the smallest detectable change each estimate carries
        "feedback.analysis.mdc",
        # folding small groups suppresses what remains by the one rule
        "feedback.analysis.suppression",
    },
    "charts": PLUMBING
    | {"io", "textwrap", "unicodedata", "datetime", "matplotlib", "feedback.analysis.results"}
    | {"feedback.analysis.number_text"}
    # the fonts it draws in: DejaVu Sans and the fallbacks for the scripts it lacks
    | {"feedback.analysis.chart_fonts"},
    "assembly": PLUMBING
    | {"collections", "functools", "datetime", "uuid"}
    | {f"feedback.analysis.{name}" for name in (*PURE, *ASSEMBLY, "charts")}
    | {"feedback.surveys.definition", "feedback.surveys.changes", "feedback.errors"}
    | {"feedback.loop.sentences"}
    # the `other` group's label on a segment chart, in the survey's language
    | {"feedback.translations"},
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


@pytest.mark.parametrize("module", ASSEMBLY)
def test_assembly_modules_import_no_io(module: str) -> None:
    assert {n for n in imported(module) if not allowed(n, ALLOWED["assembly"])} == set()


def test_charts_import_only_matplotlib_and_results() -> None:
    names = imported("charts")
    assert {n for n in names if not allowed(n, ALLOWED["charts"])} == set()
    assert not any(n.startswith("matplotlib.pyplot") for n in names)


# The text answers' pure modules: tokens and their log-odds, from the standard library alone.
TEXT = ("text_terms", "distinct_terms")
TEXT_ALLOWED = PLUMBING | {"collections", "re", "unicodedata"}


@pytest.mark.parametrize("module", TEXT)
def test_text_modules_import_only_the_standard_library(module: str) -> None:
    assert {n for n in imported(module) if not allowed(n, TEXT_ALLOWED)} == set()
