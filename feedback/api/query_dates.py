"""The `from` and `to` dates of the routes that list waves (trends, charts, exports, the waves
themselves): taken as text and parsed here rather than by Litestar, so that a bad one is
reported under the parameter's own name (`from` cannot be a Python parameter name), and written
one way only, YYYY-MM-DD (`date.fromisoformat` would also read `20250101`)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from litestar.params import QueryParameter

from feedback.errors import FieldError, Invalid

FromDate = Annotated[
    str | None,
    QueryParameter(
        name="from", description="First opening date of the waves, YYYY-MM-DD (inclusive)."
    ),
]
ToDate = Annotated[
    str | None,
    QueryParameter(
        name="to", description="Last opening date of the waves, YYYY-MM-DD (inclusive)."
    ),
]
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def query_dates(**texts: str | None) -> list[date | None]:
    """Query dates by parameter name; every bad one is reported under its own name."""
    out: list[date | None] = []
    errors: list[FieldError] = []
    for name, text in texts.items():
        try:
            if text is not None and not _DATE.fullmatch(text):
                raise ValueError(text)
            out.append(None if text is None else date.fromisoformat(text))
        except ValueError:
            errors.append(FieldError(f"/{name}", "must be a date, YYYY-MM-DD"))
    if errors:
        raise Invalid(errors, "The dates are invalid.")
    return out
