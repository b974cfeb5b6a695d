"""Two organisations with the same survey slug and rich data, for the tenancy sweep.

Each organisation gets a marker (`zqxa`, `zqxb`) written into everything a reader can see
(titles, decisions, respondents' attributes, text answers, webhook URLs), so that an answer
given to the other organisation's key can be searched for it.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.config import Settings
from tests.builders.loop import DEFINITION, jumps
from tests.builders.orgs import Org, make_org
from tests.builders.responses import database, make_respondent, submission, submitted
from tests.builders.surveys import MONTHLY, make_survey

Client = AsyncTestClient[Litestar]


def definition() -> dict[str, Any]:
    """The findings pulse, with a text question for the texts route."""
    out = copy.deepcopy(DEFINITION)
    out["questions"].append({"key": "comment", "type": "text", "label": "Anything else?"})
    return out


@dataclass
class Tenant:
    org: Org
    marker: str
    only: str  # a survey slug only this organisation has; both have "pulse"
    ids: dict[str, str] = field(default_factory=dict)
    report_token: str = ""

    @property
    def secrets(self) -> list[str]:
        """What must never appear in an answer to another organisation's key."""
        return [self.marker, self.org.slug, self.only, self.report_token, *self.ids.values()]


async def make_tenant(client: Client, settings: Settings, slug: str, marker: str) -> Tenant:
    org = await make_org(client, slug)
    tenant = Tenant(org=org, marker=marker, only=f"{slug}-only")
    for survey in ("pulse", tenant.only):
        await make_survey(
            client,
            org,
            slug=survey,
            definition=definition(),
            schedule=MONTHLY,
            settings={"locales": ["en", "nl", "es"], "public_questions": ["trust"]},
        )
        renamed = await client.patch(
            f"/api/v1/surveys/{survey}", json={"title": f"{marker} {survey}"}, headers=org.auth()
        )
        assert renamed.status_code == 200, renamed.text
    trust_finding, _ = await jumps(client, org, settings)
    decided = await client.post(
        "/api/v1/surveys/pulse/decisions",
        json={
            "title": f"{marker} decision",
            "decided_at": "2025-03-01T00:00:00Z",
            "public": True,
            "finding_ids": [trust_finding],
        },
        headers=org.auth("campaigner"),
    )
    assert decided.status_code == 201, decided.text
    respondent = await make_respondent(client, org, external_ref=f"{marker}-crm", city=marker)
    answered = await submitted(
        client,
        org,
        submission(
            answers={"trust": 4, "comment": f"{marker} says hello"},
            respondent_token=respondent["token"],
        ),
    )
    hook = await client.post(
        "/api/v1/webhooks",
        json={"url": f"https://93.184.215.14/{marker}", "events": ["response.created"]},
        headers=org.auth(),
    )
    assert hook.status_code == 201, hook.text
    link = await client.post(
        "/api/v1/surveys/pulse/report-links", json={"expires_in": 86400}, headers=org.auth()
    )
    assert link.status_code == 201, link.text
    tenant.report_token = link.json()["url"].rstrip("/").rsplit("/", 1)[-1]
    keys = (await client.get("/api/v1/keys", headers=org.auth())).json()["items"]
    tenant.ids = {
        "finding_id": trust_finding,
        "decision_id": decided.json()["id"],
        "respondent_id": respondent["id"],
        "respondent_token": respondent["token"],
        "response_id": answered["response_id"],
        "edit_token": answered["edit_token"],
        "webhook_id": hook.json()["id"],
        "key_id": next(k["id"] for k in keys if k["role"] == "analyst"),
    }
    return tenant


async def org_id(url: str, slug: str) -> uuid.UUID:
    async with database(url) as conn:
        found = await conn.scalar(
            sa.text("SELECT id FROM organisation WHERE slug = :s"), {"s": slug}
        )
    return found if isinstance(found, uuid.UUID) else uuid.UUID(str(found))


# The parent through which a table without `org_id` belongs to an organisation.
OWNERS = {
    "response_id": ("response_id", "response"),
    "survey_id": ("survey_id", "survey"),
    "webhook_id": ("webhook_id", "webhook"),
    "delivery_id": ("delivery_id", "webhook_delivery"),
}


async def snapshot(url: str, org: uuid.UUID) -> dict[str, tuple[int, str]]:
    """Per table, the organisation's rows: how many, and a hash of them all. A table without
    `org_id` is filtered through its parent row (OWNERS), else taken whole."""
    async with database(url) as conn:
        names: list[str] = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        out = {}
        for name in sorted(set(names) - {"alembic_version"}):
            columns = await conn.run_sync(
                lambda c, n=name: [col["name"] for col in sa.inspect(c).get_columns(n)]
            )
            if "org_id" in columns:
                where, params = " WHERE org_id = :org", {"org": org}
            elif name == "organisation":
                where, params = " WHERE id = :org", {"org": org}
            elif owner := next((OWNERS[c] for c in columns if c in OWNERS), None):
                # A table that reaches its organisation through its parent row.
                column, parent = owner
                where = f" WHERE {column} IN (SELECT id FROM {parent} WHERE org_id = :org)"
                params = {"org": org}
            else:
                where, params = "", {}
            if url.startswith("sqlite"):
                params = {k: v.hex for k, v in params.items()}
            rows = (await conn.execute(sa.text(f'SELECT * FROM "{name}"{where}'), params)).all()
            text = "\n".join(sorted(repr(tuple(row)) for row in rows))
            out[name] = (len(rows), hashlib.sha256(text.encode()).hexdigest()[:16])
    return out
