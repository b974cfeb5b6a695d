"""The OpenAPI document made exact, in one place, the first time it is served.

Litestar documents each operation's success answer and, for any handler with parameters, a 400
in the shape of its own `ValidationException`, which this API never sends. Here every operation
gets instead the error answers it can actually give, as `application/problem+json` with the
`Problem` schema (`feedback.api.problems`), or as an HTML page for the pages supporters open;
and each path gets its OPTIONS operation. What an operation can give follows from what it
declares (its access rule in `opt`, its parameters and body) plus the refusals of the domain
that depend on the state: listed below by operation id, or declared by a handler itself as
`opt={"refusals": (409,)}`. Schemathesis holds the app to this document (tests/api/test_fuzz.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Litestar, Router
from litestar.connection import ASGIConnection
from litestar.enums import MediaType
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    PathItem,
    Reference,
    RequestBody,
    Schema,
)
from litestar.routes import HTTPRoute

from feedback.api import openapi_shapes as shapes
from feedback.api.forms import page_error, rate_limit
from feedback.api.openapi_models import typed_components
from feedback.api.problems import PROBLEM_JSON
from feedback.api.public_guard import PublicSurveyGuard

_REF = "#/components/schemas/"

_FIELD_ERROR = Schema(
    type=OpenAPIType.OBJECT,
    required=["pointer", "message"],
    properties={
        "pointer": Schema(type=OpenAPIType.STRING, description="JSON Pointer to the field"),
        "message": Schema(type=OpenAPIType.STRING),
        "source": Schema(
            type=OpenAPIType.STRING,
            enum=["query", "path", "header", "cookie", "body"],
            description="Where the field is; absent for the body.",
        ),
    },
)

PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    description="RFC 9457 problem details.",
    required=["type", "title", "status"],
    properties={
        "type": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.URI),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER, minimum=400, maximum=599),
        "detail": Schema(type=OpenAPIType.STRING),
        "errors": Schema(type=OpenAPIType.ARRAY, items=_FIELD_ERROR),
        # Members a 409 adds to say what is in the way.
        "changes": Schema(
            type=OpenAPIType.ARRAY,
            items=Reference(ref=_REF + "ChangeRead"),
            description="Publish: the changes that break a series (send `confirm_breaks`).",
        ),
        "questions": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(type=OpenAPIType.STRING),
            description="Discarding a draft: the public questions only the draft asks.",
        ),
        "next_opens_at": Schema(
            type=[OpenAPIType.STRING, OpenAPIType.NULL],
            format=OpenAPIFormat.DATE_TIME,
            description="A closed survey: when its next wave opens (null: none is planned).",
        ),
        "closed_at": Schema(
            type=OpenAPIType.STRING,
            format=OpenAPIFormat.DATE_TIME,
            description="A revision of a closed wave: when the wave closed.",
        ),
        "decision_ids": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.UUID),
            description="A finding a decision answers: those decisions.",
        ),
        "response_id": Schema(
            type=OpenAPIType.STRING,
            format=OpenAPIFormat.UUID,
            description="A response id used again for other answers.",
        ),
    },
)

_DESCRIPTIONS = {
    304: "Not modified (the `If-None-Match` ETag matches)",
    400: "The body is not valid JSON, or is nested too deeply",
    401: "No key, or a key that is not valid",
    403: "The key's role is too weak, or the origin is not allowed",
    404: "Not found in the key's organisation",
    405: "Method not allowed",
    409: "Conflict with the current state",
    412: "The `If-Match` revision is stale",
    413: "The body is too large",
    415: "The body is not in a media type this operation reads",
    422: "A field is invalid; `errors` names each one",
    429: "Too many requests; `Retry-After` says when to retry",
    503: "Not ready",
}

# Refusals of the domain that depend on the state, not on the shape of the request.
_DOMAIN_STATUSES: dict[str, tuple[int, ...]] = {
    "CreateOrg": (409,),
    "CreateSurvey": (409,),
    "UpdateSurvey": (409,),
    "PutDraft": (409,),
    "DiscardDraft": (409,),
    "Publish": (409,),
    "Archive": (409,),
    "CreateRespondent": (409,),
    "UpdateRespondent": (409,),
    "SubmitResponse": (409,),
    "ReviseResponse": (409, 412),
    "CreateDecision": (409,),
    "UpdateDecision": (409,),
    "ImportResponses": (409,),
    "UpdateFinding": (409,),
    "SubmitHostedForm": (422,),  # the form again, its invalid answers marked
    "Ready": (503,),
    "EmbedScript": (304,),
    "FormStylesheet": (304,),
}

# Idempotent creations: a retry with the same id and body answers 200 with the first result.
_REPLAYED = frozenset({"SubmitResponse"})

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

_TEXT = Schema(type=OpenAPIType.STRING)
# Bodies the handlers read themselves (so Litestar cannot see them), by operation id.
_RAW_BODIES: dict[str, RequestBody] = {
    "ImportResponses": RequestBody(
        required=True,
        description="One submission a line (NDJSON), or one response a row (CSV).",
        content={
            "application/x-ndjson": OpenAPIMediaType(schema=_TEXT),
            "text/csv": OpenAPIMediaType(schema=_TEXT),
        },
    ),
    "SubmitHostedForm": RequestBody(
        required=True,
        description="The form's fields: `q.<question key>` answers, `_version`, `_locale`.",
        content={
            "application/x-www-form-urlencoded": OpenAPIMediaType(
                schema=Schema(type=OpenAPIType.OBJECT, additional_properties=_TEXT)
            )
        },
    ),
}


def schema_router(path: str) -> Router:
    """The router Litestar serves the document and its viewers on. Building the document costs
    about as much as building the app, so it is built and completed when first asked for."""
    return Router(path, route_handlers=[], include_in_schema=False, guards=[_completed])


async def _completed(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    complete_openapi(connection.app)


def complete_openapi(app: Litestar) -> None:
    """Complete the app's OpenAPI document (Litestar builds it once and caches it); again
    changes nothing."""
    document = app.openapi_schema
    components = document.components
    if components.schemas and "Problem" in components.schemas:
        return
    schemas = dict(components.schemas or {})
    models = typed_components(schemas)
    components.schemas = {**schemas, **models, "Problem": PROBLEM, **shapes.COMPONENTS}
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path_format in (document.paths or {}):
            _complete_path(document, route)


def _complete_path(document: OpenAPI, route: HTTPRoute) -> None:
    assert document.paths is not None
    item: PathItem = document.paths[route.path_format]
    path_parameters: list[Any] = []
    for handler in route.route_handlers:
        if not handler.include_in_schema:
            continue
        for method in handler.http_methods - {"OPTIONS", "HEAD"}:
            operation: Operation | None = getattr(item, method.lower())
            if operation is None:
                continue
            _complete_operation(operation, handler, method)
            path_parameters = [
                p for p in operation.parameters or [] if getattr(p, "param_in", None) == "path"
            ]
    if item.options is None:
        item.options = Operation(
            operation_id=f"Options{_pascal(route.path_format)}",
            summary="The methods this path allows",
            parameters=path_parameters or None,
            security=[],
            responses={
                "204": OpenAPIResponse(
                    description="The methods this path allows, in `Allow`",
                    headers={"Allow": OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING))},
                ),
                **_errors((404, 422), html=False),
            },
        )


def _complete_operation(operation: Operation, handler: HTTPRouteHandler, method: str) -> None:
    opt: dict[str, Any] = handler.opt
    operation_id = str(operation.operation_id)
    if operation_id in _RAW_BODIES:
        operation.request_body = _RAW_BODIES[operation_id]
    # The supporters' pages answer every refusal with a page, and a request not understood
    # (an invalid field included) with 400.
    html = page_error in handler.resolve_exception_handlers().values()
    statuses = {400 if html else 422}  # a NUL in a query is refused before any handler runs
    if opt.get("instance_admin"):
        statuses.add(401)
    elif opt.get("role"):
        statuses |= {401, 403}
    parameters = operation.parameters or []
    if any(getattr(p, "param_in", None) == "path" for p in parameters):
        statuses.add(404)
    if method in _BODY_METHODS and operation.request_body is not None:
        statuses |= {400, 413, 415}
    if any(isinstance(m, PublicSurveyGuard) for m in handler.resolve_middleware()):
        statuses.add(429)
        if method in _BODY_METHODS:
            statuses.add(403)  # a write from an origin the survey does not allow
    if rate_limit in [getattr(g, "func", g) for g in handler.resolve_guards()]:
        statuses.add(429)
    statuses |= set(_DOMAIN_STATUSES.get(operation_id, ()))
    statuses |= set(opt.get("refusals", ()))
    if html:
        statuses = {400 if s in (409, 412) else s for s in statuses}
    responses = {
        code: answer
        for code, answer in (operation.responses or {}).items()
        if not code.startswith(("4", "5"))  # Litestar's own shape of a 400, never sent
    }
    responses.update(_errors(sorted(statuses), html=html))
    if 304 in statuses:
        responses["304"] = OpenAPIResponse(description=_DESCRIPTIONS[304])
    answer = shapes.ANSWERS.get(operation_id)
    ok = responses.get("200")
    if answer is not None and isinstance(ok, OpenAPIResponse):
        ok.content = {"application/json": OpenAPIMediaType(schema=Reference(ref=_REF + answer))}
    first = responses.get("201")
    if operation_id in _REPLAYED and isinstance(first, OpenAPIResponse):
        responses["200"] = OpenAPIResponse(
            description="The same request again: nothing new is stored; the first answer",
            content=first.content,
            headers=first.headers,
        )
    operation.responses = responses


def _errors(statuses: Iterable[int], *, html: bool) -> dict[str, OpenAPIResponse]:
    page = OpenAPIMediaType(schema=_TEXT)
    problem = OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))
    retry_after: dict[str, OpenAPIHeader | Reference] = {
        "Retry-After": OpenAPIHeader(
            schema=Schema(type=OpenAPIType.INTEGER), description="Seconds to wait"
        )
    }
    return {
        str(status): OpenAPIResponse(
            description=_DESCRIPTIONS[status],
            content={MediaType.HTML.value: page} if html else {PROBLEM_JSON: problem},
            headers=retry_after if status == 429 else None,
        )
        for status in statuses
        if status != 304  # no body
    }


def _pascal(path: str) -> str:
    words = path.replace("{", "").replace("}", "").replace(".", "/").replace("-", "/").split("/")
    return "".join(w[:1].upper() + w[1:] for w in words if w) or "Root"
