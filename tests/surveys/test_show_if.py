"""Skip logic in the domain: conditions validated at their pointers, evaluated in question order,
enforced by the answer check, and reported as a breaking change on publish."""

from __future__ import annotations

from typing import Any

import pytest

from feedback.errors import FieldError, Invalid
from feedback.surveys.answers import HIDDEN, normalise_answers, validate_answers
from feedback.surveys.changes import QuestionChange, diff_definitions
from feedback.surveys.definition import Definition, parse_definition
from feedback.surveys.settings import parse_settings, public_question_errors
from feedback.surveys.show_if import visible_keys
from tests.builders.skip_logic import nps, why_not

QUESTIONS: list[dict[str, Any]] = [
    nps(),
    why_not(),
    {
        "key": "topics",
        "type": "multi_choice",
        "label": "Topics",
        "options": [{"key": "climate", "label": "Climate"}, {"key": "housing", "label": "Housing"}],
    },
    {
        "key": "climate_how",
        "type": "single_choice",
        "label": "How?",
        "options": [
            {"key": "local", "label": "Locally"},
            {"key": "national", "label": "Nationally"},
        ],
        "show_if": {
            "all": [
                {"question": "topics", "equals": "climate"},
                {
                    "any": [
                        {"question": "nps", "in": [9, 10]},
                        {"question": "why_not", "answered": True},
                    ]
                },
            ]
        },
    },
    {
        "key": "since",
        "type": "date",
        "label": "Member since",
        "min": "1990-01-01",
        "show_if": {"question": "climate_how", "answered": True},
    },
    {
        "key": "event",
        "type": "text",
        "label": "Which event?",
        "show_if": {"question": "since", "at_least": "2024-01-01"},
    },
]


def definition(questions: list[dict[str, Any]] = QUESTIONS) -> Definition:
    return parse_definition({"questions": questions}, locales=[], default_locale="en")


def problems(show_if: object, before: list[dict[str, Any]] = QUESTIONS) -> list[FieldError]:
    question = {"key": "late", "type": "text", "label": "Late", "show_if": show_if}
    with pytest.raises(Invalid) as caught:
        definition([*before, question])
    return caught.value.errors


AT = f"/definition/questions/{len(QUESTIONS)}/show_if"


@pytest.mark.parametrize(
    ("show_if", "pointer", "message"),
    [
        ({"question": "later", "equals": 1}, "/question", "must be the key of an earlier question"),
        ({"question": "nps", "equals": 11}, "/equals", "must be an integer from 0 to 10"),
        ({"question": "nps", "equals": "9"}, "/equals", "must be an integer from 0 to 10"),
        ({"question": "nps", "in": [1, True]}, "/in/1", "must be a number or a string"),
        ({"question": "nps", "in": []}, "/in", "must have at least 1 items"),
        (
            {"question": "topics", "in": ["climate", "x"]},
            "/in/1",
            "must be one of: climate, housing",
        ),
        (
            {"question": "topics", "at_least": 1},
            "/at_least",
            "cannot compare the answers of a multi_choice question",
        ),
        ({"question": "nps", "at_most": "6"}, "/at_most", "must be a number (question 'nps')"),
        (
            {"question": "since", "at_least": "2024-02-30"},
            "/at_least",
            "must be an ISO date such as 2025-01-31",
        ),
        (
            {"question": "why_not", "equals": "x"},
            "/equals",
            "cannot compare free text; use `answered`",
        ),
        ({"question": "nps", "answered": "yes"}, "/answered", "must be true or false"),
        (
            {"question": "nps"},
            "",
            "must be an object with one of: all, any, equals, in, at_least, at_most, answered",
        ),
        ({"all": []}, "/all", "must have at least 1 items"),
        (
            {"any": [{"question": "nps", "equals": 1, "x": 2}]},
            "/any/0/x",
            "is not a recognised field",
        ),
        (
            {"all": [{"any": [{"question": "nope", "answered": True}]}]},
            "/all/0/any/0/question",
            "must be the key of an earlier question",
        ),
    ],
)
def test_a_condition_is_checked_at_its_pointer(show_if: object, pointer: str, message: str) -> None:
    assert problems(show_if) == [FieldError(AT + pointer, message)]


def test_a_condition_may_not_refer_to_its_own_question() -> None:
    errors = problems({"question": "late", "answered": True})
    assert errors == [FieldError(AT + "/question", "must be the key of an earlier question")]


def test_nesting_is_bounded() -> None:
    condition: dict[str, Any] = {"question": "nps", "answered": True}
    for _ in range(5):
        condition = {"all": [condition]}
    assert problems(condition) == [FieldError(AT, "must nest all/any at most 4 deep")]


def test_the_definition_round_trips_with_in_spelled_in() -> None:
    stored = definition().to_json()
    assert stored["questions"][3]["show_if"]["all"][1]["any"][0] == {
        "question": "nps",
        "in": [9, 10],
    }
    assert Definition.model_validate(stored) == definition()


@pytest.mark.parametrize(
    ("answers", "shown"),
    [
        ({"nps": 10}, ["nps", "topics"]),
        ({"nps": 3}, ["nps", "why_not", "topics"]),
        ({"nps": 10, "topics": ["housing", "climate"]}, ["nps", "topics", "climate_how"]),
        # why_not is hidden for a 10, so its (refused) answer does not show climate_how
        ({"nps": 8, "why_not": "x", "topics": ["climate"]}, ["nps", "topics"]),
        ({"nps": 5, "why_not": "  ", "topics": ["climate"]}, ["nps", "why_not", "topics"]),
        (
            {"nps": 9, "topics": ["climate"], "climate_how": "local", "since": "2024-01-01"},
            ["nps", "topics", "climate_how", "since", "event"],
        ),
        (
            {"nps": 9, "topics": ["climate"], "climate_how": "local", "since": "2023-12-31"},
            ["nps", "topics", "climate_how", "since"],
        ),
        # types are strict: the text "3" is no scale point, true is no 1
        ({"nps": "3"}, ["nps", "topics"]),
        ({"nps": True}, ["nps", "topics"]),
        ({"nps": 6.0}, ["nps", "why_not", "topics"]),
    ],
)
def test_visible_keys(answers: dict[str, Any], shown: list[str]) -> None:
    assert visible_keys(definition().questions, answers) == shown


def test_a_hidden_question_is_not_required_and_an_answer_to_it_is_refused() -> None:
    pulse = definition()
    assert validate_answers(pulse, {"nps": 9}) == []
    assert validate_answers(pulse, {"nps": 2}) == [FieldError("/answers/why_not", "is required")]
    assert validate_answers(pulse, {"nps": 9, "why_not": "fine", "since": "2020-01-01"}) == [
        FieldError("/answers/why_not", HIDDEN),
        FieldError("/answers/since", HIDDEN),
    ]
    # blank text and null are no answer, so nothing to refuse
    assert validate_answers(pulse, {"nps": 9, "why_not": " ", "since": None}) == []


def test_shown_questions_store_their_rows_and_dates_are_text() -> None:
    answers = {"nps": 9, "topics": ["climate"], "climate_how": "local", "since": "2024-03-01"}
    rows = normalise_answers(definition(), answers)
    assert [(r.question_key, r.value_text) for r in rows if r.value_text] == [
        ("since", "2024-03-01")
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2024-02-30", "must be a date written YYYY-MM-DD, such as 2025-01-31"),
        ("2024-3-1", "must be a date written YYYY-MM-DD, such as 2025-01-31"),
        (20240301, "must be a date written YYYY-MM-DD, such as 2025-01-31"),
        ("1989-12-31", "must be on or after 1990-01-01"),
    ],
)
def test_date_answers(value: object, message: str) -> None:
    answers = {"nps": 9, "topics": ["climate"], "climate_how": "local", "since": value}
    assert validate_answers(definition(), answers) == [FieldError("/answers/since", message)]


def test_date_bounds_are_dates_in_order() -> None:
    def errors(**bounds: object) -> list[FieldError]:
        with pytest.raises(Invalid) as caught:
            definition([{"key": "d", "type": "date", "label": "D", **bounds}])
        return caught.value.errors

    assert errors(min="2025-13-01") == [
        FieldError("/definition/questions/0/min", "must be an ISO date such as 2025-01-31")
    ]
    assert errors(min="2025-02-01", max="2025-01-31") == [
        FieldError("/definition/questions/0/max", "must be on or after min (2025-02-01)")
    ]
    # the leap day exists in 2024 only
    definition([{"key": "d", "type": "date", "label": "D", "min": "2024-02-29"}])


def test_a_changed_condition_breaks_the_series() -> None:
    before = definition()
    questions = [dict(q) for q in QUESTIONS]
    questions[1]["show_if"] = {"question": "nps", "at_most": 5}
    del questions[4]["show_if"]
    questions[2]["show_if"] = {"question": "nps", "answered": True}
    changes = diff_definitions(before, definition(questions))
    assert changes == [
        QuestionChange("why_not", "show_if_changed", True, "show_if changed"),
        QuestionChange("topics", "show_if_changed", True, "now asked only when its show_if holds"),
        QuestionChange("since", "show_if_changed", True, "now asked of everyone (show_if removed)"),
    ]
    assert diff_definitions(before, definition()) == []


def test_a_date_question_is_never_public() -> None:
    settings = parse_settings({"public_questions": ["nps", "since"]})
    assert public_question_errors(settings, [definition()]) == [
        FieldError(
            "/settings/public_questions/1", "is a date question: it has no results to publish"
        )
    ]
