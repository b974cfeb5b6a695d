"""A submission's answers: checked against the version it was made from, then turned into the
one-row-per-value form that analysis counts (docs/architecture.md, "Analysis runs on sufficient
statistics")."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from feedback.errors import FieldError, Invalid, pointer
from feedback.surveys.definition import (
    NUMBER_DECIMALS,
    NUMBER_LIMIT,
    DateQuestion,
    Definition,
    MultiChoiceQuestion,
    NumberQuestion,
    Question,
    SingleChoiceQuestion,
    TextQuestion,
    in_number_domain,
    integer_points,
    parse_iso_date,
)
from feedback.surveys.show_if import visible_keys
from feedback.translations import translate
from feedback.validation import safe_text


class AnswerValue(NamedTuple):
    """One stored value of one answered question.

    Numbers and scale points go in `value_num`, a chosen option in `option_key`, text in
    `value_text`. A multi-choice answer gives one row per chosen option; `first` is true on
    exactly one row per answered question, so SUM(first) counts the respondents who answered.
    (A named tuple: ten or more are made per submission, and a frozen dataclass costs three
    times as much to create.)
    """

    question_key: str
    value_num: float | None
    option_key: str | None
    value_text: str | None
    first: bool


def validate_answers(
    definition: Definition, answers: object, *, at: str = "/answers", locale: str | None = None
) -> list[FieldError]:
    """Every problem with `answers` (a `{question key: answer}` object), each at its pointer,
    its message in `locale`'s language (the supporter reads it; English without a locale).

    A missing or null answer, and text that is blank, is unanswered: an error only when the
    question is required. Integer scales take whole numbers (4 or 4.0, never 3.5 or true).
    A question hidden by its `show_if` is never required, and an answer to it is refused.
    """
    return _check(definition, answers, at, None, locale)


def normalise_answers(
    definition: Definition, answers: Mapping[str, Any], locale: str | None = None
) -> list[AnswerValue]:
    """The rows to store for valid `answers`, in question order; `Invalid` with every problem
    (as `validate_answers` reports them) otherwise."""
    rows: list[AnswerValue] = []
    errors = _check(definition, answers, "/answers", rows, locale)
    if errors:
        raise Invalid(errors, "The answers are invalid.")
    return rows


def _check(
    definition: Definition,
    answers: object,
    at: str,
    rows: list[AnswerValue] | None,
    locale: str | None,
) -> list[FieldError]:
    """The problems with `answers`; with `rows`, also appends the rows valid answers store.

    One pass for both, as this runs for every submission and every imported line: the valid
    path does a lookup and a comparison per answer, and pointers and messages are built for
    errors only.
    """
    if not isinstance(answers, dict):
        return [
            FieldError(at, translate(locale, "must be an object mapping question keys to answers"))
        ]
    errors = [
        FieldError(at + pointer(str(key)), translate(locale, "is not a question of this version"))
        for key in answers
        if definition.question(str(key)) is None
    ]
    shown = set(visible_keys(definition.questions, answers)) if definition.has_conditions else None
    for question in definition.questions:
        value = answers.get(question.key)
        if shown is not None and question.key not in shown:
            if not _unanswered(question, value):
                errors.append(FieldError(at + pointer(question.key), translate(locale, HIDDEN)))
            continue
        if _unanswered(question, value):
            if question.required:
                errors.append(
                    FieldError(at + pointer(question.key), translate(locale, "is required"))
                )
            continue
        problems = _answer_errors(question, value, locale)
        if problems:
            here = at + pointer(question.key)
            errors += [FieldError(here + suffix, message) for suffix, message in problems]
        elif rows is not None and not errors:
            rows += _rows(question, value)
    return errors


HIDDEN = "must be left unanswered: the question is not asked after the answers before it"


def _rows(question: Question, value: Any) -> list[AnswerValue]:
    key = question.key
    if isinstance(question, MultiChoiceQuestion):
        if not value:
            return [AnswerValue(key, None, None, None, True)]
        return [AnswerValue(key, None, o, None, i == 0) for i, o in enumerate(value)]
    if isinstance(question, SingleChoiceQuestion):
        return [AnswerValue(key, None, value, None, True)]
    if isinstance(question, TextQuestion | DateQuestion):
        return [AnswerValue(key, None, None, value, True)]
    if isinstance(question, NumberQuestion):
        stored = in_number_domain(float(value))
        assert stored is not None  # checked by _number_errors
        return [AnswerValue(key, stored, None, None, True)]
    return [AnswerValue(key, float(value), None, None, True)]


def _unanswered(question: Question, value: object) -> bool:
    if value is None:
        return True
    return isinstance(question, TextQuestion) and isinstance(value, str) and not value.strip()


# A problem found in one answer: the pointer below the answer's own ("" or "/2") and a message.
Problem = tuple[str, str]


def _answer_errors(question: Question, value: object, locale: str | None) -> list[Problem]:
    points = integer_points(question)
    if points is not None:
        number = _whole_number(value)
        if number is None or number not in points:
            lo, hi = points.start, points.stop - 1
            return [
                ("", translate(locale, "must be an integer from {min} to {max}", min=lo, max=hi))
            ]
        return []
    if isinstance(question, NumberQuestion):
        return _number_errors(question, value, locale)
    if isinstance(question, SingleChoiceQuestion):
        if not isinstance(value, str) or value not in question.option_keys:
            return [("", _one_of(question, locale))]
        return []
    if isinstance(question, MultiChoiceQuestion):
        return _choices_errors(question, value, locale)
    if isinstance(question, DateQuestion):
        return _date_errors(question, value, locale)
    assert isinstance(question, TextQuestion)
    if not isinstance(value, str):
        return [("", translate(locale, "must be a string"))]
    if len(value) > question.max_length:
        n = question.max_length
        return [("", translate(locale, "must be at most {n} characters", n=n))]
    if not safe_text(value):
        return [("", translate(locale, "must not contain NUL characters or unpaired surrogates"))]
    return []


def _date_errors(question: DateQuestion, value: object, locale: str | None) -> list[Problem]:
    if not isinstance(value, str) or parse_iso_date(value) is None:
        return [("", translate(locale, "must be a date written YYYY-MM-DD, such as 2025-01-31"))]
    if question.min is not None and value < question.min:
        return [("", translate(locale, "must be on or after {date}", date=question.min))]
    if question.max is not None and value > question.max:
        return [("", translate(locale, "must be on or before {date}", date=question.max))]
    return []


def _one_of(question: SingleChoiceQuestion | MultiChoiceQuestion, locale: str | None) -> str:
    options = ", ".join(o.key for o in question.options)
    return translate(locale, "must be one of: {options}", options=options)


def _whole_number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _number_errors(question: NumberQuestion, value: object, locale: str | None) -> list[Problem]:
    lo = -NUMBER_LIMIT if question.min is None else question.min
    hi = NUMBER_LIMIT if question.max is None else question.max
    # Range first: it rejects NaN and infinities, and integers too large for a float.
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and lo <= value <= hi
        and (not question.integer or float(value).is_integer())
    ):
        if in_number_domain(float(value)) is not None:
            return []
        return [("", translate(locale, "must have at most {n} decimal places", n=NUMBER_DECIMALS))]
    low, high = _number_text(lo), _number_text(hi)
    if question.integer:
        return [
            ("", translate(locale, "must be an integer from {min} to {max}", min=low, max=high))
        ]
    return [("", translate(locale, "must be a number from {min} to {max}", min=low, max=high))]


def _number_text(number: float) -> str:
    return str(number) if isinstance(number, int) else f"{number:.15g}"


def _choices_errors(
    question: MultiChoiceQuestion, value: object, locale: str | None
) -> list[Problem]:
    if not isinstance(value, list):
        return [("", translate(locale, "must be an array of option keys"))]
    keys = question.option_keys
    errors: list[Problem] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        if not isinstance(item, str) or item not in keys:
            errors.append((pointer(i), _one_of(question, locale)))
        elif item in seen:
            errors.append((pointer(i), translate(locale, "is already chosen")))
        else:
            seen.add(item)
    if question.max_choices is not None and len(value) > question.max_choices:
        n = question.max_choices
        errors.append(("", translate(locale, "must have at most {n} choices", n=n)))
    if question.required and not value:
        errors.append(("", translate(locale, "is required: choose at least one option")))
    return errors
