"""The questions of one survey version: their models, their validation and their localisation.

`parse_definition` is the door for anything a client sends. It checks the shape with pydantic,
then the rules that need a whole question or the survey's locales, and reports every problem as
a `FieldError` whose pointer leads into the request body. The models check only shape and key
syntax, so a definition stored under earlier locales still loads with `Definition.model_validate`
(versions are immutable; the locales of a survey may change after a version is published).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from feedback.errors import FieldError, Invalid, pointer
from feedback.surveys.show_if import (
    MAX_DEPTH,
    AtLeast,
    AtMost,
    Condition,
    Equals,
    Leaf,
    OneOf,
    depth,
    leaves,
)
from feedback.validation import UNSAFE_TEXT, loc_to_pointer, safe_text, shows_nothing

QUESTION_TYPES = (
    "likert",
    "rating",
    "nps",
    "single_choice",
    "multi_choice",
    "number",
    "text",
    "date",
)
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,62}")
KEY_RULE = (
    "must be a lowercase letter followed by up to 62 lowercase letters, digits or underscores"
)
# The columns the exports and the CSV import give a response besides its answers (the wide
# export's fixed columns, the import's `respondent_ref`): a question of that name would be a
# second column of the name, which no import could read back.
RESERVED_KEYS = frozenset(
    {
        "response_id",
        "revision",
        "wave",
        "version",
        "channel",
        "submitted_at",
        "revised_at",
        "respondent_id",
        "respondent_ref",
        "locale",
    }
)
RESERVED_RULE = "is the name of a column of the exports and imports; choose another key"
TEXT_MAX_LENGTH_DEFAULT = 2000
TEXT_MAX_LENGTH_CAP = 10_000
MAX_QUESTIONS = 500
MAX_OPTIONS = 200
MAX_LABEL_CHARS = 2000
# Scale values are stored as floats next to free numbers; small bounds keep them exact and the
# per-point distributions of the analysis small.
SCALE_BOUND = 1000
MAX_SCALE_POINTS = 101
NPS_POINTS = range(0, 11)
# The numbers feedback stores and analyses: finite, at most NUMBER_LIMIT in magnitude (floats
# hold integers exactly only up to 2**53), with at most NUMBER_DECIMALS decimal places. So a
# square is never below 1e-12 or above 1e30: sums of squares neither underflow (PostgreSQL
# raises on float underflow) nor lose the precision the statistics need.
NUMBER_LIMIT = 1e15
NUMBER_DECIMALS = 6
NUMBER_DOMAIN = f"at most {NUMBER_DECIMALS} decimal places"
# A float that means a decimal of NUMBER_DECIMALS places may carry binary noise far below it
# (0.1 + 0.2 = 0.30000000000000004); that much is taken as the decimal it stands for.
_NUMBER_NOISE = 1e-12


def in_number_domain(value: float) -> float | None:
    """`value` as stored (rounded to NUMBER_DECIMALS places) when it is in the domain of
    numbers above, else None."""
    if not math.isfinite(value) or abs(value) > NUMBER_LIMIT:
        return None
    rounded = round(value, NUMBER_DECIMALS)
    if abs(value - rounded) > _NUMBER_NOISE * max(1.0, abs(value)):
        return None
    return rounded + 0.0  # no negative zero


_INTEGER_STRING = re.compile(r"0|-?[1-9][0-9]*")  # as the form writes a point: never "-0"


def _check_key(value: str) -> str:
    if not KEY_PATTERN.fullmatch(value):
        raise PydanticCustomError("key_syntax", KEY_RULE)
    return value


def _check_label_shape(value: object) -> object:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return value
    raise PydanticCustomError(
        "label_type", "must be a string or an object mapping locale codes to strings"
    )


def _check_number(value: object) -> object:
    # A before-validator gives one clear error instead of one per member of `int | float`,
    # and refuses booleans, which Python counts as integers.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("number_type", "must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError("number_type", "must be a finite number")
    return value


def _check_iso_date(value: object) -> object:
    if not isinstance(value, str) or parse_iso_date(value) is None:
        raise PydanticCustomError("date_syntax", "must be an ISO date such as 2025-01-31")
    return value


def parse_iso_date(value: str) -> dt.date | None:
    """The calendar date `value` names in the form YYYY-MM-DD exactly, else None."""
    if not _ISO_DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
Key = Annotated[str, AfterValidator(_check_key)]
IsoDate = Annotated[str, BeforeValidator(_check_iso_date)]
"""A calendar date as the text YYYY-MM-DD (so it compares in calendar order as text)."""
Label = Annotated[str | dict[str, str], BeforeValidator(_check_label_shape)]
"""A text shown to respondents: one string for every locale, or a `{locale: text}` map."""
Number = Annotated[int | float, BeforeValidator(_check_number)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Scale(_Model):
    """An integer scale `min..max`; `labels` names some of its points (`{"1": "Disagree"}`)."""

    min: int
    max: int
    labels: dict[str, Label] = Field(default_factory=dict)

    def points(self) -> range:
        return range(self.min, self.max + 1)


class Option(_Model):
    key: Key
    label: Label


class _Question(_Model):
    key: Key
    type: str
    label: Label
    description: Label | None = None
    hint: Label | None = None
    """Help shown under the question (how to answer it), localised like the label."""
    required: bool = False
    breaks_series: bool = False
    """Declared by the campaigner: this version's rewording of the question breaks its trend."""
    show_if: Condition | None = None
    """Skip logic (feedback/surveys/show_if.py): the question is shown only when this holds."""


class LikertQuestion(_Question):
    type: Literal["likert"] = "likert"
    scale: Scale


class RatingQuestion(_Question):
    type: Literal["rating"] = "rating"
    scale: Scale


class NpsQuestion(_Question):
    """Net Promoter Score: an integer from 0 to 10; `labels` names some points, like a scale's."""

    type: Literal["nps"] = "nps"
    labels: dict[str, Label] = Field(default_factory=dict)


class _ChoiceQuestion(_Question):
    options: list[Option]

    @cached_property
    def option_keys(self) -> frozenset[str]:
        """The option keys, which every answer is checked against. Cached in the instance
        (the model is frozen; a `model_copy` may change labels, never keys)."""
        return frozenset(o.key for o in self.options)


class SingleChoiceQuestion(_ChoiceQuestion):
    type: Literal["single_choice"] = "single_choice"


class MultiChoiceQuestion(_ChoiceQuestion):
    type: Literal["multi_choice"] = "multi_choice"
    max_choices: int | None = None


class NumberQuestion(_Question):
    type: Literal["number"] = "number"
    min: Number | None = None
    max: Number | None = None
    integer: bool = False


class TextQuestion(_Question):
    type: Literal["text"] = "text"
    max_length: int = TEXT_MAX_LENGTH_DEFAULT


class DateQuestion(_Question):
    """A calendar date, answered as YYYY-MM-DD; counted and exported, never trended."""

    type: Literal["date"] = "date"
    min: IsoDate | None = None
    max: IsoDate | None = None


Question = Annotated[
    LikertQuestion
    | RatingQuestion
    | NpsQuestion
    | SingleChoiceQuestion
    | MultiChoiceQuestion
    | NumberQuestion
    | TextQuestion
    | DateQuestion,
    Field(discriminator="type"),
]
ScaleQuestion = LikertQuestion | RatingQuestion
CountedOnly = TextQuestion | DateQuestion
"""Questions whose answers are counted and exported but have no metric to trend or test."""
ChoiceQuestion = SingleChoiceQuestion | MultiChoiceQuestion


class Definition(_Model):
    """The questions of one survey version, in the order the form shows them."""

    questions: list[Question] = Field(min_length=1)

    @cached_property
    def has_conditions(self) -> bool:
        return any(q.show_if is not None for q in self.questions)

    @cached_property
    def questions_by_key(self) -> dict[str, Question]:
        # Cached in the instance: every submission looks its answers up here. A definition is
        # never model_copy'd with other questions (see `localise_definition`).
        return {q.key: q for q in self.questions}

    def question(self, key: str) -> Question | None:
        return self.questions_by_key.get(key)

    def keys(self) -> list[str]:
        return [q.key for q in self.questions]

    def to_json(self) -> dict[str, Any]:
        """The JSON document to store and to answer with (absent optional fields left out)."""
        return self.model_dump(mode="json", exclude_none=True)


def integer_points(question: Question) -> range | None:
    """The values an integer-scale question accepts (likert, rating, nps), else None."""
    if isinstance(question, LikertQuestion | RatingQuestion):
        return question.scale.points()
    if isinstance(question, NpsQuestion):
        return NPS_POINTS
    return None


_QUESTION_ADAPTER: TypeAdapter[Question] = TypeAdapter(Question)


def parse_definition(
    data: object, *, locales: Sequence[str], default_locale: str, at: str = "/definition"
) -> Definition:
    """Validate a definition from a request; raise `Invalid` listing every problem found.

    `locales` are the survey's declared locales; `default_locale` counts as declared whether or
    not it is listed. A label given as a `{locale: text}` map must hold exactly the declared
    locales; a plain string serves every locale. Pointers start at `at`.
    """
    declared = tuple(dict.fromkeys([default_locale, *locales]))
    if not isinstance(data, dict):
        raise Invalid.at(at, "must be an object with a `questions` array")
    errors = [
        FieldError(at + pointer(name), "is not a recognised field")
        for name in data
        if name != "questions"
    ]
    raw = data.get("questions")
    here = at + pointer("questions")
    if raw is None:
        errors.append(FieldError(here, "is required"))
    elif not isinstance(raw, list):
        errors.append(FieldError(here, "must be an array of questions"))
    elif not raw:
        errors.append(FieldError(here, "must have at least one question"))
    elif len(raw) > MAX_QUESTIONS:
        errors.append(FieldError(here, f"must have at most {MAX_QUESTIONS} questions"))
    else:
        questions = _parse_questions(raw, here, declared, errors)
        if not errors:
            return Definition(questions=questions)
    raise Invalid(errors, "The survey definition is invalid.")


def _parse_questions(
    raw: list[object], at: str, locales: tuple[str, ...], errors: list[FieldError]
) -> list[Question]:
    questions: list[Question] = []
    first_with_key: dict[str, int] = {}
    for i, item in enumerate(raw):
        here = at + pointer(i)
        # Duplicates are found on the raw keys so that they are reported even beside a question
        # that fails for another reason.
        key = item.get("key") if isinstance(item, dict) else None
        if isinstance(key, str):
            if key in RESERVED_KEYS:
                errors.append(FieldError(here + "/key", RESERVED_RULE))
            if key in first_with_key:
                errors.append(
                    FieldError(
                        here + "/key", f"duplicates the key of question {first_with_key[key]}"
                    )
                )
            else:
                first_with_key[key] = i
        try:
            question = _QUESTION_ADAPTER.validate_python(item)
        except ValidationError as exc:
            errors.extend(pydantic_field_errors(exc, here, item))
            continue
        errors.extend(_question_rules(question, here, locales))
        if question.show_if is not None:
            errors.extend(_show_if_rules(question.show_if, here + "/show_if", questions))
        questions.append(question)
    return questions


def pydantic_field_errors(exc: ValidationError, at: str, data: object) -> list[FieldError]:
    """Pydantic's errors as FieldErrors pointing into `data` (rooted at `at`), in our words."""
    errors = []
    for err in exc.errors():
        ptr = loc_to_pointer(err["loc"], data, at)
        if err["type"] in {"union_tag_invalid", "union_tag_not_found"}:
            ptr += "/type"
        errors.append(FieldError(ptr, _message(err)))
    return errors


def _message(err: ErrorDetails) -> str:
    ctx = err.get("ctx") or {}
    kind = err["type"]
    if kind == "union_tag_invalid":
        return "must be one of: " + ", ".join(QUESTION_TYPES)
    fixed = {
        "missing": "is required",
        "union_tag_not_found": "is required",
        "extra_forbidden": "is not a recognised field",
        "int_type": "must be an integer",
        "bool_type": "must be true or false",
        "string_type": "must be a string",
        "list_type": "must be an array",
        "dict_type": "must be an object",
        "model_type": "must be an object",
        "model_attributes_type": "must be an object",
        "datetime_type": "must be an RFC 3339 date-time string",
        "datetime_parsing": "must be an RFC 3339 date-time such as 2025-01-01T00:00:00Z",
        "datetime_from_date_parsing": "must be an RFC 3339 date-time such as 2025-01-01T00:00:00Z",
        "timezone_aware": "must have a UTC offset (e.g. 2025-01-01T00:00:00Z)",
    }
    if kind in fixed:
        return fixed[kind]
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} items"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    return err["msg"]


def _question_rules(question: Question, at: str, locales: tuple[str, ...]) -> list[FieldError]:
    errors = _label_rules(question.label, at + "/label", locales)
    if question.description is not None:
        errors += _label_rules(question.description, at + "/description", locales)
    if question.hint is not None:
        errors += _label_rules(question.hint, at + "/hint", locales)
    if isinstance(question, LikertQuestion | RatingQuestion):
        errors += _scale_rules(question.scale, at + "/scale", locales)
    elif isinstance(question, NpsQuestion):
        errors += _point_label_rules(question.labels, NPS_POINTS, at + "/labels", locales)
    elif isinstance(question, SingleChoiceQuestion | MultiChoiceQuestion):
        errors += _option_rules(question.options, at + "/options", locales)
        if isinstance(question, MultiChoiceQuestion) and question.max_choices is not None:
            n = len(question.options)
            if not 1 <= question.max_choices <= n:
                errors.append(
                    FieldError(at + "/max_choices", f"must be from 1 to {n} (the options)")
                )
    elif isinstance(question, NumberQuestion):
        errors += _number_rules(question, at)
    elif isinstance(question, DateQuestion):
        if question.min is not None and question.max is not None and question.min > question.max:
            errors.append(FieldError(at + "/max", f"must be on or after min ({question.min})"))
    elif not 1 <= question.max_length <= TEXT_MAX_LENGTH_CAP:
        errors.append(FieldError(at + "/max_length", f"must be from 1 to {TEXT_MAX_LENGTH_CAP}"))
    return errors


def _show_if_rules(condition: Condition, at: str, earlier: Sequence[Question]) -> list[FieldError]:
    """A condition refers only to earlier questions, with values their answers can take."""
    if depth(condition) > MAX_DEPTH:
        return [FieldError(at, f"must nest all/any at most {MAX_DEPTH - 1} deep")]
    by_key = {q.key: q for q in earlier}
    errors: list[FieldError] = []
    for leaf, below in leaves(condition):
        here = at + below
        target = by_key.get(leaf.question)
        if target is None:
            errors.append(FieldError(here + "/question", "must be the key of an earlier question"))
        else:
            errors += [FieldError(here + suffix, m) for suffix, m in _leaf_rules(leaf, target)]
    return errors


def _leaf_rules(leaf: Leaf, target: Question) -> list[tuple[str, str]]:
    if isinstance(leaf, Equals | OneOf):
        values = (
            [("/equals", leaf.equals)]
            if isinstance(leaf, Equals)
            else [(f"/in/{i}", v) for i, v in enumerate(leaf.in_)]
        )
        return [(where, m) for where, v in values if (m := _value_rule(v, target)) is not None]
    if isinstance(leaf, AtLeast | AtMost):
        where, bound = (
            ("/at_least", leaf.at_least)
            if isinstance(leaf, AtLeast)
            else ("/at_most", leaf.at_most)
        )
        if isinstance(target, DateQuestion):
            ok = isinstance(bound, str) and parse_iso_date(bound) is not None
            return [] if ok else [(where, "must be an ISO date such as 2025-01-31")]
        if integer_points(target) is not None or isinstance(target, NumberQuestion):
            ok = not isinstance(bound, str)
            return [] if ok else [(where, f"must be a number (question '{target.key}')")]
        return [(where, f"cannot compare the answers of a {target.type} question")]
    return []


def _value_rule(value: object, target: Question) -> str | None:
    """Why `value` is never an answer to `target`, or None when it may be."""
    points = integer_points(target)
    if points is not None:
        ok = isinstance(value, int | float) and float(value) in points
        return None if ok else f"must be an integer from {points.start} to {points.stop - 1}"
    if isinstance(target, SingleChoiceQuestion | MultiChoiceQuestion):
        ok = isinstance(value, str) and value in target.option_keys
        return None if ok else "must be one of: " + ", ".join(o.key for o in target.options)
    if isinstance(target, NumberQuestion):
        return None if isinstance(value, int | float) else "must be a number"
    if isinstance(target, DateQuestion):
        ok = isinstance(value, str) and parse_iso_date(value) is not None
        return None if ok else "must be an ISO date such as 2025-01-31"
    return "cannot compare free text; use `answered`"


def _scale_rules(scale: Scale, at: str, locales: tuple[str, ...]) -> list[FieldError]:
    errors = [
        FieldError(at + pointer(name), f"must be from {-SCALE_BOUND} to {SCALE_BOUND}")
        for name, value in (("min", scale.min), ("max", scale.max))
        if not -SCALE_BOUND <= value <= SCALE_BOUND
    ]
    if scale.min >= scale.max:
        errors.append(FieldError(at + "/max", f"must be greater than min ({scale.min})"))
    elif errors:
        pass  # a span or a point counted between bounds already wrong says nothing more
    elif scale.max - scale.min + 1 > MAX_SCALE_POINTS:
        errors.append(FieldError(at + "/max", f"a scale has at most {MAX_SCALE_POINTS} points"))
    else:
        errors += _point_label_rules(scale.labels, scale.points(), at + "/labels", locales)
    return errors


def _point_label_rules(
    labels: dict[str, str | dict[str, str]], points: range, at: str, locales: tuple[str, ...]
) -> list[FieldError]:
    errors: list[FieldError] = []
    for point, label in labels.items():
        here = at + pointer(point)
        if not _INTEGER_STRING.fullmatch(point) or int(point) not in points:
            errors.append(
                FieldError(here, f"is not a point of the scale {points.start}..{points.stop - 1}")
            )
        else:
            errors += _label_rules(label, here, locales)
    return errors


def _option_rules(options: list[Option], at: str, locales: tuple[str, ...]) -> list[FieldError]:
    errors: list[FieldError] = []
    if len(options) < 2:
        errors.append(FieldError(at, "must have at least 2 options"))
    elif len(options) > MAX_OPTIONS:
        errors.append(FieldError(at, f"must have at most {MAX_OPTIONS} options"))
    first_with_key: dict[str, int] = {}
    for j, option in enumerate(options):
        here = at + pointer(j)
        if option.key in first_with_key:
            errors.append(
                FieldError(
                    here + "/key", f"duplicates the key of option {first_with_key[option.key]}"
                )
            )
        else:
            first_with_key[option.key] = j
        errors += _label_rules(option.label, here + "/label", locales)
    return errors


def _number_rules(question: NumberQuestion, at: str) -> list[FieldError]:
    errors: list[FieldError] = []
    lo, hi = question.min, question.max
    if question.integer:
        errors += [
            FieldError(at + pointer(name), "must be a whole number, as `integer` is true")
            for name, value in (("min", lo), ("max", hi))
            if value is not None and not float(value).is_integer()
        ]
    errors += [
        FieldError(
            at + pointer(name),
            f"must be from {-NUMBER_LIMIT:g} to {NUMBER_LIMIT:g} with {NUMBER_DOMAIN}",
        )
        # A bound is written by hand: it must be a number of the domain exactly.
        for name, value in (("min", lo), ("max", hi))
        if value is not None and in_number_domain(value) != value
    ]
    if lo is not None and hi is not None and lo > hi:
        errors.append(FieldError(at + "/max", f"must be at least min ({lo})"))
    return errors


def label_errors(
    label: str | dict[str, str], at: str, locales: tuple[str, ...]
) -> list[FieldError]:
    """The problems of a text shown to supporters (`Label`) given the survey's locales: a map
    names every declared locale and no other, and no text is blank, too long or unstorable."""
    return _label_rules(label, at, locales)


def _label_rules(
    label: str | dict[str, str], at: str, locales: tuple[str, ...]
) -> list[FieldError]:
    if isinstance(label, str):
        return _text_rules(label, at)
    if not label:
        return [FieldError(at, "must not be empty")]
    errors = [
        FieldError(at + pointer(locale), f"is required: the survey declares locale '{locale}'")
        for locale in locales
        if locale not in label
    ]
    for locale, text in label.items():
        if locale in locales:
            errors += _text_rules(text, at + pointer(locale))
        else:
            errors.append(
                FieldError(
                    at + pointer(locale),
                    f"is not a locale of this survey (declared: {', '.join(locales)})",
                )
            )
    return errors


def _text_rules(text: str, at: str) -> list[FieldError]:
    if shows_nothing(text):
        # A label of zero-width spaces passes `strip()` and shows a question with no words.
        return [FieldError(at, "must not be empty")]
    if len(text) > MAX_LABEL_CHARS:
        return [FieldError(at, f"must be at most {MAX_LABEL_CHARS} characters")]
    if not safe_text(text):
        # PostgreSQL cannot store NUL in text or JSONB, nor anything a lone surrogate.
        return [FieldError(at, UNSAFE_TEXT)]
    return []


def match_locale(wanted: str, available: Iterable[str]) -> str | None:
    """The member of `available` that best serves `wanted`: the same code (ignoring case), else
    the same primary language (`en-GB` is served by `en`, and `en` by `en-GB`), else None."""
    candidates = list(available)
    low = wanted.lower()
    for candidate in candidates:
        if candidate.lower() == low:
            return candidate
    language = low.split("-", 1)[0]
    for candidate in candidates:
        if candidate.lower().split("-", 1)[0] == language:
            return candidate
    return None


def choose_locale(requested: str | None, locales: Sequence[str], default_locale: str) -> str:
    """The survey locale to show someone who asked for `requested` (None: the default)."""
    if requested:
        found = match_locale(requested, [default_locale, *locales])
        if found is not None:
            return found
    return default_locale


def label_text(label: str | dict[str, str], locale: str | None, default_locale: str) -> str:
    """The text of `label` for `locale`: the locale itself or its language, then the default
    locale or its language, then the first text the map has."""
    if isinstance(label, str):
        return label
    for wanted in (locale, default_locale):
        found = match_locale(wanted, label) if wanted else None
        if found is not None:
            return label[found]
    return next(iter(label.values()), "")


def localise_question(question: Question, locale: str | None, default_locale: str) -> Question:
    """The same question with every label resolved to one string, for the public form."""

    def text(label: str | dict[str, str]) -> str:
        return label_text(label, locale, default_locale)

    update: dict[str, Any] = {"label": text(question.label)}
    if question.description is not None:
        update["description"] = text(question.description)
    if question.hint is not None:
        update["hint"] = text(question.hint)
    if isinstance(question, LikertQuestion | RatingQuestion):
        labels = {point: text(label) for point, label in question.scale.labels.items()}
        update["scale"] = question.scale.model_copy(update={"labels": labels})
    elif isinstance(question, NpsQuestion):
        update["labels"] = {point: text(label) for point, label in question.labels.items()}
    elif isinstance(question, SingleChoiceQuestion | MultiChoiceQuestion):
        update["options"] = [
            option.model_copy(update={"label": text(option.label)}) for option in question.options
        ]
    return question.model_copy(update=update)


def localise_definition(
    definition: Definition, locale: str | None, default_locale: str
) -> Definition:
    """Every question of `definition` localised with `localise_question`."""
    # Built anew, not model_copy'd: the copy would keep the index of the unlocalised questions.
    return Definition(
        questions=[localise_question(q, locale, default_locale) for q in definition.questions]
    )
