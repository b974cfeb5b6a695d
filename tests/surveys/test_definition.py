"""Survey definitions: every rejection rule, each reported at its JSON pointer; localisation."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from feedback.errors import FieldError, Invalid
from feedback.responses.imports import RESERVED_COLUMNS
from feedback.responses.service import WIDE_FIXED_COLUMNS
from feedback.surveys.definition import (
    QUESTION_TYPES,
    RESERVED_KEYS,
    Definition,
    LikertQuestion,
    MultiChoiceQuestion,
    NpsQuestion,
    Option,
    Scale,
    SingleChoiceQuestion,
    choose_locale,
    integer_points,
    label_text,
    localise_definition,
    localise_question,
    match_locale,
    parse_definition,
)
from feedback.validation import UNSAFE_TEXT

# The definition of docs/http-api.md, "Surveys, versions, waves", with its elided parts filled in.
API_EXAMPLE: dict[str, Any] = {
    "questions": [
        {
            "key": "trust",
            "type": "likert",
            "label": {"en": "I trust the organisation to act on my views", "hi": "मुझे भरोसा है"},
            "required": True,
            "scale": {
                "min": 1,
                "max": 5,
                "labels": {"1": "Strongly disagree", "5": "Strongly agree"},
            },
        },
        {"key": "nps", "type": "nps", "label": "How likely are you to recommend us to a friend?"},
        {
            "key": "priority",
            "type": "single_choice",
            "label": "Which issue matters most to you?",
            "options": [
                {"key": "climate", "label": "Climate"},
                {"key": "housing", "label": "Housing"},
            ],
        },
        {
            "key": "actions",
            "type": "multi_choice",
            "label": "What did you do this month?",
            "options": [
                {"key": "petition", "label": "Signed a petition"},
                {"key": "march", "label": "Joined a march"},
                {"key": "donate", "label": "Donated"},
            ],
            "max_choices": 3,
        },
        {"key": "hours", "type": "number", "label": "Hours volunteered", "min": 0, "max": 168},
        {"key": "comment", "type": "text", "label": "Anything else?", "max_length": 2000},
    ]
}


def parse(data: object, locales: tuple[str, ...] = ("hi",), default: str = "en") -> Definition:
    return parse_definition(data, locales=locales, default_locale=default)


def problems(
    data: object, locales: tuple[str, ...] = ("hi",), default: str = "en"
) -> set[tuple[str, str]]:
    with pytest.raises(Invalid) as caught:
        parse(data, locales, default)
    assert all(isinstance(e, FieldError) for e in caught.value.errors)
    return {(e.pointer, e.message) for e in caught.value.errors}


def pointers(data: object, locales: tuple[str, ...] = ("hi",), default: str = "en") -> set[str]:
    return {p for p, _ in problems(data, locales, default)}


def with_question(question: object) -> dict[str, Any]:
    """The API example plus `question` as question 6."""
    data = copy.deepcopy(API_EXAMPLE)
    data["questions"].append(question)
    return data


def test_the_api_example_parses_and_round_trips() -> None:
    definition = parse(API_EXAMPLE)
    assert definition.keys() == ["trust", "nps", "priority", "actions", "hours", "comment"]
    trust = definition.question("trust")
    assert isinstance(trust, LikertQuestion)
    assert trust.required and trust.scale.points() == range(1, 6)
    assert definition.question("absent") is None
    stored = definition.to_json()
    assert "description" not in stored["questions"][0]  # absent optionals are left out
    assert stored["questions"][4]["min"] == 0 and isinstance(stored["questions"][4]["min"], int)
    assert parse(stored) == definition
    assert Definition.model_validate(stored) == definition


def test_defaults() -> None:
    definition = parse({"questions": [{"key": "c", "type": "text", "label": "Say"}]})
    (question,) = definition.questions
    assert question.model_dump() == {
        "key": "c",
        "type": "text",
        "label": "Say",
        "description": None,
        "hint": None,
        "required": False,
        "breaks_series": False,
        "show_if": None,
        "max_length": 2000,
    }


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], {("/definition", "must be an object with a `questions` array")}),
        ({}, {("/definition/questions", "is required")}),
        ({"questions": {}}, {("/definition/questions", "must be an array of questions")}),
        ({"questions": []}, {("/definition/questions", "must have at least one question")}),
        (
            {"questions": [{"key": "a", "type": "text", "label": "A"}], "title": "x"},
            {("/definition/title", "is not a recognised field")},
        ),
    ],
)
def test_the_document_itself(data: object, expected: set[tuple[str, str]]) -> None:
    assert problems(data) == expected


def test_too_many_questions() -> None:
    many = [{"key": f"q{i}", "type": "text", "label": "x"} for i in range(501)]
    assert problems({"questions": many}) == {
        ("/definition/questions", "must have at most 500 questions")
    }


def test_pointers_start_where_the_caller_says() -> None:
    data = with_question({"key": "x", "type": "nps"})
    with pytest.raises(Invalid) as caught:
        parse_definition(data, locales=("hi",), default_locale="en", at="/draft/definition")
    assert [e.pointer for e in caught.value.errors] == ["/draft/definition/questions/6/label"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (5, {("/definition/questions/6", "must be an object")}),
        (
            {"key": "x", "type": "slider", "label": "X"},
            {("/definition/questions/6/type", "must be one of: " + ", ".join(QUESTION_TYPES))},
        ),
        ({"key": "x", "label": "X"}, {("/definition/questions/6/type", "is required")}),
        (
            {"type": "text"},
            {
                ("/definition/questions/6/key", "is required"),
                ("/definition/questions/6/label", "is required"),
            },
        ),
        (
            {"key": "x", "type": "text", "label": "X", "scale": {"min": 1, "max": 5}},
            {("/definition/questions/6/scale", "is not a recognised field")},
        ),
        (
            {"key": "x", "type": "text", "label": "X", "required": "yes", "breaks_series": 1},
            {
                ("/definition/questions/6/required", "must be true or false"),
                ("/definition/questions/6/breaks_series", "must be true or false"),
            },
        ),
        (
            {"key": "x", "type": "text", "label": 5},
            {
                (
                    "/definition/questions/6/label",
                    "must be a string or an object mapping locale codes to strings",
                )
            },
        ),
        (
            {"key": "x", "type": "text", "label": {"en": "X", "hi": 5}},
            {
                (
                    "/definition/questions/6/label",
                    "must be a string or an object mapping locale codes to strings",
                )
            },
        ),
        (
            {"key": "x", "type": "text", "label": "X", "max_length": "long"},
            {("/definition/questions/6/max_length", "must be an integer")},
        ),
    ],
)
def test_question_shape(question: object, expected: set[tuple[str, str]]) -> None:
    assert problems(with_question(question)) == expected


@pytest.mark.parametrize("key", ["Trust", "1st", "_x", "a-b", "a b", "", "é", "a" * 64, "trust\n"])
def test_bad_key_syntax(key: str) -> None:
    found = problems(with_question({"key": key, "type": "text", "label": "X"}))
    assert found == {
        (
            "/definition/questions/6/key",
            "must be a lowercase letter followed by up to 62 lowercase letters, digits or "
            "underscores",
        )
    }


@pytest.mark.parametrize("key", sorted(RESERVED_KEYS))
def test_the_exports_own_columns_are_no_question_keys(key: str) -> None:
    # A question `channel` would be a second `channel` column in the wide export, which then
    # could not be imported again, and a CSV import would read its answers as the channel.
    found = problems(with_question({"key": key, "type": "text", "label": "X"}))
    assert found == {
        (
            "/definition/questions/6/key",
            "is the name of a column of the exports and imports; choose another key",
        )
    }


def test_the_reserved_keys_are_the_exports_and_imports_columns() -> None:
    assert set(WIDE_FIXED_COLUMNS) | RESERVED_COLUMNS == RESERVED_KEYS


def test_question_types_are_the_contracts() -> None:
    assert QUESTION_TYPES == (
        "likert",
        "rating",
        "nps",
        "single_choice",
        "multi_choice",
        "number",
        "text",
        "date",
    )


@pytest.mark.parametrize("key", ["a", "a" * 63, "q1_b2", "z_"])
def test_good_keys(key: str) -> None:
    parse(with_question({"key": key, "type": "text", "label": "X"}))


def test_duplicate_question_keys_are_reported_even_beside_other_problems() -> None:
    data = with_question({"key": "trust", "type": "bogus"})
    data["questions"].append({"key": "trust", "type": "text", "label": "Again"})
    assert problems(data) >= {
        ("/definition/questions/6/key", "duplicates the key of question 0"),
        ("/definition/questions/7/key", "duplicates the key of question 0"),
    }


@pytest.mark.parametrize(
    ("scale", "expected"),
    [
        ({"min": 5, "max": 5}, {("scale/max", "must be greater than min (5)")}),
        ({"min": 7, "max": 1}, {("scale/max", "must be greater than min (7)")}),
        ({"min": 0, "max": 101}, {("scale/max", "a scale has at most 101 points")}),
        (
            {"min": -2000, "max": 1},
            {("scale/min", "must be from -1000 to 1000")},
        ),
        ({"min": 1, "max": 5.5}, {("scale/max", "must be an integer")}),
        ({"min": True, "max": 5}, {("scale/min", "must be an integer")}),
        ({"min": 1}, {("scale/max", "is required")}),
        (
            {"min": 1, "max": 5, "labels": {"6": "Too far", "0": "Too low"}},
            {
                ("scale/labels/6", "is not a point of the scale 1..5"),
                ("scale/labels/0", "is not a point of the scale 1..5"),
            },
        ),
        (
            {"min": 1, "max": 5, "labels": {"01": "Padded", "x": "Word", "+2": "Signed"}},
            {
                ("scale/labels/01", "is not a point of the scale 1..5"),
                ("scale/labels/x", "is not a point of the scale 1..5"),
                ("scale/labels/+2", "is not a point of the scale 1..5"),
            },
        ),
        ({"min": 1, "max": 5, "labels": {"3": " "}}, {("scale/labels/3", "must not be empty")}),
    ],
)
@pytest.mark.parametrize("kind", ["likert", "rating"])
def test_scale_rules(kind: str, scale: dict[str, Any], expected: set[tuple[str, str]]) -> None:
    found = problems(with_question({"key": "s", "type": kind, "label": "S", "scale": scale}))
    assert found == {(f"/definition/questions/6/{p}", m) for p, m in expected}


def test_negative_scales_and_their_labels_are_fine() -> None:
    question = {
        "key": "s",
        "type": "rating",
        "label": "S",
        "scale": {"min": -2, "max": 2, "labels": {"-2": "Much worse", "0": "Same"}},
    }
    parsed = parse(with_question(question)).questions[6]
    assert integer_points(parsed) == range(-2, 3)


def test_nps_point_labels() -> None:
    good = {"key": "n", "type": "nps", "label": "N", "labels": {"0": "Never", "10": "Surely"}}
    assert integer_points(parse(with_question(good)).questions[6]) == range(0, 11)
    bad = {"key": "n", "type": "nps", "label": "N", "labels": {"11": "Over", "-1": "Under"}}
    assert problems(with_question(bad)) == {
        ("/definition/questions/6/labels/11", "is not a point of the scale 0..10"),
        ("/definition/questions/6/labels/-1", "is not a point of the scale 0..10"),
    }
    # Point 0 is written "0": the form looks its label up so, and would never show "-0"'s.
    zero = {"key": "n", "type": "nps", "label": "N", "labels": {"-0": "Never", "0": "Not at all"}}
    assert problems(with_question(zero)) == {
        ("/definition/questions/6/labels/-0", "is not a point of the scale 0..10"),
    }


def choice(kind: str, options: list[Any], **extra: Any) -> dict[str, Any]:
    return {"key": "c", "type": kind, "label": "C", "options": options, **extra}


A, B, C = ({"key": k, "label": k.upper()} for k in "abc")


@pytest.mark.parametrize("kind", ["single_choice", "multi_choice"])
def test_choice_rules(kind: str) -> None:
    at = "/definition/questions/6"
    assert problems(with_question({"key": "c", "type": kind, "label": "C"})) == {
        (f"{at}/options", "is required")
    }
    assert problems(with_question(choice(kind, []))) == {
        (f"{at}/options", "must have at least 2 options")
    }
    assert problems(with_question(choice(kind, [A]))) == {
        (f"{at}/options", "must have at least 2 options")
    }
    many = [{"key": f"o{i}", "label": "x"} for i in range(201)]
    assert problems(with_question(choice(kind, many))) == {
        (f"{at}/options", "must have at most 200 options")
    }
    assert problems(with_question(choice(kind, [A, B, {"key": "a", "label": "Again"}]))) == {
        (f"{at}/options/2/key", "duplicates the key of option 0")
    }
    assert pointers(with_question(choice(kind, [A, {"key": "B", "label": "b"}]))) == {
        f"{at}/options/1/key"
    }
    assert problems(with_question(choice(kind, [A, {"key": "b"}]))) == {
        (f"{at}/options/1/label", "is required")
    }
    assert problems(with_question(choice(kind, [A, {"key": "b", "label": ""}]))) == {
        (f"{at}/options/1/label", "must not be empty")
    }
    assert problems(with_question(choice(kind, [A, B, "c"]))) == {
        (f"{at}/options/2", "must be an object")
    }


@pytest.mark.parametrize(
    ("max_choices", "message"),
    [(0, "must be from 1 to 3 (the options)"), (4, "must be from 1 to 3 (the options)")],
)
def test_max_choices_out_of_range(max_choices: int, message: str) -> None:
    data = with_question(choice("multi_choice", [A, B, C], max_choices=max_choices))
    assert problems(data) == {("/definition/questions/6/max_choices", message)}


def test_max_choices_in_range_and_only_on_multi_choice() -> None:
    for n in (1, 2, 3):
        parsed = parse(with_question(choice("multi_choice", [A, B, C], max_choices=n)))
        assert isinstance(parsed.questions[6], MultiChoiceQuestion)
    assert problems(with_question(choice("single_choice", [A, B], max_choices=1))) == {
        ("/definition/questions/6/max_choices", "is not a recognised field")
    }


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ({"min": 10, "max": 1}, {("max", "must be at least min (10)")}),
        ({"min": 0.5, "integer": True}, {("min", "must be a whole number, as `integer` is true")}),
        ({"min": 1e16}, {("min", "must be from -1e+15 to 1e+15 with at most 6 decimal places")}),
        ({"min": 1e-170}, {("min", "must be from -1e+15 to 1e+15 with at most 6 decimal places")}),
        (
            {"max": 0.1234567},
            {("max", "must be from -1e+15 to 1e+15 with at most 6 decimal places")},
        ),
        ({"min": True}, {("min", "must be a number")}),
        ({"max": "168"}, {("max", "must be a number")}),
        ({"integer": "yes"}, {("integer", "must be true or false")}),
    ],
)
def test_number_rules(bounds: dict[str, Any], expected: set[tuple[str, str]]) -> None:
    found = problems(with_question({"key": "n", "type": "number", "label": "N", **bounds}))
    assert found == {(f"/definition/questions/6/{p}", m) for p, m in expected}


def test_number_bounds_may_be_equal_or_absent() -> None:
    parse(with_question({"key": "n", "type": "number", "label": "N", "min": 2, "max": 2}))
    parse(with_question({"key": "n", "type": "number", "label": "N", "max": 2.5}))
    parse(with_question({"key": "n", "type": "number", "label": "N", "min": 1.0, "integer": True}))


@pytest.mark.parametrize("max_length", [0, 10_001, -5])
def test_text_max_length_bounds(max_length: int) -> None:
    data = with_question({"key": "t", "type": "text", "label": "T", "max_length": max_length})
    assert problems(data) == {("/definition/questions/6/max_length", "must be from 1 to 10000")}


def test_text_max_length_hard_cap_itself_is_allowed() -> None:
    parse(with_question({"key": "t", "type": "text", "label": "T", "max_length": 10_000}))


def test_label_maps_must_hold_exactly_the_declared_locales() -> None:
    data = with_question({"key": "t", "type": "text", "label": {"en": "Say", "fr": "Dis"}})
    assert problems(data) == {
        ("/definition/questions/6/label/hi", "is required: the survey declares locale 'hi'"),
        ("/definition/questions/6/label/fr", "is not a locale of this survey (declared: en, hi)"),
    }


def test_the_default_locale_counts_as_declared_even_when_not_listed() -> None:
    data = {"questions": [{"key": "t", "type": "text", "label": {"hi": "कहो"}}]}
    assert problems(data, locales=("hi",), default="en") == {
        ("/definition/questions/0/label/en", "is required: the survey declares locale 'en'")
    }
    parse({"questions": [{"key": "t", "type": "text", "label": {"en": "Say"}}]}, locales=())


def test_plain_string_labels_serve_every_locale() -> None:
    parse({"questions": [{"key": "t", "type": "text", "label": "Say"}]}, locales=("hi", "fr"))


@pytest.mark.parametrize("label", ["👩\u200d💻", "\u200fשלום", "\u0301", "x\u200b"])
def test_a_label_with_anything_visible_is_a_label(label: str) -> None:
    parse(with_question({"key": "t", "type": "text", "label": label}), ("hi",))


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("", {("label", "must not be empty")}),
        ("   \n", {("label", "must not be empty")}),
        ({}, {("label", "must not be empty")}),
        ({"en": "Say", "hi": " "}, {("label/hi", "must not be empty")}),
        # Nothing a supporter would see: zero-width spaces, a direction mark, no-break spaces,
        # a private-use code point.
        ("\u200b\u200b", {("label", "must not be empty")}),
        ("\u200f\u00a0\u3000", {("label", "must not be empty")}),
        ("\ue000", {("label", "must not be empty")}),
        ("x" * 2001, {("label", "must be at most 2000 characters")}),
        ("nul\x00", {("label", UNSAFE_TEXT)}),
        ("lone \udc00", {("label", UNSAFE_TEXT)}),
    ],
)
def test_label_text_rules(label: object, expected: set[tuple[str, str]]) -> None:
    found = problems(with_question({"key": "t", "type": "text", "label": label}))
    assert found == {(f"/definition/questions/6/{p}", m) for p, m in expected}


def test_locale_rules_reach_every_text() -> None:
    question = {
        "key": "s",
        "type": "likert",
        "label": {"en": "S", "hi": "S"},
        "description": {"en": "Help"},
        "scale": {"min": 1, "max": 3, "labels": {"1": {"en": "Low", "de": "Tief"}}},
    }
    options = [{"key": "a", "label": {"en": "A"}}, {"key": "b", "label": "B"}]
    data = with_question(question)
    data["questions"].append(choice("single_choice", options) | {"key": "c2"})
    at = "/definition/questions"
    assert problems(data) == {
        (f"{at}/6/description/hi", "is required: the survey declares locale 'hi'"),
        (f"{at}/6/scale/labels/1/hi", "is required: the survey declares locale 'hi'"),
        (f"{at}/6/scale/labels/1/de", "is not a locale of this survey (declared: en, hi)"),
        (f"{at}/7/options/0/label/hi", "is required: the survey declares locale 'hi'"),
    }


def test_every_problem_of_every_question_is_reported_at_once() -> None:
    data = {
        "questions": [
            {"key": "a", "type": "likert", "label": "A", "scale": {"min": 3, "max": 1}},
            {"key": "b", "type": "number", "label": "B", "min": 5, "max": 4},
            {"key": "a", "type": "text", "label": ""},
            {"key": "c", "type": "what", "label": "C"},
        ]
    }
    assert pointers(data) == {
        "/definition/questions/0/scale/max",
        "/definition/questions/1/max",
        "/definition/questions/2/key",
        "/definition/questions/2/label",
        "/definition/questions/3/type",
    }


def test_label_text_fallback_chain() -> None:
    label = {"en": "Hello", "hi": "नमस्ते", "pt-BR": "Olá"}
    assert label_text("Plain", "hi", "en") == "Plain"
    assert label_text(label, "hi", "en") == "नमस्ते"
    assert label_text(label, "HI", "en") == "नमस्ते"  # tags match whatever their case
    assert label_text(label, "hi-IN", "en") == "नमस्ते"  # then the language alone
    assert label_text(label, "pt", "en") == "Olá"  # and a regional variant of it
    assert label_text(label, "fr", "en") == "Hello"  # else the default locale
    assert label_text(label, None, "en") == "Hello"
    assert label_text({"hi": "नमस्ते", "fr": "Salut"}, "de", "en") == "नमस्ते"  # else the first


def test_match_and_choose_locale() -> None:
    assert match_locale("en-gb", ["en-GB", "en"]) == "en-GB"
    assert match_locale("en-AU", ["fr", "en-GB"]) == "en-GB"
    assert match_locale("de", ["fr", "en"]) is None
    assert choose_locale("hi-IN", ["hi", "fr"], "en") == "hi"
    assert choose_locale("de", ["hi"], "en") == "en"
    assert choose_locale(None, ["hi"], "en") == "en"
    assert choose_locale("EN", [], "en") == "en"


def test_localise_question_resolves_every_label() -> None:
    question = LikertQuestion(
        key="trust",
        label={"en": "Trust", "hi": "भरोसा"},
        description={"en": "Be honest", "hi": "ईमानदार"},
        scale=Scale(min=1, max=5, labels={"1": {"en": "No", "hi": "नहीं"}, "5": "Yes"}),
    )
    localised = localise_question(question, "hi", "en")
    assert isinstance(localised, LikertQuestion)
    assert localised.label == "भरोसा"
    assert localised.description == "ईमानदार"
    assert localised.scale.labels == {"1": "नहीं", "5": "Yes"}
    assert localised.key == "trust" and localised.scale.points() == range(1, 6)
    assert question.label == {"en": "Trust", "hi": "भरोसा"}  # the original is untouched

    nps = localise_question(
        NpsQuestion(key="n", label="N", labels={"0": {"hi": "कभी नहीं"}}), "hi", "en"
    )
    assert isinstance(nps, NpsQuestion) and nps.labels == {"0": "कभी नहीं"}
    single = SingleChoiceQuestion(
        key="p",
        label="P",
        options=[Option(key="a", label={"en": "A", "hi": "ए"}), Option(key="b", label="B")],
    )
    localised_single = localise_question(single, "hi", "en")
    assert isinstance(localised_single, SingleChoiceQuestion)
    assert [o.label for o in localised_single.options] == ["ए", "B"]


def test_localise_definition_keeps_order_and_shape() -> None:
    definition = parse(API_EXAMPLE)
    localised = localise_definition(definition, "hi", "en")
    assert localised.keys() == definition.keys()
    assert localised.questions[0].label == "मुझे भरोसा है"
    assert all(isinstance(q.label, str) for q in localised.questions)
    assert parse(localised.to_json(), locales=()) == localised
