"""XLSForm import: real workbooks built with openpyxl, read by pyxform, mapped to definitions."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from feedback.errors import FieldError, Invalid
from feedback.surveys.definition import Definition, parse_definition
from feedback.surveys.xlsform import (
    MAX_UNPACKED_BYTES,
    UnsupportedRow,
    XlsformImport,
    parse_xlsform,
)
from tests.builders.xlsform import Sheet, xlsform


def expected(
    *questions: dict[str, Any], locales: tuple[str, ...] = (), default: str = "en"
) -> Definition:
    return parse_definition({"questions": list(questions)}, locales=locales, default_locale=default)


def rejected(content: bytes) -> list[FieldError]:
    with pytest.raises(Invalid) as caught:
        parse_xlsform(content, "form.xlsx")
    assert all(e.pointer == "/file" for e in caught.value.errors)
    return caught.value.errors


def test_every_supported_type() -> None:
    survey: Sheet = [
        ["type", "name", "label", "hint", "required", "parameters"],
        ["select_one issues", "priority", "Which issue matters most?", "Pick one", "yes"],
        ["select_multiple acts", "actions", "What did you do?", None, "TRUE()"],
        ["integer", "age", "Age", None, "true"],
        ["decimal", "hours", "Hours volunteered", None, "no"],
        ["text", "comment", "Anything else?"],
        [
            "range",
            "trust",
            "How much do you trust us?",
            None,
            None,
            "start=1 end=5 step=1 tick_labelset=ends",
        ],
        ["range", "effort", "Effort", None, None, "start=0 end=10"],
    ]
    choices = [
        ["list_name", "name", "label"],
        ["issues", "climate", "Climate"],
        ["issues", "housing", "Housing"],
        ["acts", "petition", "Signed a petition"],
        ["acts", "march", "Joined a march"],
        ["ends", "1", "Not at all"],
        ["ends", "5", "Completely"],
    ]
    settings = [["form_title", "form_id"], ["Supporter pulse", "pulse"]]
    result = parse_xlsform(xlsform(survey, choices, settings), "pulse.xlsx")
    assert result == XlsformImport(
        definition=expected(
            {
                "key": "priority",
                "type": "single_choice",
                "label": "Which issue matters most?",
                "description": "Pick one",
                "required": True,
                "options": [
                    {"key": "climate", "label": "Climate"},
                    {"key": "housing", "label": "Housing"},
                ],
            },
            {
                "key": "actions",
                "type": "multi_choice",
                "label": "What did you do?",
                "required": True,
                "options": [
                    {"key": "petition", "label": "Signed a petition"},
                    {"key": "march", "label": "Joined a march"},
                ],
            },
            {"key": "age", "type": "number", "label": "Age", "required": True, "integer": True},
            {"key": "hours", "type": "number", "label": "Hours volunteered"},
            {"key": "comment", "type": "text", "label": "Anything else?"},
            {
                "key": "trust",
                "type": "rating",
                "label": "How much do you trust us?",
                "scale": {"min": 1, "max": 5, "labels": {"1": "Not at all", "5": "Completely"}},
            },
            {"key": "effort", "type": "rating", "label": "Effort", "scale": {"min": 0, "max": 10}},
        ),
        title="Supporter pulse",
        default_locale="en",
        locales=["en"],
        unsupported=[],
    )


def test_the_title_falls_back_to_the_file_name_and_the_locale_to_the_callers() -> None:
    content = xlsform([["type", "name", "label"], ["text", "comment", "Opmerkingen?"]])
    result = parse_xlsform(content, "ledenpeiling.xlsx", default_locale="nl")
    assert result.title == "ledenpeiling"
    assert result.default_locale == "nl" and result.locales == ["nl"]
    assert result.definition == expected(
        {"key": "comment", "type": "text", "label": "Opmerkingen?"}, default="nl"
    )


def test_two_languages() -> None:
    survey: Sheet = [
        [
            "type",
            "name",
            "label::English (en)",
            "label::Hindi (hi)",
            "hint::English (en)",
            "hint::Hindi (hi)",
        ],
        ["select_one yn", "member", "Are you a member?", "क्या आप सदस्य हैं?", "Tick one", "एक चुनें"],
        ["text", "comment", "Anything else?", "और कुछ?", "Optional"],
    ]
    choices = [
        ["list_name", "name", "label::English (en)", "label::Hindi (hi)"],
        ["yn", "yes", "Yes", "हाँ"],
        ["yn", "no", "No"],
    ]
    settings = [["default_language"], ["Hindi (hi)"]]
    result = parse_xlsform(xlsform(survey, choices, settings), "pulse.xlsx")
    assert result.default_locale == "hi"
    assert result.locales == ["hi", "en"]
    assert result.definition == expected(
        {
            "key": "member",
            "type": "single_choice",
            "label": {"hi": "क्या आप सदस्य हैं?", "en": "Are you a member?"},
            "description": {"hi": "एक चुनें", "en": "Tick one"},
            "options": [
                {"key": "yes", "label": {"hi": "हाँ", "en": "Yes"}},
                {"key": "no", "label": {"hi": "No", "en": "No"}},
            ],
        },
        {
            "key": "comment",
            "type": "text",
            "label": {"hi": "और कुछ?", "en": "Anything else?"},
            "description": {"hi": "Optional", "en": "Optional"},
        },
        locales=("en",),
        default="hi",
    )
    assert result.unsupported == [
        UnsupportedRow(
            2,
            "member",
            "select_one yn",
            "no translation for choice 'no' in hi (the en text is used)",
        ),
        UnsupportedRow(3, "comment", "text", "no translation for hint in hi (the en text is used)"),
    ]


def test_untranslated_columns_are_the_default_language() -> None:
    survey: Sheet = [
        ["type", "name", "label", "label::Hindi (hi)"],
        ["text", "comment", "Anything else?", "और कुछ?"],
    ]
    result = parse_xlsform(xlsform(survey), "f.xlsx")
    assert result.default_locale == "en" and result.locales == ["en", "hi"]
    assert result.definition.questions[0].label == {"en": "Anything else?", "hi": "और कुछ?"}


def test_languages_without_a_code_are_found_by_name() -> None:
    survey: Sheet = [
        ["type", "name", "label::English", "label::Deutsch", "label::Arabic", "label::french"],
        ["text", "comment", "Anything else?", "Sonst noch etwas?", "أي شيء آخر؟", "Autre chose ?"],
    ]
    result = parse_xlsform(xlsform(survey), "f.xlsx")
    assert result.locales == ["en", "de", "ar", "fr"]
    assert result.definition.questions[0].label == {
        "en": "Anything else?",
        "de": "Sonst noch etwas?",
        "ar": "أي شيء آخر؟",
        "fr": "Autre chose ?",
    }


def test_a_language_name_nobody_knows_asks_for_its_code() -> None:
    survey: Sheet = [["type", "name", "label::Klingonese"], ["text", "c", "Else?"]]
    assert rejected(xlsform(survey)) == [
        FieldError(
            "/file",
            "cannot tell the locale of language 'Klingonese'; "
            "add its code in parentheses, e.g. label::Klingonese (xx)",
        )
    ]


def test_two_languages_with_one_code_are_rejected() -> None:
    survey: Sheet = [
        ["type", "name", "label::English (en)", "label::Anglais (en)"],
        ["text", "c", "Else?", "Autre?"],
    ]
    assert rejected(xlsform(survey)) == [
        FieldError(
            "/file",
            "the languages 'English (en)' and 'Anglais (en)' both become locale 'en'; give each a "
            "distinct code in parentheses, e.g. label::English (en)",
        )
    ]
    # Codes are one whatever their case (`en` and `EN`), as the form matches them.
    survey[0][3] = "label::Anglais (EN)"
    assert rejected(xlsform(survey)) == [
        FieldError(
            "/file",
            "the languages 'English (en)' and 'Anglais (EN)' both become locale 'EN'; give each a "
            "distinct code in parentheses, e.g. label::English (en)",
        )
    ]


def test_unsupported_rows_are_listed_row_by_row() -> None:
    survey: Sheet = [
        [
            "type",
            "name",
            "label",
            "required",
            "relevant",
            "constraint",
            "media::image",
            "calculation",
        ],
        ["start", "started"],  # 2
        ["end", "ended"],  # 3
        ["integer", "age", "Age", "yes", None, ". > 15"],  # 4
        ["begin group", "about", "About you", None, "${age} > 17"],  # 5
        ["note", "intro", "A few questions"],  # 6
        ["text", "job", "Your job?", "yes"],  # 7
        ["geopoint", "where", "Where are you?"],  # 8
        ["end group"],  # 9
        [],  # 10
        ["begin repeat", "kids", "Children"],  # 11
        ["text", "kid_name", "Name?"],  # 12
        ["end repeat"],  # 13
        ["date", "joined", "When did you join?"],  # 14
        ["calculate", "double", None, None, None, None, None, "${age} * 2"],  # 15
        ["text", "why", "Why?", "yes", "${age} < 18"],  # 16
        ["select_one yn or_other", "member", "Member?", None, None, None, "member.png"],  # 17
        ["text", "lives", "Where do you live?", "${age} > 17"],  # 18
    ]
    choices = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]
    result = parse_xlsform(xlsform(survey, choices), "f.xlsx")
    assert result.definition.keys() == ["age", "job", "joined", "why", "member", "lives"]
    # relevance that translates keeps `required` (a hidden question is never required)
    assert [q.required for q in result.definition.questions] == [
        True,
        True,
        False,
        True,
        False,
        False,
    ]
    assert result.definition.to_json()["questions"][1]["show_if"] == {
        "question": "age",
        "at_least": 18,
    }
    assert result.definition.to_json()["questions"][3]["show_if"] == {
        "question": "age",
        "at_most": 17,
    }
    assert result.definition.to_json()["questions"][0]["min"] == 16  # . > 15
    member = result.definition.question("member")
    assert member is not None and [o.key for o in member.options] == ["yes", "no"]  # type: ignore[union-attr]
    assert result.unsupported == [
        UnsupportedRow(2, "started", "start", "metadata is not collected by feedback"),
        UnsupportedRow(3, "ended", "end", "metadata is not collected by feedback"),
        UnsupportedRow(
            5,
            "about",
            "begin group",
            "groups are not supported; the questions in it are imported without it; "
            "its relevance (${age} > 17) goes to each of them",
        ),
        UnsupportedRow(6, "intro", "note", "notes (text without an answer) are not supported"),
        UnsupportedRow(8, "where", "geopoint", "the question type 'geopoint' is not supported"),
        UnsupportedRow(
            11, "kids", "begin repeat", "repeats are not supported; nothing inside it is imported"
        ),
        UnsupportedRow(12, "kid_name", "text", "inside repeat 'kids' (row 11)"),
        UnsupportedRow(15, "double", "calculate", "calculations are not supported"),
        UnsupportedRow(
            17,
            "member",
            "select_one yn or_other",
            "the 'or_other' free-text answer is not supported; imported without: media",
        ),
        UnsupportedRow(
            18,
            "lives",
            "text",
            "a conditional required (${age} > 17) is not supported; it is optional",
        ),
    ]


def test_names_that_are_not_keys_are_rewritten_and_listed() -> None:
    survey: Sheet = [
        ["type", "name", "label"],
        ["select_one agree", "Q1", "I agree"],
        ["text", "a-b", "First"],
        ["text", "a_b", "Second"],
    ]
    choices = [["list_name", "name", "label"], ["agree", "1", "No"], ["agree", "2", "Yes"]]
    result = parse_xlsform(xlsform(survey, choices), "f.xlsx")
    assert result.definition == expected(
        {
            "key": "q1",
            "type": "single_choice",
            "label": "I agree",
            "options": [{"key": "o1", "label": "No"}, {"key": "o2", "label": "Yes"}],
        },
        {"key": "a_b", "type": "text", "label": "First"},
    )
    assert result.unsupported == [
        UnsupportedRow(
            2,
            "Q1",
            "select_one agree",
            "choice names imported as keys: '1' → 'o1', '2' → 'o2'; "
            "the name 'Q1' is not a feedback key; imported as 'q1'",
        ),
        UnsupportedRow(3, "a-b", "text", "the name 'a-b' is not a feedback key; imported as 'a_b'"),
        UnsupportedRow(4, "a_b", "text", "its key 'a_b' is already used by row 3"),
    ]


def test_names_of_the_exports_columns_are_rewritten_and_listed() -> None:
    survey: Sheet = [
        ["type", "name", "label", "relevant"],
        ["select_one via", "channel", "How did you hear of us?", None],
        ["text", "why", "Why?", "${channel} = 'radio'"],
    ]
    choices = [["list_name", "name", "label"], ["via", "radio", "Radio"], ["via", "web", "Web"]]
    result = parse_xlsform(xlsform(survey, choices), "f.xlsx")
    assert result.definition.keys() == ["q_channel", "why"]
    assert result.definition.to_json()["questions"][1]["show_if"] == {
        "question": "q_channel",
        "equals": "radio",
    }
    assert result.unsupported == [
        UnsupportedRow(
            2,
            "channel",
            "select_one via",
            "the name 'channel' is not a feedback key; imported as 'q_channel'",
        )
    ]


def test_the_same_name_in_two_groups_is_imported_once() -> None:
    survey: Sheet = [
        ["type", "name", "label"],
        ["begin group", "before", "Before"],
        ["integer", "score", "Score before"],
        ["end group"],
        ["begin group", "after", "After"],
        ["integer", "score", "Score after"],
        ["end group"],
    ]
    result = parse_xlsform(xlsform(survey), "f.xlsx")
    assert result.definition.keys() == ["score"]
    assert result.definition.questions[0].label == "Score before"
    assert [(u.row, u.reason) for u in result.unsupported] == [
        (2, "groups are not supported; the questions in it are imported without it"),
        (5, "groups are not supported; the questions in it are imported without it"),
        (6, "its key 'score' is already used by row 3"),
    ]


@pytest.mark.parametrize(
    ("parameters", "reason"),
    [
        ("start=0 end=10 step=2", "a range with step 2 is not supported (scales step by 1)"),
        ("start=0.5 end=4.5 step=1", "a range 0.5..4.5 is not supported (scales go up by 1)"),
        ("start=5 end=1 step=1", "a range 5..1 is not supported (scales go up by 1)"),
        ("start=0 end=500 step=1", "a range 0..500 is larger than a feedback scale can be"),
    ],
)
def test_ranges_feedback_cannot_scale(parameters: str, reason: str) -> None:
    survey: Sheet = [
        ["type", "name", "label", "parameters"],
        ["text", "comment", "Else?"],
        ["range", "r", "Rate", parameters],
    ]
    result = parse_xlsform(xlsform(survey), "f.xlsx")
    assert result.definition.keys() == ["comment"]
    assert result.unsupported == [UnsupportedRow(3, "r", "range", reason)]


def test_pyxforms_own_rows_are_not_reported() -> None:
    # pyxform adds meta/instanceID to every form; the user never wrote it.
    result = parse_xlsform(xlsform([["type", "name", "label"], ["text", "c", "Else?"]]), "f.xlsx")
    assert result.unsupported == []


def test_presentation_columns_are_listed_as_dropped() -> None:
    survey: Sheet = [
        ["type", "name", "label", "appearance", "default", "guidance_hint"],
        ["text", "c", "Else?", "multiline", "nothing", "Be brief"],
    ]
    result = parse_xlsform(xlsform(survey), "f.xlsx")
    assert result.unsupported == [
        UnsupportedRow(
            2, "c", "text", "imported without: appearance (multiline); default; guidance_hint"
        )
    ]


def test_a_question_without_label_uses_its_name() -> None:
    survey: Sheet = [
        ["type", "name", "label"],
        ["text", "comment", None],
        ["text", "other", "Other?"],
    ]
    result = parse_xlsform(xlsform(survey), "f.xlsx")
    assert result.definition.questions[0].label == "comment"
    assert result.unsupported == [
        UnsupportedRow(2, "comment", "text", "has no label; its name is used")
    ]


def test_not_an_xlsx() -> None:
    assert rejected(b"type,name,label\ntext,c,Else?\n") == [
        FieldError("/file", "must be an XLSForm saved as an .xlsx, .xls or .csv file")
    ]


def test_a_zip_that_is_no_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hello")
    (error,) = rejected(buffer.getvalue())
    assert "not recognized as a supported type" in error.message


def test_a_workbook_that_unpacks_past_the_cap_is_refused_unread() -> None:
    # A zip bomb: a sheet of a few hundred MB deflates to a few hundred KB, well under the
    # upload cap, and reading it would take that much memory and more (the XML parsed).
    book = zipfile.ZipFile(io.BytesIO(xlsform([["type", "name", "label"], ["text", "c", "C"]])))
    buffer = io.BytesIO()
    cell = '<row r="3"><c r="C3" t="inlineStr"><is><t>' + "x" * MAX_UNPACKED_BYTES
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in book.namelist():
            data = book.read(name)
            if name == "xl/worksheets/sheet1.xml":
                data = data.replace(
                    b"</sheetData>", cell.encode() + b"</t></is></c></row></sheetData>"
                )
            archive.writestr(name, data)
    assert len(buffer.getvalue()) < 100_000
    assert rejected(buffer.getvalue()) == [
        FieldError(
            "/file",
            f"unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MiB; "
            "an XLSForm is far smaller (remove images and unused sheets)",
        )
    ]


def test_no_survey_sheet() -> None:
    book = xlsform(
        [["type", "name", "label"], ["text", "c", "Else?"]],
        [["list_name", "name", "label"]],
        survey_sheet_name="questions",
    )
    (error,) = rejected(book)
    assert error.message.startswith("You must have a sheet named 'survey'.")


def test_a_missing_choice_list_names_the_sheet_and_row() -> None:
    survey: Sheet = [
        ["type", "name", "label"],
        ["text", "c", "Else?"],
        ["select_one colours", "colour", "Colour?"],
    ]
    choices = [["list_name", "name", "label"], ["sizes", "s", "Small"], ["sizes", "l", "Large"]]
    assert rejected(xlsform(survey, choices)) == [
        FieldError("/file", "survey sheet row 3: List name not in choices sheet: colours")
    ]


def test_an_unclosed_group_names_its_row() -> None:
    survey: Sheet = [["type", "name", "label"], ["begin group", "g", "G"], ["text", "c", "Else?"]]
    (error,) = rejected(xlsform(survey))
    assert "row 2" in error.message and "'g'" in error.message


def test_nothing_importable() -> None:
    survey: Sheet = [
        ["type", "name", "label"],
        ["note", "hello", "Hello"],
        ["geopoint", "where", "Where?"],
    ]
    assert rejected(xlsform(survey)) == [
        FieldError("/file", "The survey sheet has no question feedback can import."),
        FieldError(
            "/file", "survey sheet row 2 (note): notes (text without an answer) are not supported"
        ),
        FieldError(
            "/file", "survey sheet row 3 (geopoint): the question type 'geopoint' is not supported"
        ),
    ]


def test_definition_rules_are_reported_as_sheet_rows() -> None:
    survey: Sheet = [["type", "name", "label"], ["text", "c", "x" * 2001]]
    assert rejected(xlsform(survey)) == [
        FieldError("/file", "survey sheet row 2 ('c'): label must be at most 2000 characters")
    ]
