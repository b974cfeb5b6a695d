"""XLSForm `relevant` and `constraint` expressions that feedback can run, translated.

`relevant` becomes a `show_if` (feedback/surveys/show_if.py) when it is built only from

    ${q} = 'x'   ${q} = 3   selected(${q}, 'x')   ${q} >= 3   ${q} <= 3   ${q} > 3   ${q} < 3
    ${q} != ''   ${q} = ''   count-selected(${q}) > 0   string-length(${q}) > 0   and   or   ( )

(`>` and `<` only on whole-number questions, as `at_least 4` / `at_most 2`); anything else
raises `Untranslatable` with the reason, and the importer lists it on the question's row. A
numeric `constraint` that only bounds the answer (`. >= 0 and . <= 120`) becomes `min`/`max`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<ref>\$\{[^}\s]+\})|(?P<str>'[^']*'|\"[^\"]*\")|(?P<num>-?\d+(?:\.\d+)?)"
    r"|(?P<op>!=|>=|<=|=|>|<)|(?P<punct>[(),])|(?P<word>[A-Za-z_][A-Za-z0-9_:.-]*)|(?P<dot>\.))"
)


# The parser recurses on each parenthesis: past this nesting (far beyond any form's, and beyond
# what a show_if may nest) an expression is untranslatable rather than a RecursionError.
MAX_PARENTHESES = 50


class Untranslatable(Exception):
    """The expression uses something feedback's conditions cannot say (the message says what)."""


@dataclass(frozen=True, slots=True)
class Target:
    """An earlier imported question, as a condition on it needs it."""

    key: str
    type: str
    integer: bool = False
    options: dict[str, str] | None = None
    """Choice names as written → option keys."""


Resolve = Callable[[str], Target | None]


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise Untranslatable(f"cannot read '{text[position:]}'")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        position = match.end()
    return out


class _Parser:
    def __init__(self, text: str, resolve: Resolve) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.resolve = resolve
        self.open = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, kind: str, value: str | None = None) -> str:
        token = self.peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            raise Untranslatable(f"expected {value or kind} at '{self.rest()}'")
        self.at += 1
        return token[1]

    def rest(self) -> str:
        return " ".join(v for _, v in self.tokens[self.at :]) or "the end"

    def joined(self, word: str, inner: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        parts = [inner()]
        while self.peek() == ("word", word):
            self.at += 1
            parts.append(inner())
        if len(parts) == 1:
            return parts[0]
        name = "all" if word == "and" else "any"
        flat: list[dict[str, Any]] = []
        for part in parts:
            flat += part[name] if set(part) == {name} else [part]
        return {name: flat}

    def expression(self) -> dict[str, Any]:
        return self.joined("or", lambda: self.joined("and", self.atom))

    def atom(self) -> dict[str, Any]:
        token = self.peek()
        if token == ("punct", "("):
            self.at += 1
            self.open += 1
            if self.open > MAX_PARENTHESES:
                raise Untranslatable(f"nests parentheses more than {MAX_PARENTHESES} deep")
            inner = self.expression()
            self.take("punct", ")")
            self.open -= 1
            return inner
        if token == ("word", "selected"):
            self.at += 1
            self.take("punct", "(")
            target = self.target(self.take("ref"))
            self.take("punct", ",")
            value = self.take("str")[1:-1]
            self.take("punct", ")")
            return {"question": target.key, "equals": _option(target, value)}
        if token in (("word", "count-selected"), ("word", "string-length")):
            self.at += 1
            self.take("punct", "(")
            target = self.target(self.take("ref"))
            self.take("punct", ")")
            test = (self.take("op"), self.take("num"))
            if test in ((">", "0"), (">=", "1"), ("!=", "0")):
                return {"question": target.key, "answered": True}
            if test == ("=", "0"):
                return {"question": target.key, "answered": False}
            raise Untranslatable(f"{token[1]}() is only translated as answered or not")
        if token is not None and token[0] == "ref":
            self.at += 1
            target = self.target(token[1])
            op = self.take("op")
            literal = self.peek()
            if literal is None or literal[0] not in ("str", "num"):
                raise Untranslatable(f"compares ${{{target.key}}} with '{self.rest()}'")
            self.at += 1
            return _comparison(target, op, literal)
        raise Untranslatable(f"'{self.rest()}' is not a comparison feedback can run")

    def target(self, ref: str) -> Target:
        name = ref[2:-1]
        found = self.resolve(name)
        if found is None:
            raise Untranslatable(
                f"refers to ${{{name}}}, which is not an earlier imported question"
            )
        return found


def _comparison(target: Target, op: str, literal: tuple[str, str]) -> dict[str, Any]:
    kind, raw = literal
    text = raw[1:-1] if kind == "str" else raw
    key = target.key
    if text == "" and op in ("=", "!="):
        return {"question": key, "answered": op == "!="}
    if op == "!=":
        raise Untranslatable("'!=' (not equal) has no show_if")
    if target.options is not None:
        if op != "=":
            raise Untranslatable(f"'{op}' does not compare choices")
        return {"question": key, "equals": _option(target, text)}
    if target.type in ("text", "date"):
        raise Untranslatable(f"a {target.type} answer is not compared with a value")
    number = _number(text)
    if op == "=":
        return {"question": key, "equals": number}
    if op in (">=", "<="):
        return {"question": key, "at_least" if op == ">=" else "at_most": number}
    if not target.integer or not isinstance(number, int):
        raise Untranslatable(f"'{op}' is only translated for whole numbers")
    return (
        {"question": key, "at_least": number + 1}
        if op == ">"
        else {
            "question": key,
            "at_most": number - 1,
        }
    )


def _option(target: Target, name: str) -> str:
    if target.options is None:
        raise Untranslatable(f"selected() on '{target.key}', which is not a select question")
    if name not in target.options:
        raise Untranslatable(f"'{name}' is not a choice of '{target.key}'")
    return target.options[name]


def _number(text: str) -> int | float:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise Untranslatable(f"'{text}' is not a number") from None
    return int(value) if value == value.to_integral_value() else float(value)


def relevant_to_show_if(expression: str, resolve: Resolve) -> dict[str, Any]:
    """The show_if condition `expression` means; `resolve` finds earlier questions by name."""
    parser = _Parser(expression, resolve)
    condition = parser.expression()
    if parser.peek() is not None:
        raise Untranslatable(f"'{parser.rest()}' is not a comparison feedback can run")
    return condition


_BOUND = re.compile(r"\s*\.\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*")


def constraint_to_range(
    expression: str, *, integer: bool
) -> tuple[int | float | None, int | float | None] | None:
    """(min, max) when `expression` only bounds the answer (`. >= 0 and . <= 120`), else None.
    Strict bounds are translated for whole numbers only (`. > 0` is min 1)."""
    low: int | float | None = None
    high: int | float | None = None
    for part in re.split(r"\s+and\s+", expression.strip()):
        match = _BOUND.fullmatch(part)
        if match is None:
            return None
        op, raw = match.groups()
        number = int(Decimal(raw)) if Decimal(raw) == Decimal(raw).to_integral_value() else None
        value: int | float = number if number is not None else float(raw)
        if op in (">", "<"):
            if not integer or number is None:
                return None
            value = number + 1 if op == ">" else number - 1
        if op.startswith(">"):
            low = value if low is None else max(low, value)
        else:
            high = value if high is None else min(high, value)
    return low, high
