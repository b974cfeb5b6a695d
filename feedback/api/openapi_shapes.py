"""Schemas of the answers whose handlers return plain dicts (a subject access export,
readiness), written from the HTTP contract: the named fields are required and
typed; more fields are welcome (docs/http-api.md), so none is closed. The fuzzer validates
every such answer against these (tests/api/test_fuzz.py)."""

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
    "RespondentExport": RESPONDENT_EXPORT,
    "Ready": READY,
}

# Operation id → the component its 200 answer is.
ANSWERS: dict[str, str] = {
    "ExportRespondent": "RespondentExport",
    "Ready": "Ready",
}
