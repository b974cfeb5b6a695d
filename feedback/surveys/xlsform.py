"""Importing an XLSForm workbook as a new survey's first draft.

pyxform reads and checks the workbook and gives its internal JSON form (`workbook_to_json`, the
structure `xls2xform.convert` builds its XForm from); this module maps that onto a definition:

| XLSForm                                  | feedback                                         |
|------------------------------------------|--------------------------------------------------|
| select_one / select_multiple LIST        | single_choice / multi_choice, options from LIST  |
| integer (int) / decimal                  | number (`integer: true` / false)                 |
| text (string, phone number)              | text                                             |
| date                                     | date                                             |
| constraint `. >= 0 and . <= 120`         | number `min` / `max` (xlsform_logic)             |
| relevant `${q} = 'x'`, `selected(...)`…  | show_if (xlsform_logic), also a group's          |
| range with start, end, step=1            | rating, scale start..end (tick_labelset: labels) |
| label / hint                             | label / description                              |
| `label::English (en)`, `label::French`   | `{"en": ...}`, `{"fr": ...}` (xlsform_languages) |
| required yes / true / TRUE()             | required                                         |

Everything else is listed in `unsupported`, one entry per survey-sheet row (several reasons
joined): other question types, groups (their questions are imported without them), repeats
(not imported, nor what is inside), labels that insert earlier answers (`${name}`: the question
is not imported rather than shown with the literal text), a question that is not valid as a
feedback question (a select with one choice: not imported), and columns whose logic feedback
does not run (relevant and constraint beyond the forms above, calculation, choice_filter,
default, appearance, media...; the question is imported without them, and is optional when a
relevance it lost made it conditional). Names that are not valid
keys are rewritten (`Q1` → `q1`, choice `1` → `o1`, a column of the exports
`channel` → `q_channel`) and listed too, as are translations that are
missing (the default language's text fills in). Rows that pyxform adds itself (the `meta` group
with instanceID, the text box of `or_other`) are not the user's and are not listed.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from pyxform import aliases, constants
from pyxform.errors import PyXFormError
from pyxform.parsing.sheet_headers import dealias_and_group_headers
from pyxform.question import MultipleChoiceQuestion, Option
from pyxform.validators.pyxform.pyxform_reference import has_pyxform_reference
from pyxform.xls2json import RE_BEGIN_CONTROL, RE_END_CONTROL, workbook_to_json
from pyxform.xls2json_backends import DefinitionData, get_xlsform

from feedback.errors import FieldError, Invalid
from feedback.surveys.definition import (
    MAX_SCALE_POINTS,
    RESERVED_KEYS,
    SCALE_BOUND,
    Definition,
    parse_definition,
)
from feedback.surveys.settings import LOCALE_PATTERN
from feedback.surveys.xlsform_languages import language_code
from feedback.surveys.xlsform_logic import (
    Target,
    Untranslatable,
    constraint_to_range,
    relevant_to_show_if,
)

FILE_POINTER = "/file"
# What an .xlsx may unpack to. XLSForms are text of a few hundred KB; the upload cap (10 MiB)
# bounds the packed size only, and deflate packs 1000:1, so a small upload could otherwise make
# the reader hold gigabytes. zipfile never inflates an entry past its declared size.
MAX_UNPACKED_BYTES = 20 * 2**20
_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls
_TYPES: dict[str, dict[str, Any]] = {
    "integer": {"type": "number", "integer": True},
    "int": {"type": "number", "integer": True},
    "decimal": {"type": "number", "integer": False},
    "text": {"type": "text"},
    "string": {"type": "text"},
    "phone number": {"type": "text"},
    "date": {"type": "date"},
}
_ROW_PREFIX = re.compile(r"^\[row : (\d+)\]\s*")
_SELECTS = {constants.SELECT_ONE: "single_choice", constants.SELECT_ALL_THAT_APPLY: "multi_choice"}
_CONTAINERS = {constants.GROUP, constants.REPEAT, constants.LOOP}
_METADATA_TYPES = {
    "start",
    "end",
    "today",
    "deviceid",
    "subscriberid",
    "simserial",
    "phonenumber",
    "username",
    "email",
    "audit",
    "start-geopoint",
    "background-audio",
    "background-geopoint",
}
# Keys of pyxform's JSON that a mapped question consumes; any other key is reported as dropped.
_CONSUMED = {
    "type",
    "name",
    "label",
    "hint",
    "bind",
    "control",
    "parameters",
    "itemset",
    "list_name",
    "choices",
}
_RANGE_PARAMETERS = {"start", "end", "step"}


@dataclass(frozen=True, slots=True)
class UnsupportedRow:
    """A survey-sheet row (the header is row 1) that is not imported, or not all of it."""

    row: int
    name: str
    type: str
    reason: str


@dataclass(frozen=True, slots=True)
class XlsformImport:
    definition: Definition
    title: str
    default_locale: str
    locales: list[str]
    unsupported: list[UnsupportedRow]


def parse_xlsform(content: bytes, filename: str, *, default_locale: str = "en") -> XlsformImport:
    """Map an XLSForm (.xlsx, .xls or .csv) onto a definition; Invalid at `/file` when the
    workbook cannot be read (none of those, no survey sheet, a pyxform error such as a missing
    choice list) or leaves nothing to import. `default_locale` names the language of
    untranslated labels.
    """
    workbook, form = _read(content, filename)
    importer = _Importer(form, _survey_rows(workbook), _choice_rows(workbook))
    importer.walk(form.get("children", []), (), inside=None, shown_if=None)
    importer.report_leftover_rows()
    languages = _Languages.of(form, importer.languages_seen, default_locale)
    importer.localise(languages)
    if not importer.questions:
        raise Invalid(
            [FieldError(FILE_POINTER, "The survey sheet has no question feedback can import.")]
            + [
                FieldError(FILE_POINTER, f"survey sheet row {u.row} ({u.type}): {u.reason}")
                for u in importer.unsupported()
            ],
            "The XLSForm has no question feedback can import.",
        )
    definition = None
    while definition is None:
        try:
            definition = parse_definition(
                {"questions": importer.questions},
                locales=languages.locales,
                default_locale=languages.default,
            )
        except Invalid as exc:
            located = importer.located(exc)
            importer.set_aside(exc)  # one invalid question does not fail the import
            if not importer.questions:
                raise located from None
    return XlsformImport(
        definition=definition,
        title=str(form.get("title") or PurePath(filename).stem or "Imported XLSForm"),
        default_locale=languages.default,
        locales=list(languages.locales),
        unsupported=importer.unsupported(),
    )


def _file_type(content: bytes, filename: str) -> str:
    if content.startswith(_ZIP_MAGIC):
        return ".xlsx"
    if content.startswith(_OLE2_MAGIC):
        return ".xls"
    if PurePath(filename).suffix.lower() == ".csv" and b"\x00" not in content:
        return ".csv"
    raise Invalid.at(FILE_POINTER, "must be an XLSForm saved as an .xlsx, .xls or .csv file")


def _read(content: bytes, filename: str) -> tuple[DefinitionData, dict[str, Any]]:
    file_type = _file_type(content, filename)
    if file_type == ".xlsx" and _unpacked_size(content) > MAX_UNPACKED_BYTES:
        raise Invalid.at(
            FILE_POINTER,
            f"unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MiB; "
            "an XLSForm is far smaller (remove images and unused sheets)",
        )
    if file_type == ".csv":
        # Excel's "CSV UTF-8" opens with a byte order mark; pyxform would read it as part of
        # the first cell (`\ufeffsurvey`) and find no survey sheet.
        content = content.removeprefix(codecs.BOM_UTF8)
    try:
        workbook = get_xlsform(content, file_type=file_type)
        form = workbook_to_json(
            workbook_dict=workbook,
            fallback_form_name=PurePath(filename).stem or None,
            warnings=[],
        )
    except PyXFormError as exc:
        raise Invalid.at(FILE_POINTER, _pyxform_message(exc)) from None
    except Exception as exc:  # pyxform failing on a damaged file: still bad input, not a 500
        raise Invalid.at(
            FILE_POINTER, f"could not be read as an XLSForm ({type(exc).__name__}: {exc})"
        ) from None
    return workbook, form


def _unpacked_size(content: bytes) -> int:
    """The sizes the zip's entries declare, summed; 0 when it is no zip (the reader says so)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return sum(entry.file_size for entry in archive.infolist())
    except zipfile.BadZipFile:
        return 0


def _pyxform_message(exc: PyXFormError) -> str:
    text = str(exc).strip()
    match = _ROW_PREFIX.match(text)
    if match is None:
        return text
    rest = text[match.end() :]
    # pyxform's "[row : n]" is a survey-sheet row unless the message names another sheet.
    if rest.startswith("On the '"):
        return f"row {match.group(1)}: {rest}"
    return f"survey sheet row {match.group(1)}: {rest}"


@dataclass(frozen=True, slots=True)
class _Row:
    number: int
    name: str
    type: str


def _survey_rows(workbook: DefinitionData) -> dict[tuple[str, ...], _Row]:
    """Survey-sheet rows by the path of names pyxform nests them under (groups and repeats).

    pyxform's JSON keeps no row numbers, so the sheet as pyxform read it is walked again with
    its own header rules, mirroring the row handling of `workbook_to_json`.
    """
    sheet = dealias_and_group_headers(
        sheet_name=constants.SURVEY,
        sheet_data=workbook.survey or [],
        sheet_header=workbook.survey_header or [],
        header_aliases=aliases.survey_header,
        header_columns=set(MultipleChoiceQuestion.get_slot_names()),
    )
    rows: dict[tuple[str, ...], _Row] = {}
    containers: list[str] = []
    for number, row in enumerate(sheet.data, start=2):
        kind = str(row.get(constants.TYPE, "")).strip()
        if (
            not kind
            or aliases.yes_no.get(row.get("disabled", ""))
            or kind in aliases.settings_header
        ):
            continue
        if RE_END_CONTROL.search(kind):
            containers.pop()
            continue
        name = str(row.get(constants.NAME, ""))
        pyxform_name = name
        if kind == "note" and not name:
            pyxform_name = f"generated_note_name_{number}"
        elif kind == "audit":
            pyxform_name = "audit"
        rows[(*containers, pyxform_name)] = _Row(number, name, kind)
        if RE_BEGIN_CONTROL.search(kind):
            containers.append(pyxform_name)
    return rows


def _choice_rows(workbook: DefinitionData) -> dict[tuple[str, str], int]:
    """Choices-sheet row numbers by (list name, choice name), as the user wrote them."""
    if not workbook.choices:
        return {}
    sheet = dealias_and_group_headers(
        sheet_name=constants.CHOICES,
        sheet_data=workbook.choices,
        sheet_header=workbook.choices_header or [],
        header_aliases=aliases.list_header,
        header_columns=set(Option.get_slot_names()),
        add_row_number=True,
    )
    return {
        (str(row.get(constants.LIST_NAME_S)), str(row.get(constants.NAME))): int(row["__row"])
        for row in sheet.data
        if constants.NAME in row
    }


@dataclass(frozen=True, slots=True)
class _Languages:
    """XLSForm language names (`English (en)`) and the locale codes they become."""

    default: str
    locales: tuple[str, ...]
    by_name: dict[str, str]

    @classmethod
    def of(cls, form: dict[str, Any], seen: list[str], fallback: str) -> _Languages:
        declared = str(form.get(constants.DEFAULT_LANGUAGE_KEY) or "")
        by_name: dict[str, str] = {}
        for name in seen:
            locale = fallback if name == constants.DEFAULT_LANGUAGE_VALUE else _locale_of(name)
            # A plain `label` beside `label::English` is English too: one language, not a clash.
            clash = next(
                (
                    n
                    for n, loc in by_name.items()
                    if loc.lower() == locale.lower()  # as the form matches locales
                    and constants.DEFAULT_LANGUAGE_VALUE not in (n, name)
                ),
                None,
            )
            if clash is not None:
                raise Invalid.at(
                    FILE_POINTER,
                    f"the languages '{clash}' and '{name}' both become locale '{locale}'; "
                    "give each a distinct code in parentheses, e.g. label::English (en)",
                )
            by_name[name] = locale
        if declared in by_name:
            default_name: str | None = declared
        elif seen:
            default_name = seen[0]
        else:
            default_name = None
        if default_name is not None:
            default = by_name[default_name]
        elif declared and declared != constants.DEFAULT_LANGUAGE_VALUE:
            default = _locale_of(declared)
        else:
            default = fallback
        locales = tuple(dict.fromkeys([default, *by_name.values()]))
        return cls(default, locales, by_name)


def _locale_of(language: str) -> str:
    code = language_code(language)
    if code is None or not LOCALE_PATTERN.fullmatch(code):
        raise Invalid.at(
            FILE_POINTER,
            f"cannot tell the locale of language '{language}'; "
            f"add its code in parentheses, e.g. label::{language} (xx)",
        )
    return code


def _key(name: str, prefix: str) -> str:
    key = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
    if not key[:1].isalpha():
        key = prefix + key
    return key[:63]


@dataclass
class _Importer:
    form: dict[str, Any]
    rows: dict[tuple[str, ...], _Row]
    choice_rows: dict[tuple[str, str], int]
    questions: list[dict[str, Any]] = field(default_factory=list)
    question_rows: list[_Row] = field(default_factory=list)
    languages_seen: list[str] = field(default_factory=list)
    _reasons: dict[int, tuple[_Row, list[str]]] = field(default_factory=dict)
    _key_rows: dict[str, _Row] = field(default_factory=dict)
    _targets: dict[str, Target] = field(default_factory=dict)

    # --- walking pyxform's tree -------------------------------------------------------------

    def walk(
        self,
        children: list[dict[str, Any]],
        path: tuple[str, ...],
        *,
        inside: _Row | None,
        shown_if: str | None,
    ) -> None:
        """Map `children`. `inside` is the repeat they are in (nothing there is imported);
        `shown_if` the relevance of a group they are in (their questions become optional)."""
        for element in children:
            name = str(element.get(constants.NAME, ""))
            row = self.rows.pop((*path, name), None)
            if row is None and path and (name,) in self.rows and path[0] == "meta":
                # pyxform moves a top-level `audit` row into the meta group it generates.
                row = self.rows.pop((name,))
            kind = element.get(constants.TYPE)
            if kind in _CONTAINERS:
                self._container(element, (*path, name), row, inside, shown_if)
            elif row is None:
                continue  # added by pyxform (instanceID, the text box of or_other, ...)
            elif inside is not None:
                self.report(row, f"inside repeat '{inside.name}' (row {inside.number})")
            else:
                self._question(element, row, shown_if)

    def _container(
        self,
        element: dict[str, Any],
        path: tuple[str, ...],
        row: _Row | None,
        inside: _Row | None,
        shown_if: str | None,
    ) -> None:
        if row is not None:
            if inside is not None:
                self.report(row, f"inside repeat '{inside.name}' (row {inside.number})")
            elif element[constants.TYPE] == constants.GROUP:
                reason = "groups are not supported; the questions in it are imported without it"
                relevant = element.get("bind", {}).get("relevant")
                if relevant:
                    reason += f"; its relevance ({relevant}) goes to each of them"
                    shown_if = relevant if shown_if is None else f"({shown_if}) and ({relevant})"
                self.report(row, reason)
            else:
                self.report(row, "repeats are not supported; nothing inside it is imported")
                inside = row
        self.walk(element.get("children", []), path, inside=inside, shown_if=shown_if)

    def report_leftover_rows(self) -> None:
        """Rows pyxform read that the walk did not meet are reported rather than lost."""
        for path, row in list(self.rows.items()):
            if RE_BEGIN_CONTROL.search(row.type) is None:
                self.report(row, "not imported")
            del self.rows[path]

    # --- one question -----------------------------------------------------------------------

    def _question(self, element: dict[str, Any], row: _Row, shown_if: str | None) -> None:
        kind = element[constants.TYPE]
        if kind in _SELECTS:
            mapped = self._choice(element, row)
        elif kind in _TYPES:
            mapped = dict(_TYPES[kind])
        elif kind == "range":
            mapped = self._range(element, row)
        elif kind in _METADATA_TYPES:
            self.report(row, "metadata is not collected by feedback")
            return
        elif kind == "note":
            self.report(row, "notes (text without an answer) are not supported")
            return
        elif kind == "calculate":
            self.report(row, "calculations are not supported")
            return
        else:
            self.report(row, f"the question type '{row.type}' is not supported")
            return
        if mapped is None:
            return
        if _refers(element.get("label")):
            self.report(row, "its label shows earlier answers (${...}), which feedback does not")
            return
        key = _key(row.name, "q")
        if key in RESERVED_KEYS:  # an export's own column: kept apart like any other rename
            key = f"q_{key}"
        taken = self._key_rows.get(key)
        if taken is not None:
            self.report(row, f"its key '{key}' is already used by row {taken.number}")
            return
        if key != row.name:
            self.report(row, f"the name '{row.name}' is not a feedback key; imported as '{key}'")
        label = self._text(element.get("label"))
        if label is None:
            self.report(row, "has no label; its name is used")
            label = row.name
        question: dict[str, Any] = {"key": key, **mapped, "label": label}
        hint = self._text(element.get("hint"))
        if hint is not None and _refers(element.get("hint")):
            self.report(row, "its hint shows earlier answers (${...}); imported without it")
        elif hint is not None:
            question["description"] = hint
        consumed = self._logic(element, row, question, shown_if)
        question["required"] = self._required(element, row, conditional="show_if" not in question)
        self._key_rows[key] = row
        self.questions.append(question)
        self.question_rows.append(row)
        options = {
            str(c.get(constants.NAME)): o["key"]
            for c, o in zip(self._choices_of(element), question.get("options", []), strict=False)
        }
        self._targets[row.name] = Target(
            key, question["type"], bool(question.get("integer")), options if options else None
        )
        self._report_dropped(element, row, consumed)

    def _logic(
        self, element: dict[str, Any], row: _Row, question: dict[str, Any], shown_if: str | None
    ) -> set[str]:
        """Translate the relevance (the question's and its groups') and a numeric constraint
        into `question`; the bind keys consumed."""
        bind = element.get("bind", {})
        consumed: set[str] = set()
        constraint = bind.get("constraint")
        if constraint and question["type"] == "number":
            bounds = constraint_to_range(str(constraint), integer=question["integer"])
            if bounds is not None:
                low, high = bounds
                question.update({k: v for k, v in (("min", low), ("max", high)) if v is not None})
                consumed.add("constraint")
        own = bind.get("relevant")
        parts = [str(p) for p in (shown_if, own) if p]
        if parts:
            expression = parts[0] if len(parts) == 1 else " and ".join(f"({p})" for p in parts)
            try:
                question["show_if"] = relevant_to_show_if(expression, self._targets.get)
                consumed.add("relevant")
            except Untranslatable as exc:
                self.report(row, f"its relevance ({expression}) is not translated: {exc}")
                consumed.add("relevant")  # reported just now, with the reason
        return consumed

    def _choices_of(self, element: dict[str, Any]) -> list[dict[str, Any]]:
        list_name = str(element.get("itemset") or element.get(constants.LIST_NAME_U) or "")
        choices = self.form.get(constants.CHOICES, {}).get(list_name) or []
        return [c for c in choices if (list_name, str(c.get("name"))) in self.choice_rows]

    def _choice(self, element: dict[str, Any], row: _Row) -> dict[str, Any] | None:
        list_name = str(element.get("itemset") or element.get(constants.LIST_NAME_U) or "")
        if PurePath(list_name).suffix in constants.EXTERNAL_INSTANCE_EXTENSIONS:
            self.report(row, "options from a file are not supported")
            return None
        if has_pyxform_reference(list_name):
            self.report(row, "options from earlier answers are not supported")
            return None
        choices = self.form.get(constants.CHOICES, {}).get(list_name) or []
        if re.search(r"\bor[_ ](specify[_ ])?other$", row.type):
            self.report(row, "the 'or_other' free-text answer is not supported")
            # pyxform appends its 'other' choice to the list itself, so every select that
            # shares the list gains it; only a choice written on the choices sheet is kept.
        choices = [c for c in choices if (list_name, str(c.get("name"))) in self.choice_rows]
        if any(_refers(c.get("label")) for c in choices):
            self.report(
                row, "a choice label shows earlier answers (${...}), which feedback does not"
            )
            return None
        options = []
        renamed = []
        for choice in choices:
            name = str(choice.get(constants.NAME))
            where = f"choice '{name}' (choices row {self.choice_rows[(list_name, name)]})"
            key = _key(name, "o")
            if key != name:
                renamed.append(f"'{name}' → '{key}'")
            label = self._text(choice.get("label"))
            if label is None:
                self.report(row, f"{where} has no label; its name is used")
                label = name
            if choice.get("media"):
                self.report(row, f"{where}: media are not supported")
            options.append({"key": key, "label": label})
        keys = [o["key"] for o in options]
        if len(set(keys)) != len(keys):
            self.report(row, "its choice names do not stay distinct as feedback keys")
            return None
        if renamed:
            self.report(row, "choice names imported as keys: " + ", ".join(renamed))
        return {"type": _SELECTS[element[constants.TYPE]], "options": options}

    def _range(self, element: dict[str, Any], row: _Row) -> dict[str, Any] | None:
        parameters = element.get("parameters", {})
        try:
            start, end, step = (Decimal(str(parameters[p])) for p in ("start", "end", "step"))
        except (KeyError, InvalidOperation):
            self.report(row, "its range parameters cannot be read")
            return None
        if step != 1:
            self.report(row, f"a range with step {step} is not supported (scales step by 1)")
            return None
        if start != start.to_integral_value() or end != end.to_integral_value() or start >= end:
            self.report(row, f"a range {start}..{end} is not supported (scales go up by 1)")
            return None
        lo, hi = int(start), int(end)
        if not -SCALE_BOUND <= lo < hi <= SCALE_BOUND or hi - lo + 1 > MAX_SCALE_POINTS:
            self.report(row, f"a range {lo}..{hi} is larger than a feedback scale can be")
            return None
        labels = {}
        tick_list = element.get("itemset")
        for tick in self.form.get(constants.CHOICES, {}).get(tick_list, []) if tick_list else []:
            label = self._text(tick.get("label"))
            if label is not None:
                labels[str(int(Decimal(str(tick[constants.NAME]))))] = label
        return {"type": "rating", "scale": {"min": lo, "max": hi, "labels": labels}}

    def _required(self, element: dict[str, Any], row: _Row, *, conditional: bool) -> bool:
        bind = element.get("bind", {})
        value = bind.get("required")
        # pyxform's yes_no table knows `true()` and `TRUE` but not `TRUE()`, which people write.
        flag = None if value is None else aliases.yes_no.get(str(value).strip().lower())
        if value is None:
            required = False
        elif flag is not None:
            required = bool(flag)
        else:
            self.report(row, f"a conditional required ({value}) is not supported; it is optional")
            required = False
        if required and conditional and bind.get("relevant"):
            self.report(row, "it is optional, as it was required only when shown")
            required = False
        return required

    def _report_dropped(self, element: dict[str, Any], row: _Row, consumed: set[str]) -> None:
        dropped = [
            f"{k} ({v})"
            for k, v in element.get("bind", {}).items()
            if k != "required" and k not in consumed
        ]
        control = dict(element.get("control", {}))
        if element[constants.TYPE] == "range":
            control = {k: v for k, v in control.items() if k not in _RANGE_PARAMETERS}
        dropped += [f"{k} ({v})" for k, v in control.items()]
        parameters = dict(element.get("parameters", {}))
        if element[constants.TYPE] == "range":
            parameters = {k: v for k, v in parameters.items() if k not in _RANGE_PARAMETERS}
        dropped += [f"parameter {k} ({v})" for k, v in parameters.items()]
        dropped += [k for k in element if k not in _CONSUMED]
        if dropped:
            self.report(row, "imported without: " + "; ".join(dropped))

    def _text(self, value: object) -> str | dict[str, str] | None:
        """A label or hint as pyxform gives it, languages kept by name until `localise`."""
        if isinstance(value, dict):
            texts = {str(k): str(v) for k, v in value.items() if str(v).strip()}
            for language in texts:
                if language not in self.languages_seen:
                    self.languages_seen.append(language)
            return texts or None
        if value is None or not str(value).strip():
            return None
        return str(value)

    # --- languages --------------------------------------------------------------------------

    def localise(self, languages: _Languages) -> None:
        """Turn language names into locales; fill and report missing translations."""
        for question, row in zip(self.questions, self.question_rows, strict=True):
            missing: list[str] = []
            for holder, slot, what in _label_slots(question):
                holder[slot] = _localised(holder[slot], languages, what, missing)
            if missing:
                self.report(row, "no translation for " + "; ".join(missing))

    # --- results ----------------------------------------------------------------------------

    def report(self, row: _Row, reason: str) -> None:
        self._reasons.setdefault(row.number, (row, []))[1].append(reason)

    def unsupported(self) -> list[UnsupportedRow]:
        return [
            UnsupportedRow(row.number, row.name, row.type, "; ".join(reasons))
            for _, (row, reasons) in sorted(self._reasons.items())
        ]

    def set_aside(self, exc: Invalid) -> None:
        """Take out what parse_definition refused, reporting each on its row: a condition in
        error is dropped (the question is then asked of everyone, optionally), any other error
        drops its question. Errors about no question in particular are left to `located`."""
        by_index: dict[int, list[FieldError]] = {}
        for error in exc.errors:
            parts = error.pointer.split("/")  # "", "definition", "questions", i, ...
            if len(parts) >= 4:
                by_index.setdefault(int(parts[3]), []).append(error)
        if not by_index:
            raise self.located(exc)
        for index in sorted(by_index, reverse=True):
            row, errors = self.question_rows[index], by_index[index]
            said = "; ".join("/".join(e.pointer.split("/")[4:]) + " " + e.message for e in errors)
            if all("/show_if" in e.pointer for e in errors):
                del self.questions[index]["show_if"]
                self.questions[index]["required"] = False
                self.report(row, f"its relevance is not translated ({said}); it is asked of all")
            else:
                self.report(row, f"not imported: {said}")
                del self.questions[index], self.question_rows[index]

    def located(self, exc: Invalid) -> Invalid:
        """`exc` from parse_definition, its pointers told as sheet rows."""
        errors = []
        for error in exc.errors:
            parts = error.pointer.split("/")  # "", "definition", "questions", i, ...
            if len(parts) < 4:
                errors.append(FieldError(FILE_POINTER, f"survey sheet: {error.message}"))
                continue
            row = self.question_rows[int(parts[3])]
            where = "/".join(parts[4:])
            errors.append(
                FieldError(
                    FILE_POINTER,
                    f"survey sheet row {row.number} ('{row.name}'): {where} {error.message}",
                )
            )
        return Invalid(errors, "The XLSForm does not make a valid survey.")


def _refers(text: object) -> bool:
    """Does a label (a string or pyxform's {language: text}) insert an answer (`${name}`)?"""
    texts = text.values() if isinstance(text, dict) else [text]
    return any(has_pyxform_reference(str(t)) for t in texts if t is not None)


def _label_slots(question: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, str]]:
    yield question, "label", "label"
    if "description" in question:
        yield question, "description", "hint"
    for option in question.get("options", []):
        yield option, "label", f"choice '{option['key']}'"
    labels = question.get("scale", {}).get("labels", {})
    for point in labels:
        yield labels, point, f"range label {point}"


def _localised(
    text: str | dict[str, str], languages: _Languages, what: str, missing: list[str]
) -> str | dict[str, str]:
    if len(languages.locales) == 1 and isinstance(text, str):
        return text
    # The plain column first, so that a named column of the same locale wins over it.
    by_locale = (
        {
            languages.by_name[name]: value
            for name, value in sorted(
                text.items(), key=lambda item: item[0] != constants.DEFAULT_LANGUAGE_VALUE
            )
        }
        if isinstance(text, dict)
        else {languages.default: text}
    )
    source = languages.default if languages.default in by_locale else next(iter(by_locale))
    gaps = [locale for locale in languages.locales if locale not in by_locale]
    if gaps:
        missing.append(f"{what} in {', '.join(gaps)} (the {source} text is used)")
    return {locale: by_locale.get(locale, by_locale[source]) for locale in languages.locales}
