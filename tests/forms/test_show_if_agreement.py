"""The three places skip logic runs agree: embed.js's evaluator (run under node, as served), the
Python rule the hosted page and the server's answer check use, and the answer check itself (it
refuses exactly the answers to the questions the rule hides).

Hypothesis generates definitions whose conditions refer to earlier questions of every type, and
answers both valid and odd (text where a number goes, true for 1, blank text, empty lists)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback.api.embed import embed_script
from feedback.surveys.answers import HIDDEN, validate_answers
from feedback.surveys.definition import Definition, parse_definition
from feedback.surveys.show_if import visible_keys

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

# Reads one {"questions", "answers"} document a line; answers each with visibleKeys.
RUNNER = """
const vm = require("vm"), readline = require("readline");
const sandbox = { module: { exports: {} } };
vm.runInNewContext(process.argv[1], sandbox);
const showIf = sandbox.module.exports;
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const doc = JSON.parse(line);
  process.stdout.write(JSON.stringify(showIf.visibleKeys(doc.questions, doc.answers)) + "\\n");
});
"""


class Node:
    def __init__(self) -> None:
        script = embed_script().body.decode()
        self.process = subprocess.Popen(
            ["node", "-e", RUNNER, script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def visible_keys(self, definition: Definition, answers: dict[str, Any]) -> list[str]:
        assert self.process.stdin is not None and self.process.stdout is not None
        document = {"questions": definition.to_json()["questions"], "answers": answers}
        self.process.stdin.write(json.dumps(document) + "\n")
        self.process.stdin.flush()
        result: list[str] = json.loads(self.process.stdout.readline())
        return result


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    runner = Node()
    yield runner
    runner.process.terminate()
    runner.process.wait()


OPTIONS = ["a", "b", "c"]
DATES = ["2024-01-31", "2024-02-29", "2025-12-01", "1999-07-04"]
TYPES = ["nps", "likert", "single_choice", "multi_choice", "number", "text", "date"]
BLANKS = ["", " ", "\t\n", "\x1c", "\u3000", "\xa0", "\ufeff", "\u200b"]


def question(key: str, kind: str) -> dict[str, Any]:
    q: dict[str, Any] = {"key": key, "type": kind, "label": key}
    if kind == "likert":
        q["scale"] = {"min": 1, "max": 5}
    if kind in ("single_choice", "multi_choice"):
        q["options"] = [{"key": o, "label": o} for o in OPTIONS]
    return q


def values(kind: str) -> st.SearchStrategy[Any]:
    """Values a condition on a question of `kind` may compare with."""
    if kind == "nps":
        return st.integers(0, 10)
    if kind == "likert":
        return st.integers(1, 5) | st.integers(1, 5).map(float)
    if kind in ("single_choice", "multi_choice"):
        return st.sampled_from(OPTIONS)
    if kind == "number":
        return st.integers(-5, 5) | st.floats(-5, 5, allow_nan=False).map(lambda x: round(x, 2))
    return st.sampled_from(DATES)


def leaf(key: str, kind: str) -> st.SearchStrategy[dict[str, Any]]:
    options = [st.builds(lambda b: {"question": key, "answered": b}, st.booleans())]
    if kind != "text":
        options.append(values(kind).map(lambda v: {"question": key, "equals": v}))
        options.append(
            st.lists(values(kind), min_size=1, max_size=3).map(lambda v: {"question": key, "in": v})
        )
    if kind not in ("text", "single_choice", "multi_choice"):
        for side in ("at_least", "at_most"):
            options.append(values(kind).map(lambda v, s=side: {"question": key, s: v}))
    return st.one_of(options)


def condition(earlier: list[tuple[str, str]]) -> st.SearchStrategy[dict[str, Any]]:
    leaves = st.sampled_from(earlier).flatmap(lambda q: leaf(*q))
    return st.recursive(
        leaves,
        lambda inner: st.builds(
            lambda name, parts: {name: parts},
            st.sampled_from(["all", "any"]),
            st.lists(inner, min_size=1, max_size=3),
        ),
        max_leaves=5,
    )


@st.composite
def definitions(draw: st.DrawFn) -> Definition:
    kinds = draw(st.lists(st.sampled_from(TYPES), min_size=2, max_size=6))
    questions = []
    for i, kind in enumerate(kinds):
        q = question(f"q{i}", kind)
        earlier = [(f"q{j}", kinds[j]) for j in range(i)]
        if earlier and draw(st.booleans()):
            q["show_if"] = draw(condition(earlier))
        questions.append(q)
    return parse_definition({"questions": questions}, locales=[], default_locale="en")


def answer(kind: str) -> st.SearchStrategy[Any]:
    odd = st.sampled_from([None, True, False, "3", "a", [], ["a", "zz"], 7, 2.5, "2024-02-29"])
    blank = st.sampled_from(BLANKS)
    if kind == "multi_choice":
        good = st.lists(st.sampled_from(OPTIONS), unique=True, max_size=3)
    elif kind == "text":
        good = st.text(max_size=5)
    else:
        good = values(kind)
    return st.one_of(good, odd, blank)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Definition, dict[str, Any]]:
    definition = draw(definitions())
    answers = {}
    for q in definition.questions:
        if draw(st.booleans()):
            answers[q.key] = draw(answer(q.type))
    return definition, answers


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_embed_js_and_the_server_show_the_same_questions(
    node: Node, case: tuple[Definition, dict[str, Any]]
) -> None:
    definition, answers = case
    shown = visible_keys(definition.questions, answers)
    assert node.visible_keys(definition, answers) == shown
    # The answer check refuses exactly the answers the rule hides.
    errors = validate_answers(definition, answers)
    refused = {e.pointer.split("/")[2] for e in errors if e.message == HIDDEN}
    hidden_answered = {
        q.key
        for q in definition.questions
        if q.key not in shown and _answered_for_the_server(q.type, answers.get(q.key))
    }
    assert refused == hidden_answered


def _answered_for_the_server(kind: str, value: object) -> bool:
    if value is None:
        return False
    return not (kind == "text" and isinstance(value, str) and not value.strip())


def test_the_runner_sees_a_condition(node: Node) -> None:
    definition = parse_definition(
        {
            "questions": [
                question("q0", "nps"),
                question("q1", "text") | {"show_if": {"question": "q0", "at_most": 6}},
            ]
        },
        locales=[],
        default_locale="en",
    )
    assert node.visible_keys(definition, {"q0": 7}) == ["q0"]
    assert node.visible_keys(definition, {"q0": 6}) == ["q0", "q1"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__]))
