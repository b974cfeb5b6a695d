"""Build organisations and keys through the real API."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import ADMIN_TOKEN


@dataclass(frozen=True)
class Org:
    slug: str
    admin: str
    campaigner: str
    analyst: str

    def auth(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}


async def make_org(client: AsyncTestClient[Litestar], slug: str = "acme") -> Org:
    created = await client.post(
        "/api/v1/orgs",
        json={"slug": slug, "name": slug.title()},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert created.status_code == 201, created.text
    admin = created.json()["admin_key"]
    keys = {}
    for role in ("campaigner", "analyst"):
        made = await client.post(
            "/api/v1/keys",
            json={"name": f"{role} key", "role": role},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert made.status_code == 201, made.text
        keys[role] = made.json()["key"]
    return Org(slug=slug, admin=admin, **keys)
