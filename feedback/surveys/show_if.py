"""Skip logic: a question's `show_if` condition on earlier answers, and when it holds.

A condition is one of

- `{"question": k, "equals": v}`: the answer to k is v (a multi-choice answer: v is chosen);
- `{"question": k, "in": [v, ...]}`: the answer is one of them (multi-choice: any is chosen);
- `{"question": k, "at_least": n}` / `{"question": k, "at_most": n}`: a number, scale point or
  date (ISO strings compare in calendar order) on that side of n, inclusive;
- `{"question": k, "answered": true}` (or false): k has an answer;
- `{"all": [...]}` / `{"any": [...]}`: every / some of the conditions listed hold.

`visible_keys` is the one rule, evaluated in question order: a question whose condition fails is
hidden, and a hidden question counts as unanswered for the conditions after it. embed.js carries
the same rule (`showIf`, `visibleKeys`), and the hosted page uses this one; a property test runs
both on generated conditions and answers. Comparisons are strict about types (the number 1 never
equals the text "1" or true), so both languages give the same answer on any JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Annotated, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag
from pydantic_core import PydanticCustomError

LEAF_KINDS = ("equals", "in", "at_least", "at_most", "answered")
KINDS = ("all", "any", *LEAF_KINDS)
MAX_DEPTH = 5
MAX_IN_VALUES = 200


def _check_value(value: object) -> object:
    # Booleans are refused here rather than compared: Python takes True for 1, JavaScript not.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PydanticCustomError("value_type", "must be a number or a string")
    return value


def _check_bound(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PydanticCustomError("bound_type", "must be a number or an ISO date string")
    return value


Value = Annotated[int | float | str, BeforeValidator(_check_value)]
Bound = Annotated[int | float | str, BeforeValidator(_check_bound)]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, serialize_by_alias=True, validate_by_alias=True
    )


class Equals(_Model):
    question: str
    equals: Value


class OneOf(_Model):
    question: str
    in_: list[Value] = Field(alias="in", min_length=1, max_length=MAX_IN_VALUES)


class AtLeast(_Model):
    question: str
    at_least: Bound


class AtMost(_Model):
    question: str
    at_most: Bound


class Answered(_Model):
    question: str
    answered: bool


class All(_Model):
    all: list[Condition] = Field(min_length=1)


class AnyOf(_Model):
    any: list[Condition] = Field(min_length=1)


Leaf = Equals | OneOf | AtLeast | AtMost | Answered


def _kind(value: object) -> str | None:
    # Tags unlike any field name, so that they are told apart from the document in error
    # locations (feedback.validation.loc_to_pointer).
    if isinstance(value, dict):
        return next((f"if_{k}" for k in KINDS if k in value), None)
    return _TAGS.get(type(value))


Condition = Annotated[
    Annotated[All, Tag("if_all")]
    | Annotated[AnyOf, Tag("if_any")]
    | Annotated[Equals, Tag("if_equals")]
    | Annotated[OneOf, Tag("if_in")]
    | Annotated[AtLeast, Tag("if_at_least")]
    | Annotated[AtMost, Tag("if_at_most")]
    | Annotated[Answered, Tag("if_answered")],
    Discriminator(
        _kind,
        custom_error_type="condition_kind",
        custom_error_message="must be an object with one of: " + ", ".join(KINDS),
    ),
]
All.model_rebuild()
AnyOf.model_rebuild()
_TAGS: dict[type, str] = {
    All: "if_all",
    AnyOf: "if_any",
    Equals: "if_equals",
    OneOf: "if_in",
    AtLeast: "if_at_least",
    AtMost: "if_at_most",
    Answered: "if_answered",
}


def leaves(condition: Condition, at: str = "") -> Iterator[tuple[Leaf, str]]:
    """Every simple condition in `condition`, with its pointer below `at`."""
    if isinstance(condition, All | AnyOf):
        name, parts = (
            ("all", condition.all) if isinstance(condition, All) else ("any", condition.any)
        )
        for i, part in enumerate(parts):
            yield from leaves(part, f"{at}/{name}/{i}")
    else:
        yield condition, at


def depth(condition: Condition) -> int:
    if isinstance(condition, All | AnyOf):
        parts = condition.all if isinstance(condition, All) else condition.any
        return 1 + max(depth(p) for p in parts)
    return 1


def answered(value: object) -> bool:
    """Has this raw answer a value? (None, blank text and an empty choice list have none.)"""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list):
        return bool(value)
    return True


def _same(a: object, b: object) -> bool:
    if _is_number(a) and _is_number(b):
        return a == b
    return isinstance(a, str) and isinstance(b, str) and a == b


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _on_side(value: object, bound: object, *, least: bool) -> bool:
    if _is_number(value) and _is_number(bound):
        a, b = float(value), float(bound)  # type: ignore[arg-type]
    elif isinstance(value, str) and isinstance(bound, str):
        # Only ISO dates are compared as text (in calendar order); both sides are ASCII, so
        # Python's code-point order and JavaScript's UTF-16 order agree.
        if not (value.isascii() and bound.isascii()):
            return False
        return value >= bound if least else value <= bound
    else:
        return False
    return a >= b if least else a <= b


def holds(condition: Condition, answers: Mapping[str, object]) -> bool:
    """Whether `condition` holds for `answers` (a `{key: raw answer}` map of visible answers)."""
    if isinstance(condition, All):
        return all(holds(c, answers) for c in condition.all)
    if isinstance(condition, AnyOf):
        return any(holds(c, answers) for c in condition.any)
    value = answers.get(condition.question)
    if isinstance(condition, Answered):
        return answered(value) == condition.answered
    if not answered(value):
        return False
    chosen = value if isinstance(value, list) else [value]
    if isinstance(condition, Equals):
        return any(_same(v, condition.equals) for v in chosen)
    if isinstance(condition, OneOf):
        return any(_same(v, w) for v in chosen for w in condition.in_)
    if isinstance(condition, AtLeast):
        return _on_side(value, condition.at_least, least=True)
    return _on_side(value, condition.at_most, least=False)


class Conditional(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def show_if(self) -> Condition | None: ...


def visible_keys(questions: Iterable[Conditional], answers: Mapping[str, object]) -> list[str]:
    """The keys of the questions shown for `answers`, in order. A hidden question's answer is
    ignored by the conditions after it (it is refused, so it never counts)."""
    shown: list[str] = []
    seen: dict[str, object] = {}
    for question in questions:
        if question.show_if is None or holds(question.show_if, seen):
            shown.append(question.key)
            if question.key in answers:
                seen[question.key] = answers[question.key]
    return shown


def referenced(condition: Condition) -> set[str]:
    return {leaf.question for leaf, _ in leaves(condition)}
