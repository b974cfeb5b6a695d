"""What the hosted form shows, and what its plain HTML POST means.

`fields` turns a localised definition, the values a supporter sent and the server's field errors
into flat records the template prints without decisions of its own; `answers_from_form` turns
`application/x-www-form-urlencoded` fields back into the answers object of the JSON API. Neither
validates answers: the submission service does, once, for every channel.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from babel import Locale, UnknownLocaleError
from babel.numbers import get_decimal_symbol, get_group_symbol

from feedback.api.form_strings import date_text
from feedback.errors import FieldError
from feedback.surveys.definition import (
    DateQuestion,
    Definition,
    LikertQuestion,
    MultiChoiceQuestion,
    NpsQuestion,
    NumberQuestion,
    Question,
    RatingQuestion,
    SingleChoiceQuestion,
    TextQuestion,
    integer_points,
)

# Scales with more points than this show their point labels under the row's two ends: a caption
# inside each of eleven narrow boxes would wrap into an unreadable column.
MAX_CAPTIONED_POINTS = 7
# Scripts written right to left (ISO 15924): a locale's script subtag decides its direction.
RTL_SCRIPTS = frozenset(
    {"Adlm", "Arab", "Aran", "Hebr", "Mand", "Mend", "Nkoo", "Rohg", "Samr", "Syrc", "Thaa", "Yezi"}
)
# Languages written right to left that CLDR (through Babel) does not know.
RTL_LANGUAGES = frozenset({"arz", "bal", "bqi", "glk", "khw", "pnb", "prs", "sdh", "skr"})
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")

Kind = Literal["scale", "choice", "number", "text", "date"]


@dataclass(frozen=True, slots=True)
class Choice:
    """One radio or checkbox: a scale point or an option."""

    id: str
    value: str
    text: str
    caption: str
    checked: bool


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    kind: Kind
    id: str
    """The id of the question's first control: what an error summary link points at."""
    label: str
    required: bool
    hint: str
    error: str
    choices: tuple[Choice, ...] = ()
    multiple: bool = False
    ends: tuple[str, str] | None = None
    value: str = ""
    inputmode: str = "decimal"
    max_length: int | None = None
    min: str | None = None
    max: str | None = None

    @property
    def hint_id(self) -> str:
        return control_id(self.key) + "-hint"

    @property
    def error_id(self) -> str:
        return control_id(self.key) + "-error"

    @property
    def described_by(self) -> str:
        ids = [self.hint_id] if self.hint else []
        return " ".join([*ids, self.error_id] if self.error else ids)


@dataclass(frozen=True, slots=True)
class SummaryItem:
    text: str
    href: str | None


@functools.lru_cache(maxsize=1024)
def text_direction(locale: str) -> Literal["ltr", "rtl"]:
    """The writing direction of a locale: its script's when it names one (`pa-Arab` right to
    left, `ku-Latn` left to right), else CLDR's for the language and region (`ckb`, `syr`), else
    a short list of right-to-left languages CLDR lacks (`arz`, `pnb`)."""
    parts = locale.split("-")
    script = next((p.title() for p in parts[1:] if len(p) == 4 and p.isalpha()), None)
    if script is not None:
        return "rtl" if script in RTL_SCRIPTS else "ltr"
    try:
        known = Locale.parse(locale, sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        return "rtl" if parts[0].lower() in RTL_LANGUAGES else "ltr"
    return "rtl" if known.text_direction == "rtl" else "ltr"


def control_id(key: str, prefix: str = "q-") -> str:
    return prefix + key


def answer_key(ptr: str) -> str | None:
    """The question key a pointer such as `/answers/actions/1` is about, else None."""
    parts = ptr.split("/")
    if len(parts) >= 3 and parts[0] == "" and parts[1] == "answers" and parts[2]:
        return parts[2].replace("~1", "/").replace("~0", "~")
    return None


def errors_by_key(errors: Iterable[FieldError], keys: Sequence[str]) -> dict[str, str]:
    """The first message per question; errors about anything else are left to the summary."""
    out: dict[str, str] = {}
    for error in errors:
        key = answer_key(error.pointer)
        if key is not None and key in keys and key not in out:
            out[key] = error.message
    return out


def fields(
    definition: Definition,
    strings: Mapping[str, str],
    values: Mapping[str, Sequence[str]],
    errors: Mapping[str, str],
    locale: str = "en",
) -> list[Field]:
    """`definition` must already be localised (every label a string); `locale` writes dates."""
    return [
        _field(q, strings, values.get(q.key, ()), errors.get(q.key, ""), locale)
        for q in definition.questions
    ]


def summary(
    errors: Iterable[FieldError], definition: Definition, by_key: Mapping[str, str]
) -> list[SummaryItem]:
    """One line per question in error (in form order, linking to its first control), then any
    error that belongs to no question (a stale version, say), unlinked."""
    items = [
        SummaryItem(f"{_text(q.label)}: {by_key[q.key]}", _first_control(q))
        for q in definition.questions
        if q.key in by_key
    ]
    keys = definition.keys()
    for error in errors:
        if answer_key(error.pointer) not in keys:
            name = error.pointer.rsplit("/", 1)[-1]
            items.append(SummaryItem(f"{name}: {error.message}" if name else error.message, None))
    return items


def _first_control(question: Question) -> str:
    base = control_id(question.key)
    if isinstance(question, NumberQuestion | TextQuestion | DateQuestion):
        return base
    return f"{base}-0"


def _text(label: str | dict[str, str]) -> str:
    # Localised definitions hold strings; a map here would be a caller's mistake, shown plainly.
    return label if isinstance(label, str) else next(iter(label.values()), "")


def _field(
    question: Question, strings: Mapping[str, str], given: Sequence[str], error: str, locale: str
) -> Field:
    base = control_id(question.key)
    description = _join(
        *(_text(text) for text in (question.description, question.hint) if text is not None)
    )
    common: dict[str, Any] = {
        "key": question.key,
        "label": _text(question.label),
        "required": question.required,
        "error": error,
    }
    if isinstance(question, LikertQuestion | RatingQuestion | NpsQuestion):
        points = integer_points(question)
        assert points is not None
        labels = _point_labels(question, strings)
        wide = len(points) > MAX_CAPTIONED_POINTS
        choices = tuple(
            Choice(f"{base}-{i}", str(p), str(p), labels.get(str(p), ""), str(p) in given)
            for i, p in enumerate(points)
        )
        ends = None
        if wide and (labels.get(str(points[0])) or labels.get(str(points[-1]))):
            ends = (labels.get(str(points[0]), ""), labels.get(str(points[-1]), ""))
        return Field(
            kind="scale", id=f"{base}-0", hint=description, choices=choices, ends=ends, **common
        )
    if isinstance(question, SingleChoiceQuestion | MultiChoiceQuestion):
        multiple = isinstance(question, MultiChoiceQuestion)
        hint = description
        if isinstance(question, MultiChoiceQuestion) and question.max_choices is not None:
            hint = _join(hint, strings["choose_up_to"].format(n=question.max_choices))
        choices = tuple(
            Choice(f"{base}-{i}", o.key, _text(o.label), "", o.key in given)
            for i, o in enumerate(question.options)
        )
        return Field(
            kind="choice", id=f"{base}-0", hint=hint, choices=choices, multiple=multiple, **common
        )
    value = given[0] if given else ""
    if isinstance(question, NumberQuestion):
        return Field(
            kind="number",
            id=base,
            hint=_join(description, _range_hint(question, strings)),
            value=value,
            inputmode="numeric" if question.integer else "decimal",
            **common,
        )
    if isinstance(question, DateQuestion):
        return Field(
            kind="date",
            id=base,
            hint=_join(description, _date_hint(question, strings, locale)),
            value=value,
            min=question.min,
            max=question.max,
            **common,
        )
    return Field(
        kind="text",
        id=base,
        hint=_join(description, strings["max_chars"].format(n=question.max_length)),
        value=value,
        max_length=question.max_length,
        **common,
    )


def _point_labels(
    question: LikertQuestion | RatingQuestion | NpsQuestion, strings: Mapping[str, str]
) -> dict[str, str]:
    if isinstance(question, NpsQuestion):
        given = {k: _text(v) for k, v in question.labels.items()}
        # An NPS question reads oddly without its anchors; the form supplies the usual ones.
        return {"0": strings["nps_low"], "10": strings["nps_high"]} | given
    return {k: _text(v) for k, v in question.scale.labels.items()}


def _range_hint(question: NumberQuestion, strings: Mapping[str, str]) -> str:
    lo, hi = question.min, question.max
    if lo is not None and hi is not None:
        return strings["number_range"].format(min=_number(lo), max=_number(hi))
    if lo is not None:
        return strings["number_min"].format(min=_number(lo))
    if hi is not None:
        return strings["number_max"].format(max=_number(hi))
    return ""


def _date_hint(question: DateQuestion, strings: Mapping[str, str], locale: str) -> str:
    # Said before the supporter answers, as a number's range is: not only in a refusal.
    lo, hi = (
        date_text(date.fromisoformat(d), locale) if d else None
        for d in (question.min, question.max)
    )
    if lo and hi:
        return strings["date_range"].format(min=lo, max=hi)
    if lo:
        return strings["date_min"].format(min=lo)
    if hi:
        return strings["date_max"].format(max=hi)
    return ""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def answers_from_form(
    definition: Definition, form: Mapping[str, Sequence[str]], locale: str = "en"
) -> dict[str, Any]:
    """The answers object a form POST means, per question type, numbers read as a supporter
    in `locale` writes them (`parse_number`). Blank fields are left out (so "required" is
    reported by the validator); text that is not a number is passed on as text, so the
    validator, not this mapping, says what is wrong with it."""
    answers: dict[str, Any] = {}
    for question in definition.questions:
        given = [v for v in form.get(question.key, ()) if v.strip()]
        if not given:
            continue
        if isinstance(question, MultiChoiceQuestion):
            answers[question.key] = given
        elif isinstance(question, TextQuestion):
            answers[question.key] = given[0]
        elif isinstance(question, SingleChoiceQuestion | DateQuestion):
            answers[question.key] = given[0].strip()
        else:
            answers[question.key] = parse_number(given[0], locale)
    return answers


def parse_number(raw: str, locale: str = "en") -> int | float | str:
    """A number as a supporter in `locale` types it: `"4"` → 4, `"2.5"` or `"2,5"` → 2.5, and
    with the locale's grouping `"1,000,000"` or `"1,000.5"` (en), `"1.000,5"` (de) → 1000000,
    1000.5. A single separator followed by exactly three digits (`"1,000"`) is read as the
    locale writes it: grouping in English, a decimal comma in German; where the locale uses it
    for neither, the text is returned as it came, to be refused beside its field rather than
    stored as a number a thousand times off. Anything else is returned as it came."""
    text = raw.strip()
    decimal, group = _separators(locale)
    if _NUMBER.fullmatch(text):
        ambiguous = _THOUSANDS.fullmatch(text)
        if ambiguous is not None:
            sep = ambiguous.group(1)
            if sep == group and sep != decimal:
                text = text.replace(sep, "")
            elif sep != decimal:
                return raw
        text = text.replace(",", ".")
    else:
        grouped = _grouped(group, decimal).fullmatch(text)
        if grouped is None:
            return raw
        fraction = grouped.group(2)
        text = grouped.group(1).translate(_NO_GROUPS) + ("" if fraction is None else f".{fraction}")
    if re.fullmatch(r"[+-]?\d+", text):
        # int() refuses more than 4300 digits; such a "number" goes on as text to be refused.
        return int(text) if len(text) <= 300 else raw
    value = float(text)
    return value if math.isfinite(value) else raw


# One separator and exactly three digits after it: "1,000" is a thousand or one, by locale.
_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2}([.,])\d{3}")
_SPACES = " \u00a0\u202f"
_NO_GROUPS = str.maketrans("", "", ",.'" + _SPACES)


@functools.lru_cache(maxsize=256)
def _separators(locale: str) -> tuple[str, str]:
    """The decimal and grouping symbols of `locale` (CLDR, through Babel); English's if unknown.
    Any space counts as a space that groups (French writes a narrow no-break space)."""
    try:
        known = Locale.parse(locale, sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        return ".", ","
    decimal, group = get_decimal_symbol(known), get_group_symbol(known)
    return decimal, " " if group.isspace() else group


@functools.lru_cache(maxsize=256)
def _grouped(group: str, decimal: str) -> re.Pattern[str]:
    """`-1,234,567.89` with the locale's grouping and decimal symbols (groups of three)."""
    sep = f"[{re.escape(_SPACES)}]" if group == " " else re.escape(group)
    return re.compile(rf"([+-]?[1-9]\d{{0,2}}(?:{sep}\d{{3}})+)(?:{re.escape(decimal)}(\d+))?")
