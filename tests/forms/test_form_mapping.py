"""What a plain HTML form POST means as an answers object."""

from __future__ import annotations

from feedback.api.form_view import answer_key, answers_from_form, parse_number
from feedback.surveys.definition import Definition
from tests.builders.surveys import pulse_definition


def test_form_fields_become_typed_answers() -> None:
    definition = Definition.model_validate(pulse_definition())
    form = {
        "trust": ["4"],
        "nps": ["0"],
        "priority": ["housing"],
        "actions": ["petition", "donate"],
        "hours": ["2.5"],
        "comment": ["  two\nlines  "],
        "_version": ["1"],
        "unknown": ["x"],
    }
    assert answers_from_form(definition, form) == {
        "trust": 4,
        "nps": 0,
        "priority": "housing",
        "actions": ["petition", "donate"],
        "hours": 2.5,
        "comment": "  two\nlines  ",
    }


def test_blank_fields_are_unanswered_and_bad_numbers_pass_through() -> None:
    definition = Definition.model_validate(pulse_definition())
    form = {"trust": [""], "actions": [], "hours": ["a lot"], "comment": ["   "]}
    # The validator, not the mapping, says what is wrong with "a lot".
    assert answers_from_form(definition, form) == {"hours": "a lot"}


def test_numbers_as_people_type_them() -> None:
    assert parse_number("4") == 4 and isinstance(parse_number("4"), int)
    assert parse_number(" 2,5 ") == 2.5
    assert parse_number("-1e3") == -1000.0
    assert parse_number(".5") == 0.5
    for raw in ("four", "1e999", "1" * 400, "1.2.3", "0x10", "nan", "inf"):
        assert parse_number(raw) == raw


def test_answer_pointers_name_their_question() -> None:
    assert answer_key("/answers/actions/1") == "actions"
    assert answer_key("/answers/trust") == "trust"
    assert answer_key("/version") is None
    assert answer_key("/answers") is None
