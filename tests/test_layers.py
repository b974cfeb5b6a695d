"""The layers run one way (docs/architecture.md): `api/` over the domain packages over the shared
modules. Read from every module's imports, so that a shortcut shows up here rather than in a
review:

- no domain or shared module imports `feedback.api`, the entry points (`cli`, `demo`) or the web
  stack: the domain names fields and facts, and `api/` decides what they mean in HTTP;
- `api/` reaches a domain through its services (and its schemas, models and pure rules), never
  through the modules that hold its SQL statements;
- the pure modules (rules, statistics, sentences) import no I/O at all.

The analysis package's finer rules (what its pure modules and charts may import) are in
tests/analysis/test_imports.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "feedback"
DOMAIN = ("surveys", "responses", "analysis", "loop", "orgs")
SHARED = (
    "errors",
    "validation",
    "pagination",
    "clock",
    "config",
    "db",
    "read_replica",
    "logs",
    "migrate",
    "models",
    "translations",
)
ENTRY_POINTS = (
    "feedback.api",
    "feedback.cli",
    "feedback.commands",
    "feedback.demo",
    "feedback.__main__",
)
WEB_STACK = ("litestar", "uvicorn", "starlette", "httptools")
# Where a domain keeps its SQL statements: its services call them, handlers do not.
STATEMENTS = (
    "feedback.analysis.queries",
    "feedback.analysis.text_queries",
    "feedback.orgs.queries",
    "feedback.responses.bulk",
    "feedback.responses.queries",
    "feedback.responses.store_statements",
    "feedback.surveys.queries",
    "feedback.loop.outbox",
)
IO = ("sqlalchemy", "alembic", "httpx", "litestar", "uvicorn", "feedback.db", "asyncio")
PURE = (
    "surveys.definition",
    "surveys.changes",
    "surveys.answers",
    "surveys.show_if",
    "surveys.schedule",
    "surveys.settings",
    "surveys.xlsform",
    "loop.sentences",
    "loop.result_sentences",
    "analysis.catalogue",
    "analysis.cells",
    "analysis.changes",
    "analysis.chart_adapter",
    "analysis.decision_impact",
    "analysis.distinct_terms",
    "analysis.estimates",
    "analysis.figures",
    "analysis.impact",
    "analysis.number_text",
    "analysis.panel",
    "analysis.results",
    "analysis.series",
    "analysis.sufficient",
    "analysis.trend",
    "analysis.text_terms",
    "validation",
    "errors",
    "clock",
    "translations",
)


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def modules(*prefixes: str) -> list[str]:
    names = [module_name(path) for path in sorted(PACKAGE.rglob("*.py"))]
    wanted = tuple(f"feedback.{prefix}" for prefix in prefixes)
    return [n for n in names if any(n == w or n.startswith(w + ".") for w in wanted)]


def imports(module: str) -> set[str]:
    path = PACKAGE.parent.joinpath(*module.split("."))
    file = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    names: set[str] = set()
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # `from feedback.responses import queries` imports a module too.
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def within(name: str, roots: tuple[str, ...]) -> bool:
    return any(name == root or name.startswith(root + ".") for root in roots)


def test_the_rules_see_every_module() -> None:
    """A new top-level module must be placed in a layer here before it can be imported."""
    top = {module_name(p).split(".")[1] for p in PACKAGE.rglob("*.py") if p.parent == PACKAGE}
    top |= {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    placed = set(DOMAIN) | set(SHARED) | {"api", "cli", "commands", "demo", "__main__", "__init__"}
    assert top - placed == set()


@pytest.mark.parametrize("module", modules(*DOMAIN, *SHARED))
def test_domain_and_shared_modules_know_no_http(module: str) -> None:
    wrong = {n for n in imports(module) if within(n, ENTRY_POINTS + WEB_STACK)}
    assert wrong == set(), f"{module} imports {sorted(wrong)}"


@pytest.mark.parametrize("module", modules("api"))
def test_handlers_reach_domains_through_their_services(module: str) -> None:
    wrong = {n for n in imports(module) if within(n, STATEMENTS)}
    assert wrong == set(), f"{module} imports {sorted(wrong)}"


@pytest.mark.parametrize("module", [f"feedback.{m}" for m in PURE])
def test_pure_modules_do_no_io(module: str) -> None:
    wrong = {n for n in imports(module) if within(n, IO)}
    assert wrong == set(), f"{module} imports {sorted(wrong)}"
