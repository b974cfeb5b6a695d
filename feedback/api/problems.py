"""The one table from exceptions to RFC 9457 problem+json responses, and the app's table, which
leaves the supporters' pages (`/f/`, `/r/`) to their own answer, an HTML page."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

from feedback.clock import utc_text
from feedback.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    StaleRevision,
    TooLarge,
    Unauthenticated,
    UnsupportedFormat,
    pointer,
)
from feedback.logs import redact_target
from feedback.validation import field_errors

log = logging.getLogger("feedback.api")

PROBLEM_JSON = "application/problem+json"


class RateLimited(Exception):
    """Too many requests from one client; retry after `retry_after` seconds. Only HTTP limits
    requests, so this refusal is api/'s own, not the domain's. `origin`: the page's origin, to
    which the refusal is readable (see `rate_limited_handler`)."""

    def __init__(self, detail: str, retry_after: int, origin: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after
        self.origin = origin


TYPE_BASE = "https://feedback.invalid/problems/"

# Domain error → (status, type slug, title). The domain never sees these numbers.
_DOMAIN: dict[type[DomainError], tuple[int, str, str]] = {
    Invalid: (422, "validation", "The request is invalid"),
    NotFound: (404, "not-found", "Not found"),
    Conflict: (409, "conflict", "Conflict with the current state"),
    StaleRevision: (412, "precondition-failed", "Precondition failed"),
    Unauthenticated: (401, "unauthenticated", "Authentication required"),
    Forbidden: (403, "forbidden", "Not allowed for this key's role"),
    TooLarge: (413, "payload-too-large", "Request body too large"),
    UnsupportedFormat: (415, "unsupported-media-type", "Unsupported media type"),
}

_HTTP_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("rate-limited", "Too many requests"),
    503: ("unavailable", "Service unavailable"),
}


@dataclass(frozen=True, slots=True)
class LocatedError(FieldError):
    """A field error whose place in the request `api/` knows when it finds it: a header, a query
    parameter, or the query string as a whole (`source`, shown beside the pointer)."""

    source: str = "body"


_BODYLESS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})


def located(request: Request[Any, Any, Any], error: FieldError) -> LocatedError:
    """Where a domain error's field came from: a member of the JSON body sent, else a path
    parameter of the route, else a query parameter (given, or of a request without a body), else
    the body. (The body first: `response_id` of a revision is both in the URL and in the body,
    and the body's is the one the domain checks against the URL.)"""
    if isinstance(error, LocatedError):
        return error
    name = (
        error.pointer.split("/")[1].replace("~1", "/").replace("~0", "~") if error.pointer else ""
    )
    document = ScopeState.from_scope(request.scope).json
    if not name or (isinstance(document, dict) and name in document):
        source = "body"
    elif name in request.path_params:
        source = "path"
    elif name and (name in request.query_params or request.method in _BODYLESS):
        source = "query"
    else:
        source = "body"
    return LocatedError(error.pointer, error.message, source)


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str | None = None,
    errors: list[LocatedError] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"type": TYPE_BASE + slug, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = [_error_json(e) for e in errors]
    body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _error_json(error: LocatedError) -> dict[str, str]:
    out = {"pointer": error.pointer, "message": error.message}
    if error.source != "body":
        out["source"] = error.source
    return out


def _extra_value(value: object) -> object:
    """A problem's extra member: instants as every other answer writes them (in UTC, with Z)."""
    if isinstance(value, datetime):
        return utc_text(value)
    return value.isoformat() if isinstance(value, date | time) else value


def domain_error_handler(
    request: Request[Any, Any, Any], exc: Exception
) -> Response[dict[str, Any]]:
    assert isinstance(exc, DomainError)
    status, slug, title = next(v for k, v in _DOMAIN.items() if isinstance(exc, k))
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    errors: list[LocatedError] | None = None
    if isinstance(exc, Invalid):
        errors = [located(request, e) for e in exc.errors]
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="feedback"'
    if isinstance(exc, Conflict):
        extra = {k: _extra_value(v) for k, v in exc.extra.items()}
    return problem(status, slug, title, exc.detail, errors, headers or None, **extra)


_MISSING = re.compile(r"Missing required (?P<source>\w+) parameter '(?P<name>[^']*)'")


def validation_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """Litestar's own request validation (body, query, path) → 422 with a pointer per field."""
    assert isinstance(exc, ValidationException)
    cause = exc.__cause__
    errors: list[LocatedError] = []
    if cause is not None and isinstance(getattr(cause, "errors", None), list):
        # pydantic errors of the body, with their structured locations.
        document = ScopeState.from_scope(request.scope).json
        found = field_errors(cause.errors, None if document is Empty else document)  # type: ignore[attr-defined]
        errors = [LocatedError(e.pointer, e.message) for e in found]
    elif isinstance(cause, KeyError) and (missing := _MISSING.match(exc.detail)):
        # A required query parameter or header is absent; Litestar says so only in prose.
        errors = [LocatedError(pointer(missing["name"]), "is required", missing["source"])]
    else:
        for item in exc.extra if isinstance(exc.extra, list) else []:
            key = str(item.get("key", ""))
            source = item.get("source", "body")
            source = str(getattr(source, "value", source))  # Litestar gives a ParamType enum
            if source == "query":
                key = _query_name(request, key)
            ptr = pointer(*key.split(".")) if key else ""
            errors.append(LocatedError(ptr, str(item.get("message", "is invalid")), source))
    return problem(422, "validation", "The request is invalid", "Some fields are invalid.", errors)


def _query_name(request: Request[Any, Any, Any], key: str) -> str:
    """The name a client gives a query parameter that Litestar reports by its handler argument
    (`?state=` is the argument `finding_state`: `state` is Litestar's own name for the app's)."""
    handler = request.scope.get("route_handler")
    if handler is None:
        return key
    model = handler.create_kwargs_model(
        path_parameters=dict.fromkeys(request.path_params)  # type: ignore[arg-type]
    )
    aliases = {p.field_name: p.field_alias for p in model.expected_query_params}
    return str(aliases.get(key, key))


def rate_limited_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    assert isinstance(exc, RateLimited)
    headers = {"Retry-After": str(exc.retry_after)}
    if exc.origin is not None:
        # Readable by whichever page asked: the refusal holds nothing but "wait", and an embed
        # that could not read it would tell the supporter the site is not allowed. (The limit
        # is checked before the survey's allowed origins are read, to keep floods off the
        # database.)
        headers |= {
            "Access-Control-Allow-Origin": exc.origin,
            "Access-Control-Expose-Headers": "Retry-After",
            "Vary": "Origin",
        }
    return problem(429, "rate-limited", "Too many requests", exc.detail, headers=headers)


def http_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status >= 500 and status not in _HTTP_TITLES:
        return internal_error_handler(_, exc)
    slug, title = _HTTP_TITLES.get(status, ("client-error", "Client error"))
    detail = exc.detail if exc.detail and exc.detail != title else None
    headers = dict(exc.headers or {})
    errors = None
    if status == 400 and isinstance(exc.__cause__, SerializationException):
        errors = [LocatedError("", "is not valid JSON")]
    return problem(status, slug, title, detail, errors, headers or None)


def nesting_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """A body nested deeper than the JSON parser descends (it raises RecursionError)."""
    return problem(
        400,
        "bad-request",
        "Bad request",
        "The body is nested too deeply.",
        [LocatedError("", "is nested too deeply")],
    )


def log_internal_error(request: Request[Any, Any, Any], exc: Exception) -> None:
    """Log an unhandled error with its trace for operators (feedback.logs keeps parameters and
    tokens out of it); the client gets no internals."""
    target = redact_target(request.url.path, request.url.query)
    log.error(
        "unhandled error",
        exc_info=exc,
        extra={"http": {"method": request.method, "target": target}},
    )


def internal_error_handler(
    request: Request[Any, Any, Any], exc: Exception
) -> Response[dict[str, Any]]:
    log_internal_error(request, exc)
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal",
        "Internal server error",
        "Something went wrong on our side; it has been logged.",
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    DomainError: domain_error_handler,
    RateLimited: rate_limited_handler,
    ValidationException: validation_handler,
    HTTPException: http_error_handler,
    RecursionError: nesting_handler,
    Exception: internal_error_handler,
}

# The supporters' pages, which answer every refusal with a page in the supporter's language
# (feedback.api.forms.page_error), never with problem+json.
PAGE_PREFIXES = ("/f/", "/r/")

ExceptionHandler = Callable[[Request[Any, Any, Any], Exception], Response[Any]]


def is_page_path(path: str) -> bool:
    return path.startswith(PAGE_PREFIXES) or path in ("/f", "/r")


def app_exception_handlers(page_error: ExceptionHandler) -> dict[type[Exception] | int, Any]:
    """The app's table: EXCEPTION_HANDLERS, but `page_error` on the supporters' pages. Their
    controllers name `page_error` themselves; this is for what the router refuses before any
    controller is chosen: a path under /f/ or /r/ that names no page (404), a method a page
    does not take (405). (`page_error` is passed in: forms.py imports this module.)"""

    def by_path(api_handler: ExceptionHandler) -> ExceptionHandler:
        def handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
            if is_page_path(request.scope["path"]):
                return page_error(request, exc)
            return api_handler(request, exc)

        return handler

    return {key: by_path(api_handler) for key, api_handler in EXCEPTION_HANDLERS.items()}


__all__ = [
    "EXCEPTION_HANDLERS",
    "PROBLEM_JSON",
    "MediaType",
    "app_exception_handlers",
    "is_page_path",
    "problem",
]
