"""trends.csv: the trends answer as a spreadsheet, one row per question, wave, segment and
option (docs/http-api.md "trends.csv" lists the columns).

It flattens the JSON answer itself (`schemas.trends_read`), so the two can never disagree: a
row is the total's, one segment value's or (`small_groups=fold`) the `other` group's figures for
one wave entry (a wave split by a series break gives a row per run), and for a choice question
one row per option. Dates come from the survey's waves, so a suppressed wave has them too. Empty
cells are nulls; booleans are `true` and `false`; instants are ISO 8601 in UTC.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import msgspec

from feedback.analysis.figures import SurveyTrends
from feedback.analysis.schemas import trends_read

COLUMNS = (
    "question",
    "type",
    "metric",
    "segment",
    "segment_value",
    "wave",
    "label",
    "opens_at",
    "closes_at",
    "version",
    "series",
    "option",
    "n",
    "suppressed",
    "suppressed_reason",
    "count",
    "estimate",
    "ci_low",
    "ci_high",
    "change_test",
    "change_from_wave",
    "change_statistic",
    "change_p",
    "change_q",
    "change_significant",
    "change_diff",
    "other",
    "other_members",
)
Row = dict[str, Any]
# A segment value is an organisation's text: one a spreadsheet would run as a formula gets a
# leading `'`, as in the exports.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def trends_csv(trends: SurveyTrends) -> str:
    body: dict[str, Any] = msgspec.to_builtins(trends_read(trends))
    dates = {w.number: (w.opens_at, w.closes_at) for w in trends.waves}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for question in body["questions"]:
        for row in _question_rows(question, body["segment"]):
            opens_at, closes_at = dates.get(row["wave"], (None, None))
            row |= {"opens_at": opens_at, "closes_at": closes_at}
            writer.writerow([_cell(row.get(column)) for column in COLUMNS])
    return buffer.getvalue()


def _question_rows(question: Mapping[str, Any], segment: str | None) -> Iterator[Row]:
    base = {
        "question": question["key"],
        "type": question["type"],
        "metric": question["metric"],
        "other": False,
    }
    options = list(question.get("options", {}))
    scopes: list[tuple[Mapping[str, Any], Row]] = [(question, {})]
    for figures in question.get("segments", {}).values():
        scopes.append((figures, {"segment": segment, "segment_value": figures["value"]}))
    if question.get("other") is not None:
        # small_groups=fold: the small values of each wave together, never a value's own row.
        scopes.append((question["other"], {"segment": segment, "other": True}))
    for figures, scope in scopes:
        for wave in figures["waves"]:
            for row in _wave_rows(wave, options):
                yield base | scope | row


def _wave_rows(wave: Mapping[str, Any], options: list[str]) -> Iterator[Row]:
    suppressed = wave["suppressed"]
    row: Row = {
        "wave": wave["number"],
        "label": wave["label"],
        "version": wave.get("version"),
        "series": wave.get("series"),
        "n": wave["n"],
        "suppressed": bool(suppressed),
        # The reason when the answer names one ("small", "complementary").
        "suppressed_reason": suppressed if isinstance(suppressed, str) else None,
    }
    if "members" in wave:
        row["other_members"] = json.dumps(wave["members"], ensure_ascii=False)
    if not options:
        yield row | _figures(wave) | _change(wave.get("change"))
        return
    for option in options:
        share = wave.get("options", {}).get(option, {})
        change = wave.get("option_changes", {}).get(option, wave.get("change"))
        yield row | {"option": option} | _figures(share) | _change(change)


def _figures(source: Mapping[str, Any]) -> Row:
    return {k: source.get(k) for k in ("count", "estimate", "ci_low", "ci_high")}


def _change(change: Mapping[str, Any] | None) -> Row:
    if not change:
        return {}
    return {
        "change_test": change["test"],
        "change_from_wave": change["from_wave"],
        "change_statistic": change["statistic"],
        "change_p": change["p"],
        "change_q": change["q"],
        "change_significant": change["significant"],
        "change_diff": change["diff"],
    }


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
