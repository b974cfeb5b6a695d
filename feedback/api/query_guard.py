"""Unknown query parameters, and a parameter of one value given twice, answer 422 on the routes
that use this guard.

A misspelt filter (`chanel=event`) would otherwise be ignored, and of a repeated one
(`channel=event&channel=embed`) only the last value used: either way the figures would look like
an answer to the question asked. The parameters a route accepts are the query parameters of its
handler's signature, as Litestar itself parses them, so a parameter added to a handler is
accepted without any list to keep up to date.
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from feedback.api.problems import LocatedError
from feedback.errors import FieldError, Invalid, pointer

# Where a handler's `opt` keeps the query names it declares, worked out on its first request.
_NAMES = "_query_names"


def known_query_parameters(connection: ASGIConnection, handler: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    """Raise Invalid naming every query parameter the handler does not declare, and every one
    of a single value that is given more than once."""
    names, lists = _query_names(handler, connection)
    given = connection.query_params
    errors: list[FieldError] = [
        LocatedError(pointer(name), "is not a parameter of this route", "query")
        for name in sorted(set(given) - names)
    ]
    errors += [
        LocatedError(
            pointer(name),
            "is given more than once: give it once (a list separated by commas)",
            "query",
        )
        for name in sorted(set(given) & names - lists)
        if len(given.getall(name)) > 1
    ]
    if errors:
        raise Invalid(errors, "Unknown or repeated query parameters.")


def _query_names(
    handler: BaseRouteHandler,
    connection: ASGIConnection,  # type: ignore[type-arg]
) -> tuple[frozenset[str], frozenset[str]]:
    """The query names the handler declares, and those of them that take a list."""
    found: tuple[frozenset[str], frozenset[str]] | None = handler.opt.get(_NAMES)
    if found is None:
        # A handler serves one path template, so its path parameters are the same every time.
        model = handler.create_kwargs_model(
            path_parameters=dict.fromkeys(connection.path_params)  # type: ignore[arg-type]
        )
        params = model.expected_query_params
        found = (
            frozenset(p.field_alias for p in params),
            frozenset(p.field_alias for p in params if p.is_sequence),
        )
        handler.opt[_NAMES] = found
    return found
