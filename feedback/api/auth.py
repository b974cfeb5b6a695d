"""The guard that turns `Authorization: Bearer …` into a Principal and checks its role.

Every route under /api/v1 declares in its `opt` either `role` (the weakest role allowed),
`instance_admin` (the FEEDBACK_ADMIN_TOKEN) or `public`; `create_app` refuses to start when
a route declares none, so no route is ever open by accident.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from feedback.api.deps import sessions_of, settings_of
from feedback.errors import Forbidden, Unauthenticated
from feedback.orgs.principal import Role
from feedback.orgs.service import resolve_key


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send 'Authorization: Bearer <api key>'.")
    return token.strip()


async def api_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    opt = handler.opt
    # OPTIONS names the methods a path allows and reads nothing; a preflight carries no key.
    if opt.get("public") or connection.scope.get("method") == "OPTIONS":
        return
    if opt.get("instance_admin"):
        expected = settings_of(connection.app.state).admin_token
        token = bearer_token(connection)
        if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
            raise Unauthenticated("The instance admin token is missing or wrong.")
        return
    required = Role(opt["role"])
    token = bearer_token(connection)
    async with sessions_of(connection.app.state)() as session:
        principal = await resolve_key(session, token)
    if not principal.role.allows(required):
        raise Forbidden(f"This needs a key with the '{required.value}' role or stronger.")
    connection.state.principal = principal


def route_access_declared(opt: dict[str, Any]) -> bool:
    return bool(opt.get("public") or opt.get("instance_admin") or opt.get("role"))
