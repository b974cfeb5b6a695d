"""Schemas of the answers whose handlers return plain dicts (the analysis results, a subject
access export, readiness), written from API.md's contract: the named fields are required and
typed; more fields are welcome (API.md), so none is closed. The fuzzer validates every such
answer against these (tests/api/test_fuzz.py)."""

from __future__ import annotations

from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Reference, Schema

_NULL = OpenAPIType.NULL
_INT = Schema(type=OpenAPIType.INTEGER)
_COUNT = Schema(type=OpenAPIType.INTEGER, minimum=0)
_TEXT = Schema(type=OpenAPIType.STRING)
_BOOL = Schema(type=OpenAPIType.BOOLEAN)
_NUMBER_OR_NULL = Schema(type=[OpenAPIType.NUMBER, _NULL])
_INT_OR_NULL = Schema(type=[OpenAPIType.INTEGER, _NULL])
_INSTANT = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE_TIME)
_OBJECT = Schema(type=OpenAPIType.OBJECT)


def _ref(name: str) -> Reference:
    return Reference(ref=f"#/components/schemas/{name}")


def _nullable_ref(name: str) -> Schema:
    return Schema(one_of=[_ref(name), Schema(type=_NULL)])


CHANGE = Schema(
    type=OpenAPIType.OBJECT,
    description="A wave compared with the previous comparable wave.",
    required=["test", "p"],
    properties={
        "test": _TEXT,
        "from_wave": _INT_OR_NULL,
        "statistic": _NUMBER_OR_NULL,
        "p": _NUMBER_OR_NULL,
        "q": _NUMBER_OR_NULL,
        "significant": Schema(type=[OpenAPIType.BOOLEAN, _NULL]),
        "diff": _NUMBER_OR_NULL,
        "reason": Schema(type=[OpenAPIType.STRING, _NULL]),
    },
)

TREND = Schema(
    type=OpenAPIType.OBJECT,
    description="Mann–Kendall over the segment's non-suppressed waves, with Sen's slope.",
    required=["test", "p", "slope", "direction", "waves"],
    properties={
        "test": _TEXT,
        "s": _INT,
        "tau": Schema(type=OpenAPIType.NUMBER),
        "z": Schema(type=OpenAPIType.NUMBER),
        "p": Schema(type=OpenAPIType.NUMBER),
        "slope": Schema(type=OpenAPIType.NUMBER),
        "direction": _TEXT,
        "waves": _COUNT,
    },
)

TREND_WAVE = Schema(
    type=OpenAPIType.OBJECT,
    description="A wave of a trend; a suppressed one carries only number, label, n, suppressed.",
    required=["number", "label", "n", "suppressed"],
    properties={
        "number": _INT,
        "label": _TEXT,
        "n": _COUNT,
        "suppressed": _BOOL,
        "opens_at": _INSTANT,
        "closes_at": _INSTANT,
        "version": _INT_OR_NULL,
        "estimate": _NUMBER_OR_NULL,
        "ci_low": _NUMBER_OR_NULL,
        "ci_high": _NUMBER_OR_NULL,
        "distribution": Schema(type=OpenAPIType.OBJECT, additional_properties=_COUNT),
        "options": _OBJECT,
        "change": _nullable_ref("Change"),
        "option_changes": Schema(type=OpenAPIType.OBJECT, additional_properties=_ref("Change")),
    },
)

_TREND_FIELDS: dict[str, Schema | Reference] = {
    "waves": Schema(type=OpenAPIType.ARRAY, items=_ref("TrendWave")),
    "trend": _nullable_ref("Trend"),
    "trend_reason": Schema(type=[OpenAPIType.STRING, _NULL]),
    "option_trends": Schema(type=OpenAPIType.OBJECT, additional_properties=_nullable_ref("Trend")),
}

TREND_QUESTION = Schema(
    type=OpenAPIType.OBJECT,
    required=["key", "type", "metric", "label", "waves", "trend"],
    properties={
        "key": _TEXT,
        "type": _TEXT,
        "metric": Schema(type=[OpenAPIType.STRING, _NULL]),
        "label": _TEXT,
        **_TREND_FIELDS,
        "breaks": Schema(type=OpenAPIType.ARRAY),
        "decisions": Schema(type=OpenAPIType.ARRAY),
        "segments": Schema(
            type=OpenAPIType.OBJECT,
            additional_properties=Schema(
                type=OpenAPIType.OBJECT, required=["waves"], properties=_TREND_FIELDS
            ),
        ),
    },
)

TRENDS = Schema(
    type=OpenAPIType.OBJECT,
    description="Per question: its waves, changes, trend, breaks and decisions (API.md).",
    required=["survey", "questions"],
    properties={
        "survey": _TEXT,
        "min_n": _COUNT,
        "segment": Schema(type=[OpenAPIType.STRING, _NULL]),
        "questions": Schema(type=OpenAPIType.ARRAY, items=_ref("TrendQuestion")),
    },
)

PANEL = Schema(
    type=OpenAPIType.OBJECT,
    description="Change within the same respondents between two waves (API.md).",
    required=["question", "type", "from_wave", "to_wave", "n_pairs", "suppressed", "test"],
    properties={
        "question": _TEXT,
        "type": _TEXT,
        "from_wave": _INT,
        "to_wave": _INT,
        "min_n": _COUNT,
        "n_pairs": _COUNT,
        "suppressed": _BOOL,
        "test": _TEXT,
        "statistic": _NUMBER_OR_NULL,
        "p": _NUMBER_OR_NULL,
        "options": _OBJECT,
    },
)

RESPONDENT_EXPORT = Schema(
    type=OpenAPIType.OBJECT,
    description="Everything stored about one respondent: the record and every response.",
    required=["respondent", "responses"],
    properties={
        "respondent": _ref("RespondentRead"),
        "responses": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["survey", "response_id", "wave", "submitted_at"],
                properties={
                    "survey": _TEXT,
                    "response_id": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.UUID),
                    "wave": _INT,
                    "submitted_at": _INSTANT,
                },
            ),
        ),
    },
)

READY = Schema(
    type=OpenAPIType.OBJECT,
    required=["status", "database", "revision"],
    properties={"status": _TEXT, "database": _TEXT, "revision": _TEXT},
)

COMPONENTS: dict[str, Schema] = {
    "Change": CHANGE,
    "Trend": TREND,
    "TrendWave": TREND_WAVE,
    "TrendQuestion": TREND_QUESTION,
    "Trends": TRENDS,
    "Panel": PANEL,
    "RespondentExport": RESPONDENT_EXPORT,
    "Ready": READY,
}

# Operation id → the component its 200 answer is.
ANSWERS: dict[str, str] = {
    "GetTrends": "Trends",
    "GetPanel": "Panel",
    "ExportRespondent": "RespondentExport",
    "Ready": "Ready",
}
