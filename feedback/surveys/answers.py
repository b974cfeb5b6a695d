"""A submission's answers: checked against the version it was made from, then turned into the
one-row-per-value form that analysis counts (ARCHITECTURE.md, "Analysis runs on sufficient
statistics")."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from feedback.errors import FieldError, Invalid, pointer
from feedback.surveys.definition import (
    NUMBER_LIMIT,
    Definition,
    MultiChoiceQuestion,
    NumberQuestion,
    Question,
    SingleChoiceQuestion,
    TextQuestion,
    integer_points,
)


@dataclass(frozen=True, slots=True)
class AnswerValue:
    """One stored value of one answered question.

    Numbers and scale points go in `value_num`, a chosen option in `option_key`, text in
    `value_text`. A multi-choice answer gives one row per chosen option; `first` is true on
    exactly one row per answered question, so SUM(first) counts the respondents who answered.
    """

    question_key: str
    value_num: float | None
    option_key: str | None
    value_text: str | None
    first: bool


def validate_answers(
    definition: Definition, answers: object, *, at: str = "/answers"
) -> list[FieldError]:
    """Every problem with `answers` (a `{question key: answer}` object), each at its pointer.

    A missing or null answer, and text that is blank, is unanswered: an error only when the
    question is required. Integer scales take whole numbers (4 or 4.0, never 3.5 or true).
    """
    if not isinstance(answers, dict):
        return [FieldError(at, "must be an object mapping question keys to answers")]
    errors = [
        FieldError(at + pointer(str(key)), "is not a question of this version")
        for key in answers
        if definition.question(str(key)) is None
    ]
    for question in definition.questions:
        here = at + pointer(question.key)
        value = answers.get(question.key)
        if _unanswered(question, value):
            if question.required:
                errors.append(FieldError(here, "is required"))
            continue
        errors += _answer_errors(question, value, here)
    return errors


def normalise_answers(definition: Definition, answers: Mapping[str, Any]) -> list[AnswerValue]:
    """The rows to store for valid `answers`, in question order (Invalid if they are not valid:
    call `validate_answers` first to report problems with their pointers)."""
    errors = validate_answers(definition, answers)
    if errors:
        raise Invalid(errors, "The answers are invalid.")
    rows: list[AnswerValue] = []
    for question in definition.questions:
        value = answers.get(question.key)
        if value is None or _unanswered(question, value):
            continue
        key = question.key
        if isinstance(question, MultiChoiceQuestion):
            if not value:
                rows.append(AnswerValue(key, None, None, None, first=True))
            rows += [AnswerValue(key, None, o, None, first=i == 0) for i, o in enumerate(value)]
        elif isinstance(question, SingleChoiceQuestion):
            rows.append(AnswerValue(key, None, value, None, first=True))
        elif isinstance(question, TextQuestion):
            rows.append(AnswerValue(key, None, None, value, first=True))
        else:
            rows.append(AnswerValue(key, float(value), None, None, first=True))
    return rows


def _unanswered(question: Question, value: object) -> bool:
    if value is None:
        return True
    return isinstance(question, TextQuestion) and isinstance(value, str) and not value.strip()


def _answer_errors(question: Question, value: object, at: str) -> list[FieldError]:
    points = integer_points(question)
    if points is not None:
        number = _whole_number(value)
        if number is None or number not in points:
            return [FieldError(at, f"must be an integer from {points.start} to {points.stop - 1}")]
        return []
    if isinstance(question, NumberQuestion):
        return _number_errors(question, value, at)
    if isinstance(question, SingleChoiceQuestion):
        keys = [o.key for o in question.options]
        if not isinstance(value, str) or value not in keys:
            return [FieldError(at, "must be one of: " + ", ".join(keys))]
        return []
    if isinstance(question, MultiChoiceQuestion):
        return _choices_errors(question, value, at)
    assert isinstance(question, TextQuestion)
    if not isinstance(value, str):
        return [FieldError(at, "must be a string")]
    if len(value) > question.max_length:
        return [FieldError(at, f"must be at most {question.max_length} characters")]
    if "\x00" in value:
        return [FieldError(at, "must not contain NUL characters")]
    return []


def _whole_number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _number_errors(question: NumberQuestion, value: object, at: str) -> list[FieldError]:
    lo = -NUMBER_LIMIT if question.min is None else question.min
    hi = NUMBER_LIMIT if question.max is None else question.max
    kind = "an integer" if question.integer else "a number"
    expected = [FieldError(at, f"must be {kind} from {_number_text(lo)} to {_number_text(hi)}")]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return expected
    # Range first: it rejects NaN and infinities, and integers too large for a float.
    if not lo <= value <= hi:
        return expected
    if question.integer and not float(value).is_integer():
        return expected
    return []


def _number_text(number: float) -> str:
    return str(number) if isinstance(number, int) else f"{number:.15g}"


def _choices_errors(question: MultiChoiceQuestion, value: object, at: str) -> list[FieldError]:
    if not isinstance(value, list):
        return [FieldError(at, "must be an array of option keys")]
    keys = [o.key for o in question.options]
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        if not isinstance(item, str) or item not in keys:
            errors.append(FieldError(at + pointer(i), "must be one of: " + ", ".join(keys)))
        elif item in seen:
            errors.append(FieldError(at + pointer(i), "is already chosen"))
        else:
            seen.add(item)
    if question.max_choices is not None and len(value) > question.max_choices:
        errors.append(FieldError(at, f"must have at most {question.max_choices} choices"))
    if question.required and not value:
        errors.append(FieldError(at, "is required: choose at least one option"))
    return errors
