"""The fields the wire models take as plain JSON, typed in the OpenAPI document by the very
pydantic models the domain validates them with.

A survey's `definition`, `settings` and `schedule` arrive as JSON objects and are validated by
`feedback.surveys` (which reports every problem with its pointer); respondents' `attributes` are
a map whose constrained keys Litestar renders as an array. Litestar sees only `dict[str, Any]`
(or gets the map wrong), so here pydantic writes their JSON Schema (draft 2020-12, which
OpenAPI 3.1 uses), and each such property of a component is replaced by it. A question type or
setting added to those models appears in the document with no change here.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from litestar.openapi.spec import Discriminator, OpenAPIType, Reference, Schema
from pydantic import TypeAdapter

from feedback.responses.schemas import AttributeMap
from feedback.surveys.definition import Definition, Question
from feedback.surveys.settings import Schedule, SurveySettings

_REF = "#/components/schemas/{model}"

# What an answer can be in JSON: a number (scales, NPS, numbers), a string (an option key, a
# text) or option keys (multi-choice); null is unanswered. Which of these a question takes is
# `feedback.surveys.answers`' to check (422 naming the answer), per the question's type.
AnswerJson = int | float | str | list[str] | None
Answers = dict[str, AnswerJson]

# Component → property → the type the server validates it with.
TYPED: dict[str, dict[str, Any]] = {
    "SurveyCreate": {
        "definition": Definition,
        "settings": SurveySettings,
        "schedule": Schedule | None,
    },
    "SurveyUpdate": {"settings": SurveySettings | None, "schedule": Schedule | None},
    "SurveyRead": {"settings": SurveySettings, "schedule": Schedule | None},
    "DraftPut": {"definition": Definition},
    "VersionRead": {"definition": Definition},
    "FormRead": {"questions": list[Question]},
    "SubmissionCreate": {"answers": Answers},
    "RevisionCreate": {"answers": Answers},
    "ResponseRead": {"answers": Answers},
    "ResponseDetail": {"answers": Answers},
    "RevisionRead": {"answers": Answers},
    "RespondentCreate": {"attributes": AttributeMap},
    "RespondentUpdate": {"attributes": AttributeMap},
    "RespondentRead": {"attributes": AttributeMap},
}

_FIELDS = {f.name for f in dataclasses.fields(Schema)}
# JSON Schema keywords whose Schema field is not their snake_case name.
_RENAMED = {"not": "schema_not", "if": "schema_if", "else": "schema_else"}
_SUBSCHEMA = {"items", "additional_properties", "property_names", "schema_not", "contains"}
_SUBSCHEMA_LISTS = {"all_of", "any_of", "one_of", "prefix_items"}


def typed_components(components: dict[str, Schema]) -> dict[str, Schema]:
    """The models' schemas to add to the document's components, after replacing the typed
    properties of `components` in place."""
    keys = [(component, name) for component, fields in TYPED.items() for name in fields]
    schemas, top = TypeAdapter.json_schemas(
        [((c, n), "validation", TypeAdapter(TYPED[c][n])) for c, n in keys], ref_template=_REF
    )
    defs: dict[str, dict[str, Any]] = top.get("$defs", {})
    _require_discriminators(defs)
    added = {name: _component(s) for name, s in defs.items()}
    clash = added.keys() & components.keys()
    if clash:
        raise RuntimeError(f"components named twice: {sorted(clash)}")
    for ((component, name), _mode), schema in schemas.items():
        target = components[component]
        assert target.properties is not None and name in target.properties, (component, name)
        before = target.properties[name]
        typed = _schema(schema)
        if isinstance(typed, Schema) and isinstance(before, Schema):
            typed.description = typed.description or before.description
        target.properties[name] = typed
    return added


def _require_discriminators(defs: dict[str, dict[str, Any]]) -> None:
    """A question's `type` has a default in its model, but the union is told apart by it, so
    the server requires it: say so in each member's schema."""
    for data in _walk(defs):
        discriminator = data.get("discriminator")
        if isinstance(discriminator, dict):
            for ref in discriminator.get("mapping", {}).values():
                member = defs[ref.rsplit("/", 1)[-1]]
                member["required"] = sorted(
                    {*member.get("required", []), discriminator["propertyName"]}
                )


def _walk(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        return [data, *(d for v in data.values() for d in _walk(v))]
    if isinstance(data, list):
        return [d for v in data for d in _walk(v)]
    return []


def _component(data: dict[str, Any]) -> Schema:
    schema = _schema(data)
    assert isinstance(schema, Schema)  # pydantic names a model in $defs, never a bare $ref
    return schema


def _schema(data: dict[str, Any]) -> Schema | Reference:
    """A JSON Schema (as pydantic writes it) as Litestar's OpenAPI objects; a keyword Litestar
    cannot hold is an error rather than dropped, so the document never says less than the
    model."""
    if "$ref" in data:
        return Reference(ref=data["$ref"])
    out: dict[str, Any] = {}
    for keyword, value in data.items():
        name = _RENAMED.get(keyword) or re.sub(r"(?<!^)([A-Z])", r"_\1", keyword).lower()
        if name not in _FIELDS:
            raise ValueError(f"JSON Schema keyword {keyword!r} has no OpenAPI field")
        if name == "type":
            value = (
                [OpenAPIType(t) for t in value] if isinstance(value, list) else OpenAPIType(value)
            )
        elif name == "discriminator":
            value = Discriminator(property_name=value["propertyName"], mapping=value.get("mapping"))
        elif name in ("properties", "pattern_properties"):
            value = {k: _schema(v) for k, v in value.items()}
        elif name in _SUBSCHEMA and isinstance(value, dict):
            value = _schema(value)
        elif name in _SUBSCHEMA_LISTS:
            value = [_schema(v) for v in value]
        out[name] = value
    return Schema(**out)
