"""Refusals every route shares, made before its handler runs (the app's `before_request`).

- A body for a route that reads JSON must say it is JSON: 415 otherwise. A form body or
  `text/plain` would otherwise be parsed as JSON by chance, or not at all.
- No NUL character in a query or a JSON body: PostgreSQL cannot store or compare one, and a
  value that cannot be stored must be refused at its field (422), not fail on the way in. A
  JSON body can only carry one escaped (`\\u0000`), so the body is searched for that before
  anything is decoded, and decoded only to name the fields that hold it. (msgspec already
  refuses lone surrogates as malformed JSON.) A path with one names nothing that exists: 404.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler

from feedback.api.problems import LocatedError
from feedback.errors import Invalid, NotFound, UnsupportedFormat
from feedback.validation import UNSAFE_TEXT, safe_text, unsafe_text

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Handler function → whether it reads a JSON body; filled as routes are first called.
_READS_JSON: dict[object, bool] = {}


def _reads_json(handler: HTTPRouteHandler) -> bool:
    key = handler.fn
    known = _READS_JSON.get(key)
    if known is None:
        data = handler.parsed_fn_signature.parameters.get("data")
        media_type = getattr(getattr(data, "kwarg_definition", None), "media_type", None)
        known = data is not None and media_type in (None, RequestEncodingType.JSON)
        _READS_JSON[key] = known
    return known


def _is_json(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


def _has_body(request: Request[Any, Any, Any]) -> bool:
    headers = request.headers
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


async def check_request(request: Request[Any, Any, Any]) -> None:
    """Raise the shared refusals; return None to let the handler run."""
    scope = request.scope
    query = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        raise Invalid(
            [
                LocatedError("/" + name, UNSAFE_TEXT, "query")
                for name, value in request.query_params.multi_items()
                if not safe_text(value) or not safe_text(name)
            ]
            or [LocatedError("", UNSAFE_TEXT, "query")],
            "The query holds a NUL character.",
        )
    if "\x00" in scope.get("path", ""):
        # Nothing is named with one: such a path finds nothing (and never reaches a query).
        raise NotFound("No such resource.")
    handler = request.route_handler
    if request.method not in _BODY_METHODS or not isinstance(handler, HTTPRouteHandler):
        return
    if not _reads_json(handler) or not _has_body(request):
        return
    if not _is_json(request.headers.get("content-type", "")):
        raise UnsupportedFormat("Send this body as application/json.")
    body = await request.body()
    if b"\\u0000" in body:
        try:
            document = msgspec.json.decode(body)
        except (msgspec.DecodeError, RecursionError):
            return  # malformed or too deep: the body's own parsing says so
        errors = unsafe_text(document)
        if errors:
            raise Invalid(errors, "Some text holds a NUL character.")
