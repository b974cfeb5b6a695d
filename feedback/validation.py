"""Turning pydantic's error locations into the JSON pointers our problem documents carry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from feedback.errors import FieldError, Invalid, pointer

M = TypeVar("M", bound=BaseModel)


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
    errors: Iterable[Mapping[str, Any]], document: Any, prefix: str = "", source: str = "body"
) -> list[FieldError]:
    out = []
    for error in errors:
        message = str(error.get("msg", "is invalid"))
        message = message.removeprefix("Value error, ")
        out.append(
            FieldError(loc_to_pointer(error.get("loc", ()), document, prefix), message, source)
        )
    return out


def validate_model(model: type[M], document: Any, prefix: str = "") -> M:
    """`model.model_validate(document)`, raising `Invalid` with a pointer per problem."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise Invalid(field_errors(exc.errors(), document, prefix)) from exc
