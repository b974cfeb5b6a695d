"""Build XLSForm workbooks in memory with openpyxl, sheet by sheet, as a person would type them."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook

Sheet = Sequence[Sequence[object]]
"""A sheet as rows of cells; the first row is the header. `None` leaves a cell empty."""


def xlsform(
    survey: Sheet,
    choices: Sheet | None = None,
    settings: Sheet | None = None,
    *,
    survey_sheet_name: str = "survey",
) -> bytes:
    """The .xlsx bytes of a workbook with the given sheets (choices and settings if given)."""
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = survey_sheet_name
    _fill(first, survey)
    for title, rows in (("choices", choices), ("settings", settings)):
        if rows is not None:
            _fill(book.create_sheet(title), rows)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _fill(sheet: object, rows: Sheet) -> None:
    for row in rows:
        sheet.append(list(row))  # type: ignore[attr-defined]
