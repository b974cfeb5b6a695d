"""Answers: every rejection at its pointer, the stored rows, and both as Hypothesis properties
over generated definitions (valid answers pass and normalise right; each mutation of a valid
answer is reported exactly where it was made)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.errors import FieldError, Invalid
from feedback.surveys.answers import AnswerValue, normalise_answers, validate_answers
from feedback.surveys.definition import (
    Definition,
    LikertQuestion,
    MultiChoiceQuestion,
    NpsQuestion,
    NumberQuestion,
    Option,
    Question,
    RatingQuestion,
    Scale,
    SingleChoiceQuestion,
    TextQuestion,
    integer_points,
    parse_definition,
)
from feedback.validation import UNSAFE_TEXT
from tests.surveys.test_definition import API_EXAMPLE

PULSE = parse_definition(API_EXAMPLE, locales=["hi"], default_locale="en")
SUBMISSION: dict[str, Any] = {
    "trust": 4,
    "nps": 9,
    "priority": "climate",
    "actions": ["petition", "march"],
    "hours": 2.5,
    "comment": "Keep going",
}


def problems(answers: object, definition: Definition = PULSE) -> set[tuple[str, str]]:
    return {(e.pointer, e.message) for e in validate_answers(definition, answers)}


def test_the_api_example_submission() -> None:
    assert validate_answers(PULSE, SUBMISSION) == []
    assert normalise_answers(PULSE, SUBMISSION) == [
        AnswerValue("trust", 4.0, None, None, first=True),
        AnswerValue("nps", 9.0, None, None, first=True),
        AnswerValue("priority", None, "climate", None, first=True),
        AnswerValue("actions", None, "petition", None, first=True),
        AnswerValue("actions", None, "march", None, first=False),
        AnswerValue("hours", 2.5, None, None, first=True),
        AnswerValue("comment", None, None, "Keep going", first=True),
    ]


def test_skipped_and_empty_answers() -> None:
    answers: dict[str, Any] = {"trust": 3, "nps": None, "actions": [], "comment": "  "}
    assert validate_answers(PULSE, answers) == []
    assert normalise_answers(PULSE, answers) == [
        AnswerValue("trust", 3.0, None, None, first=True),
        AnswerValue("actions", None, None, None, first=True),  # answered: chose none
    ]


@pytest.mark.parametrize("answers", [[], "trust=4", None, 4])
def test_answers_must_be_an_object(answers: object) -> None:
    assert problems(answers) == {("/answers", "must be an object mapping question keys to answers")}


def test_the_pointer_root_is_the_callers() -> None:
    found = validate_answers(PULSE, {"trust": 9}, at="/lines/3/answers")
    assert found == [FieldError("/lines/3/answers/trust", "must be an integer from 1 to 5")]


def test_unknown_keys_and_required_questions() -> None:
    assert problems({"trust": 4, "mood": 3, "a/b": 1}) == {
        ("/answers/mood", "is not a question of this version"),
        ("/answers/a~1b", "is not a question of this version"),
    }
    assert problems({}) == {("/answers/trust", "is required")}
    assert problems({"trust": None}) == {("/answers/trust", "is required")}


@pytest.mark.parametrize("value", [0, 6, 3.5, True, False, "4", [4], math.inf, math.nan, None])
def test_integer_scale_rejections(value: object) -> None:
    expected = {
        ("/answers/trust", "is required" if value is None else "must be an integer from 1 to 5")
    }
    assert problems(SUBMISSION | {"trust": value}) == expected


def test_integral_floats_are_whole_numbers() -> None:
    assert problems(SUBMISSION | {"trust": 4.0, "nps": 0.0}) == set()
    rows = normalise_answers(PULSE, SUBMISSION | {"trust": 4.0})
    assert rows[0] == AnswerValue("trust", 4.0, None, None, first=True)


@pytest.mark.parametrize("value", [-1, 11, 9.5, True, "9"])
def test_nps_rejections(value: object) -> None:
    assert problems(SUBMISSION | {"nps": value}) == {
        ("/answers/nps", "must be an integer from 0 to 10")
    }


@pytest.mark.parametrize("value", [-0.5, 168.01, True, "2", [2], math.nan, math.inf, 10**400])
def test_number_rejections(value: object) -> None:
    assert problems(SUBMISSION | {"hours": value}) == {
        ("/answers/hours", "must be a number from 0 to 168")
    }


@pytest.mark.parametrize(
    ("value", "stored"),
    [(2.5, 2.5), (0.1 + 0.2, 0.3), (1e-12, 0.0), (-1e-170, 0.0), (123.456789, 123.456789)],
)
def test_numbers_are_stored_to_six_decimal_places(value: float, stored: float) -> None:
    unbounded = Definition(questions=[NumberQuestion(key="n", label="N")])
    assert normalise_answers(unbounded, {"n": value}) == [
        AnswerValue("n", stored, None, None, first=True)
    ]


@pytest.mark.parametrize("value", [1e-7, 0.1234567, 1e-3 + 1e-8, 1000.0000001])
def test_numbers_finer_than_six_decimal_places_are_refused(value: float) -> None:
    unbounded = Definition(questions=[NumberQuestion(key="n", label="N")])
    assert problems({"n": value}, unbounded) == {
        ("/answers/n", "must have at most 6 decimal places")
    }


def test_number_bounds_integers_and_the_storage_limit() -> None:
    unbounded = Definition(questions=[NumberQuestion(key="n", label="N")])
    assert problems({"n": 1e15}, unbounded) == set()
    assert problems({"n": -(10**15)}, unbounded) == set()
    assert problems({"n": 1e16}, unbounded) == {
        ("/answers/n", "must be a number from -1e+15 to 1e+15")
    }
    whole = Definition(questions=[NumberQuestion(key="n", label="N", min=1, integer=True)])
    assert problems({"n": 2.5}, whole) == {("/answers/n", "must be an integer from 1 to 1e+15")}
    assert problems({"n": 2.0}, whole) == set()
    assert normalise_answers(whole, {"n": 2}) == [AnswerValue("n", 2.0, None, None, first=True)]
    capped = Definition(questions=[NumberQuestion(key="n", label="N", max=10.5)])
    assert problems({"n": 11}, capped) == {("/answers/n", "must be a number from -1e+15 to 10.5")}


@pytest.mark.parametrize("value", ["Climate", "transport", 1, ["climate"], True])
def test_single_choice_rejections(value: object) -> None:
    assert problems(SUBMISSION | {"priority": value}) == {
        ("/answers/priority", "must be one of: climate, housing")
    }


def test_multi_choice_rejections() -> None:
    one_of = "must be one of: petition, march, donate"
    assert problems(SUBMISSION | {"actions": "march"}) == {
        ("/answers/actions", "must be an array of option keys")
    }
    assert problems(SUBMISSION | {"actions": ["march", "vote", 3]}) == {
        ("/answers/actions/1", one_of),
        ("/answers/actions/2", one_of),
    }
    assert problems(SUBMISSION | {"actions": ["march", "donate", "march"]}) == {
        ("/answers/actions/2", "is already chosen")
    }
    limited = Definition(
        questions=[
            MultiChoiceQuestion(
                key="m",
                label="M",
                required=True,
                max_choices=2,
                options=[Option(key=k, label=k) for k in "abc"],
            )
        ]
    )
    assert problems({"m": ["a", "b", "c"]}, limited) == {
        ("/answers/m", "must have at most 2 choices")
    }
    assert problems({"m": []}, limited) == {
        ("/answers/m", "is required: choose at least one option")
    }
    assert problems({}, limited) == {("/answers/m", "is required")}


def test_text_rejections() -> None:
    short = Definition(questions=[TextQuestion(key="t", label="T", max_length=5, required=True)])
    assert problems({"t": "abcdef"}, short) == {("/answers/t", "must be at most 5 characters")}
    assert problems({"t": "ab\x00"}, short) == {("/answers/t", UNSAFE_TEXT)}
    assert problems({"t": "ab\ud800"}, short) == {("/answers/t", UNSAFE_TEXT)}
    assert problems({"t": 12}, short) == {("/answers/t", "must be a string")}
    assert problems({"t": " \n"}, short) == {("/answers/t", "is required")}
    assert problems({"t": "ñáé🙂x"}, short) == set()  # characters, not bytes


def test_every_problem_is_reported_at_once() -> None:
    answers = {
        "trust": 7,
        "nps": "x",
        "priority": "z",
        "actions": ["q"],
        "hours": -1,
        "comment": 5,
        "x": 1,
    }
    assert {p for p, _ in problems(answers)} == {
        "/answers/x",
        "/answers/trust",
        "/answers/nps",
        "/answers/priority",
        "/answers/actions/0",
        "/answers/hours",
        "/answers/comment",
    }


def test_normalise_refuses_invalid_answers() -> None:
    with pytest.raises(Invalid) as caught:
        normalise_answers(PULSE, {"trust": 9})
    assert caught.value.errors == [FieldError("/answers/trust", "must be an integer from 1 to 5")]


# --- properties ---------------------------------------------------------------------------

OPTION_KEYS = ["a", "b", "c", "d", "e"]


def _options(n: int) -> list[Option]:
    return [Option(key=k, label=k.upper()) for k in OPTION_KEYS[:n]]


@st.composite
def questions(draw: st.DrawFn, key: str) -> Question:
    kind = draw(st.sampled_from(["likert", "rating", "nps", "single", "multi", "number", "text"]))
    required = draw(st.booleans())
    if kind in {"likert", "rating"}:
        bottom = draw(st.integers(-3, 3))
        scale = Scale(min=bottom, max=bottom + draw(st.integers(1, 10)))
        cls = LikertQuestion if kind == "likert" else RatingQuestion
        return cls(key=key, label=key, required=required, scale=scale)
    if kind == "nps":
        return NpsQuestion(key=key, label=key, required=required)
    if kind == "single":
        return SingleChoiceQuestion(
            key=key, label=key, required=required, options=_options(draw(st.integers(2, 5)))
        )
    if kind == "multi":
        n = draw(st.integers(2, 5))
        limit = draw(st.none() | st.integers(1, n))
        return MultiChoiceQuestion(
            key=key, label=key, required=required, options=_options(n), max_choices=limit
        )
    if kind == "number":
        integer = draw(st.booleans())
        lo: int | None = draw(st.none() | st.integers(-100, 100))
        hi: int | None = draw(st.none() | st.integers(-100, 100))
        if lo is not None and hi is not None:
            hi = lo + abs(hi) + 1
        return NumberQuestion(
            key=key, label=key, required=required, min=lo, max=hi, integer=integer
        )
    return TextQuestion(key=key, label=key, required=required, max_length=draw(st.integers(1, 40)))


@st.composite
def definitions(draw: st.DrawFn) -> Definition:
    n = draw(st.integers(1, 7))
    return Definition(questions=[draw(questions(f"q{i}")) for i in range(n)])


def _valid_value(draw: st.DrawFn, question: Question) -> object:
    points = integer_points(question)
    if points is not None:
        value = draw(st.integers(points.start, points.stop - 1))
        return float(value) if draw(st.booleans()) else value
    if isinstance(question, SingleChoiceQuestion):
        return draw(st.sampled_from([o.key for o in question.options]))
    if isinstance(question, MultiChoiceQuestion):
        keys = [o.key for o in question.options]
        limit = question.max_choices or len(keys)
        return draw(
            st.lists(
                st.sampled_from(keys), unique=True, min_size=int(question.required), max_size=limit
            )
        )
    if isinstance(question, NumberQuestion):
        lo = -1e6 if question.min is None else question.min
        hi = 1e6 if question.max is None else question.max
        if question.integer:
            return draw(st.integers(math.ceil(lo), math.floor(hi)))
        # Numbers of the stored domain: at most 6 decimal places.
        millionths = st.integers(math.ceil(lo * 1e6), math.floor(hi * 1e6))
        return draw(millionths.map(lambda m: m / 1e6) | st.integers(math.ceil(lo), math.floor(hi)))
    assert isinstance(question, TextQuestion)
    text = st.text(max_size=question.max_length).filter(lambda s: "\x00" not in s)
    return draw(text.filter(str.strip) if question.required else text)


@st.composite
def answered(draw: st.DrawFn) -> tuple[Definition, dict[str, object]]:
    definition = draw(definitions())
    answers: dict[str, object] = {}
    for question in definition.questions:
        skip = not question.required and draw(st.integers(0, 3)) == 0
        if skip:
            if draw(st.booleans()):
                answers[question.key] = None
        else:
            answers[question.key] = _valid_value(draw, question)
    return definition, answers


def expected_rows(definition: Definition, answers: dict[str, object]) -> list[AnswerValue]:
    rows = []
    for q in definition.questions:
        value = answers.get(q.key)
        if value is None or (isinstance(q, TextQuestion) and not str(value).strip()):
            continue
        if isinstance(q, MultiChoiceQuestion):
            assert isinstance(value, list)
            chosen: list[str | None] = list(value) or [None]
            rows += [AnswerValue(q.key, None, o, None, i == 0) for i, o in enumerate(chosen)]
        elif isinstance(q, SingleChoiceQuestion):
            rows.append(AnswerValue(q.key, None, str(value), None, True))
        elif isinstance(q, TextQuestion):
            rows.append(AnswerValue(q.key, None, None, str(value), True))
        else:
            assert isinstance(value, int | float)
            rows.append(AnswerValue(q.key, float(value), None, None, True))
    return rows


PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)


@PROPERTY_SETTINGS
@given(answered())
def test_valid_answers_pass_and_normalise_to_their_rows(
    case: tuple[Definition, dict[str, object]],
) -> None:
    definition, answers = case
    assert validate_answers(definition, answers) == []
    rows = normalise_answers(definition, answers)
    assert rows == expected_rows(definition, answers)
    answered_keys = {r.question_key for r in rows}
    assert sum(r.first for r in rows) == len(answered_keys)  # SUM(first) counts answers
    for row in rows:
        assert sum(x is not None for x in (row.value_num, row.option_key, row.value_text)) <= 1


UNKNOWN_KEY = object()
MISSING = object()


def _mutations(question: Question) -> list[tuple[object, str]]:
    """(bad value, pointer suffix) pairs this question must reject."""
    points = integer_points(question)
    if points is not None:
        return [
            (points.stop, ""),
            (points.start - 1, ""),
            (points.start + 0.5, ""),
            (True, ""),
            (str(points.start), ""),
        ]
    if isinstance(question, NumberQuestion):
        bad: list[tuple[object, str]] = [(False, ""), ("1", ""), ([1], "")]
        if question.max is not None:
            bad.append((question.max + 1, ""))
        if question.min is not None:
            bad.append((question.min - 0.25, ""))
        if question.integer:
            lo = question.min if question.min is not None else 0
            if question.max is None or lo + 0.5 <= question.max:
                bad.append((lo + 0.5, ""))
        return bad
    if isinstance(question, SingleChoiceQuestion):
        return [("zz", ""), (["a"], ""), (1, "")]
    if isinstance(question, MultiChoiceQuestion):
        bad = [("a", ""), (["zz"], "/0"), ([7], "/0")]
        if question.max_choices is None or question.max_choices >= 2:
            bad += [(["a", "zz"], "/1"), (["a", "a"], "/1")]
        if question.max_choices is not None and question.max_choices < len(question.options):
            bad.append(([o.key for o in question.options], ""))
        return bad
    assert isinstance(question, TextQuestion)
    return [("x" * (question.max_length + 1), ""), (3, ""), (["x"], "")]


@PROPERTY_SETTINGS
@given(answered(), st.data())
def test_each_mutation_is_reported_where_it_was_made(
    case: tuple[Definition, dict[str, object]], data: st.DataObject
) -> None:
    definition, answers = case
    question = data.draw(st.sampled_from(definition.questions))
    choices = [*_mutations(question), (UNKNOWN_KEY, "")]
    if question.required:
        choices.append((MISSING, ""))
    value, suffix = data.draw(st.sampled_from(choices))
    mutated = dict(answers)
    if value is UNKNOWN_KEY:
        mutated["zz_not_asked"] = 1
        expected = "/answers/zz_not_asked"
    elif value is MISSING:
        del mutated[question.key]
        expected = f"/answers/{question.key}"
    else:
        mutated[question.key] = value
        expected = f"/answers/{question.key}{suffix}"
    errors = validate_answers(definition, mutated)
    assert errors, f"{value!r} for {question!r} passed"
    assert {e.pointer for e in errors} == {expected}
    with pytest.raises(Invalid):
        normalise_answers(definition, mutated)
