"""What every input shares: pydantic's error locations as the JSON pointers our problem
documents carry, the bounds of integers and instants the databases store, and text that no
database can hold (NUL characters, lone surrogates)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from feedback.errors import FieldError, Invalid, pointer

M = TypeVar("M", bound=BaseModel)

# Integer columns are 32-bit on PostgreSQL: no number we are sent may exceed them.
INT_MAX = 2**31 - 1

# Instants and dates people may send: a range every database and every time zone conversion
# holds (year 1 minus an offset, or 9999 plus one, is no datetime at all).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
RANGE_TEXT = "must be between 1900-01-01 and 2999-12-31"

# Text that PostgreSQL cannot store (NUL) or that is no Unicode at all (a lone surrogate).
_UNSAFE = re.compile("[\x00\ud800-\udfff]")
UNSAFE_TEXT = "must not contain NUL characters or unpaired surrogates"


def safe_text(value: str) -> bool:
    return _UNSAFE.search(value) is None


# What shows nothing on a page: spaces, controls, format characters (a zero-width space, a
# direction mark), and code points with no character assigned or for private use.
_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cn", "Co"})


def shows_nothing(text: str) -> bool:
    """Whether a text shown to supporters would show them nothing (`strip()` keeps a
    zero-width space)."""
    return all(unicodedata.category(c) in _INVISIBLE for c in text)


def unsafe_text(document: Any, at: str = "") -> list[FieldError]:
    """Every string (value or object key) in a decoded JSON `document` that no database can
    store, each at its pointer."""
    errors: list[FieldError] = []
    stack: list[tuple[str, Any]] = [(at, document)]
    while stack:  # not recursive: documents may be as deep as their parser allows
        here, value = stack.pop()
        if isinstance(value, str):
            if not safe_text(value):
                errors.append(FieldError(here, UNSAFE_TEXT))
        elif isinstance(value, dict):
            for key, item in value.items():
                where = here + pointer(str(key))
                if isinstance(key, str) and not safe_text(key):
                    # The pointer echoes the name: not the characters that were the trouble.
                    where = _UNSAFE.sub("\ufffd", where)
                    errors.append(FieldError(where, "is a name that " + UNSAFE_TEXT))
                stack.append((where, item))
        elif isinstance(value, list):
            stack.extend((here + pointer(i), item) for i, item in enumerate(value))
    return sorted(errors, key=lambda e: e.pointer)


def in_range(value: datetime) -> datetime:
    """A pydantic after-validator: `value` itself, if it lies in the range above."""
    # Compared on the wall clock: in UTC, year 1 minus an offset is no datetime at all.
    naive = value.replace(tzinfo=None)
    if not EARLIEST.replace(tzinfo=None) < naive < LATEST.replace(tzinfo=None):
        raise PydanticCustomError("instant_range", RANGE_TEXT)
    return value


def _in_range_utc(value: datetime) -> datetime:
    return in_range(value).astimezone(UTC)


# An RFC 3339 instant with an offset, within the range above, handed on in UTC.
Instant = Annotated[AwareDatetime, AfterValidator(_in_range_utc)]


def date_in_range(value: date) -> bool:
    return EARLIEST.date() <= value <= LATEST.date()


def instant_problem(value: datetime) -> str | None:
    """Why `value` (as parsed from a query) is no instant we take, or None."""
    if value.tzinfo is None or value.utcoffset() is None:
        return "must have a UTC offset, e.g. 2025-03-01T00:00:00Z"
    if not date_in_range(value.date()) or value.year in (EARLIEST.year, LATEST.year):
        # The end years are kept out whole: their edges plus an offset leave the range.
        return RANGE_TEXT
    return None


def loc_to_pointer(loc: Sequence[str | int], document: Any, prefix: str = "") -> str:
    """Map a pydantic `loc` onto the document it was validating.

    Tagged unions and validator wrappers add segments to `loc` that are not in the document
    (`questions/0/likert/scale`); walking the document alongside tells them apart: a segment
    that does not name a member of the current value is such a label and is skipped, except
    the last one, which is the missing or offending field itself.
    """
    parts: list[str | int] = []
    current: Any = document
    for index, segment in enumerate(loc):
        last = index == len(loc) - 1
        if _has_member(current, segment):
            parts.append(segment)
            current = current[segment]
        elif last:
            parts.append(segment)
        # else: a union tag or wrapper label; not part of the document.
    return prefix + pointer(*parts)


def _has_member(value: Any, segment: str | int) -> bool:
    if isinstance(value, Mapping):
        return segment in value
    return isinstance(value, list) and isinstance(segment, int) and 0 <= segment < len(value)


def field_errors(
    errors: Iterable[Mapping[str, Any]], document: Any, prefix: str = ""
) -> list[FieldError]:
    out = []
    for error in errors:
        message = str(error.get("msg", "is invalid"))
        message = message.removeprefix("Value error, ")
        out.append(FieldError(loc_to_pointer(error.get("loc", ()), document, prefix), message))
    return out


def validate_model(model: type[M], document: Any, prefix: str = "") -> M:
    """`model.model_validate(document)`, raising `Invalid` with a pointer per problem."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise Invalid(field_errors(exc.errors(), document, prefix)) from exc
