"""XLSForms as they come from the field: an old binary .xls (tests/surveys/fixtures, written by
make_field_visit_xls.py with xlwt) and a .csv, in two languages named without codes, with
legacy type names, skip logic, numeric constraints, `${field}` labels and an invalid select."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

import pytest

from feedback.errors import Invalid
from feedback.surveys.xlsform import UnsupportedRow, parse_xlsform
from feedback.surveys.xlsform_logic import (
    Target,
    Untranslatable,
    constraint_to_range,
    relevant_to_show_if,
)
from tests.builders.xlsform import xlsform

FIELD_VISIT_XLS = Path(__file__).parent / "fixtures" / "field_visit.xls"


def test_an_old_xls_workbook_imports_with_its_logic() -> None:
    result = parse_xlsform(FIELD_VISIT_XLS.read_bytes(), "field_visit.xls")
    assert (result.title, result.default_locale, result.locales) == (
        "Field visit",
        "en",
        ["en", "fr"],
    )
    questions = {q["key"]: q for q in result.definition.to_json()["questions"]}
    assert list(questions) == [
        "consent",
        "age",
        "village",
        "visit_date",
        "crops",
        "crops_other",
        "area",
    ]
    age = questions["age"]
    assert (age["type"], age["integer"], age["min"], age["max"]) == ("number", True, 0, 120)
    assert age["required"] and age["show_if"] == {"question": "consent", "equals": "yes"}
    assert questions["village"]["type"] == "text"  # `string`
    assert questions["visit_date"]["type"] == "date"
    assert questions["crops"]["show_if"] == {"question": "age", "at_least": 18}
    assert questions["crops_other"]["show_if"] == {"question": "crops", "equals": "other"}
    assert questions["area"]["show_if"] == {"question": "crops", "answered": True}
    assert questions["consent"]["label"] == {
        "en": "Do you agree to take part?",
        "fr": "Acceptez-vous de participer ?",
    }
    assert result.unsupported == [
        UnsupportedRow(8, "area", "decimal", "imported without: constraint (regex(., '^[0-9]+$'))"),
        UnsupportedRow(
            9, "only", "select_one single", "not imported: options must have at least 2 options"
        ),
        UnsupportedRow(10, "thanks", "note", "notes (text without an answer) are not supported"),
        UnsupportedRow(
            11, "greet", "text", "its label shows earlier answers (${...}), which feedback does not"
        ),
    ]


CSV = """survey,,,,
,type,name,label,relevant
,select_one yn,member,Are you a member?,
,integer,years,For how many years?,${member} = 'y'
,text,why,Why not?,${member} = 'n' or ${years} < 1
,phone number,phone,Your phone,
choices,,,,
,list_name,name,label,
,yn,y,Yes,
,yn,n,No,
"""


def test_a_csv_workbook_imports() -> None:
    result = parse_xlsform(CSV.encode(), "members.csv")
    questions = {q["key"]: q for q in result.definition.to_json()["questions"]}
    assert list(questions) == ["member", "years", "why", "phone"]
    assert questions["why"]["show_if"] == {
        "any": [{"question": "member", "equals": "n"}, {"question": "years", "at_most": 0}]
    }
    assert questions["phone"]["type"] == "text"
    assert result.unsupported == []


def test_a_csv_saved_by_excel_with_a_byte_order_mark_imports() -> None:
    # Excel's "CSV UTF-8" starts the file with a BOM, which is no part of the first cell.
    result = parse_xlsform(codecs.BOM_UTF8 + CSV.encode(), "members.csv")
    assert result.definition.keys() == ["member", "years", "why", "phone"]
    assert result.unsupported == []


def test_a_csv_named_otherwise_or_binary_junk_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        parse_xlsform(b"\x00\x01binary", "form.csv")
    assert (
        caught.value.errors[0].message == "must be an XLSForm saved as an .xlsx, .xls or .csv file"
    )


TARGETS = {
    "age": Target("age", "number", integer=True),
    "size": Target("size", "number"),
    "yn": Target("yn", "single_choice", options={"yes": "yes", "1": "o1"}),
    "note": Target("note", "text"),
}


@pytest.mark.parametrize(
    ("expression", "condition"),
    [
        ("${yn} = 'yes'", {"question": "yn", "equals": "yes"}),
        ("${yn}='1'", {"question": "yn", "equals": "o1"}),  # renamed choice keys follow
        ("selected(${yn}, '1')", {"question": "yn", "equals": "o1"}),
        ("${age} >= 18", {"question": "age", "at_least": 18}),
        ("${age} > 17", {"question": "age", "at_least": 18}),
        ("${age} < 65", {"question": "age", "at_most": 64}),
        ("${size} <= 2.5", {"question": "size", "at_most": 2.5}),
        ("${age} = '3'", {"question": "age", "equals": 3}),
        ("${note} != ''", {"question": "note", "answered": True}),
        ("string-length(${note}) = 0", {"question": "note", "answered": False}),
        (
            "${yn} = 'yes' and (${age} >= 18 or ${size} >= 1) and ${note} != ''",
            {
                "all": [
                    {"question": "yn", "equals": "yes"},
                    {
                        "any": [
                            {"question": "age", "at_least": 18},
                            {"question": "size", "at_least": 1},
                        ]
                    },
                    {"question": "note", "answered": True},
                ]
            },
        ),
    ],
)
def test_relevance_that_translates(expression: str, condition: dict[str, Any]) -> None:
    assert relevant_to_show_if(expression, TARGETS.get) == condition


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("${age} != 3", "'!=' (not equal) has no show_if"),
        ("not(${age} > 3)", "'not ( ${age} > 3 )' is not a comparison feedback can run"),
        ("${later} = 1", "refers to ${later}, which is not an earlier imported question"),
        ("${size} > 2", "'>' is only translated for whole numbers"),
        ("${note} = 'x'", "a text answer is not compared with a value"),
        ("${yn} = 'maybe'", "'maybe' is not a choice of 'yn'"),
        ("${age} >= ${size}", "compares ${age} with '${size}'"),
        ("${age} >= 18 and", "'the end' is not a comparison feedback can run"),
        (
            "today() > date('2020-01-01')",
            "'today ( ) > date ( '2020-01-01' )' is not a comparison feedback can run",
        ),
    ],
)
def test_relevance_that_does_not_translate_says_why(expression: str, reason: str) -> None:
    with pytest.raises(Untranslatable) as caught:
        relevant_to_show_if(expression, TARGETS.get)
    assert str(caught.value) == reason


def test_relevance_nested_too_deep_is_listed_not_fatal() -> None:
    # Parentheses past any real form's nesting (the parser recurses on each): the question is
    # imported without its relevance and its row says why, as for any other relevance.
    deep = "(" * 300 + "${age} >= 18" + ")" * 300
    content = xlsform(
        [
            ["type", "name", "label", "relevant"],
            ["integer", "age", "Age"],
            ["text", "why", "Why?", deep],
        ]
    )
    result = parse_xlsform(content, "deep.xlsx")
    assert [q.key for q in result.definition.questions] == ["age", "why"]
    assert result.definition.questions[1].show_if is None
    [row] = result.unsupported
    assert row.row == 3 and "parentheses" in row.reason, row
    with pytest.raises(Untranslatable, match="parentheses"):
        relevant_to_show_if(deep, TARGETS.get)


@pytest.mark.parametrize(
    ("expression", "integer", "bounds"),
    [
        (". >= 0 and . <= 120", True, (0, 120)),
        (".>0", True, (1, None)),
        (". < 10", True, (None, 9)),
        (". <= 99.5", False, (None, 99.5)),
        (". > 0", False, None),  # a strict bound on decimals has no min
        (". >= 1 or . = 0", True, None),
        ("regex(., '^[0-9]+$')", True, None),
        (". <= today()", True, None),
    ],
)
def test_numeric_constraints(
    expression: str, integer: bool, bounds: tuple[float | None, float | None] | None
) -> None:
    assert constraint_to_range(expression, integer=integer) == bounds
