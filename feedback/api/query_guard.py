"""Unknown query parameters answer 422 on the routes that use this guard.

A misspelt filter (`chanel=event`) would otherwise be ignored and the figures would look like
an answer to the question asked. The parameters a route accepts are the query parameters of its
handler's signature, as Litestar itself parses them, so a parameter added to a handler is
accepted without any list to keep up to date.
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from feedback.api.problems import LocatedError
from feedback.errors import Invalid, pointer

# Where a handler's `opt` keeps the query names it declares, worked out on its first request.
_NAMES = "_query_names"


def known_query_parameters(connection: ASGIConnection, handler: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    """Raise Invalid naming every query parameter the handler does not declare."""
    unknown = sorted(set(connection.query_params) - _query_names(handler, connection))
    if unknown:
        raise Invalid(
            [
                LocatedError(pointer(name), "is not a parameter of this route", "query")
                for name in unknown
            ],
            "Unknown query parameters.",
        )


def _query_names(handler: BaseRouteHandler, connection: ASGIConnection) -> frozenset[str]:  # type: ignore[type-arg]
    names: frozenset[str] | None = handler.opt.get(_NAMES)
    if names is None:
        # A handler serves one path template, so its path parameters are the same every time.
        model = handler.create_kwargs_model(
            path_parameters=dict.fromkeys(connection.path_params)  # type: ignore[arg-type]
        )
        names = frozenset(p.field_alias for p in model.expected_query_params)
        handler.opt[_NAMES] = names
    return names
