"""The tenancy and authorisation sweep, driven by the app's own OpenAPI document.

Two organisations, `org-a` and `org-b`, each with a survey `pulse` (the same slug), a survey of
their own, waves, responses, a respondent, a decision, findings, a webhook, a report link and
keys of every role. Then, for every operation of the document (a route added later is swept
without anyone listing it here; one whose body or required query this file cannot fill fails):

- with each of A's keys, every identifier of B (B's own survey; B's objects under the `pulse`
  both have) answers exactly as an identifier that does not exist: the same status (404, or the
  role's 403), the same problem, and not one row of B changes;
- a role weaker than the route's (read from the route's guard, `opt["role"]`) gets 403 and
  changes nothing; no key, a malformed, empty or revoked key, another scheme or the instance
  admin's token on an organisation's route gets 401 with `WWW-Authenticate: Bearer`;
- every read of A's own data (lists, exports, analysis, charts, public pages) carries nothing of
  B's (its marker, its slugs, its ids, its report token), and the other way round;
- B's objects named in a query, a header or a body (found in the document by their names:
  `finding_ids`, `impact`, `token`, `respondent_token`, `X-Edit-Token`...) on A's own survey
  answer as unknown ones and change nothing of B's;
- the supporters' routes find a survey by organisation and slug: B's survey under A's slug, and
  B's response under A's `pulse`, are unknown; `pulse` is each organisation's own, and so is
  each report link's survey.

Every offending (operation, role, what, status) is collected and listed at once.
`test_role_table_matches_docs` holds the guards' table against docs/http-api.md.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.testing import AsyncTestClient

from feedback.clock import Clock, fixed_clock
from feedback.config import Settings
from tests.builders.responses import submission
from tests.builders.tenancy import Tenant, definition, make_tenant, org_id, snapshot
from tests.builders.xlsform import xlsform
from tests.conftest import ADMIN_TOKEN

Client = AsyncTestClient[Litestar]
METHODS = ("get", "put", "post", "patch", "delete")
ROLES = ("analyst", "campaigner", "admin")
RANK = {role: rank for rank, role in enumerate(ROLES)}
MISSING_SLUG = "no-such-survey"
DOCS = Path(__file__).parents[2] / "docs" / "http-api.md"


@pytest.fixture
def clock() -> Clock:
    # Wave 3 of MONTHLY is open; waves 1 and 2 (the imported answers) have closed.
    return fixed_clock(datetime(2025, 3, 15, 12, tzinfo=UTC))


def _bodies() -> dict[str, Callable[[], dict[str, Any]]]:
    """A request valid in itself per operation that takes a body, so that only the key or the
    ownership can refuse it."""
    line = json.dumps({**submission(answers={"trust": 3}), "submitted_at": "2025-03-10T00:00:00Z"})
    return {
        "CreateOrg": lambda: {"json": {"slug": "zz-new", "name": "New"}},
        "CreateKey": lambda: {"json": {"name": "sweep", "role": "analyst"}},
        "CreateSurvey": lambda: {
            "json": {"slug": "sweep-new", "title": "S", "definition": definition()}
        },
        "UpdateSurvey": lambda: {"json": {"title": "Renamed"}},
        "PutDraft": lambda: {"json": {"definition": definition(), "note": "sweep"}},
        "Publish": lambda: {"json": {}},
        "Archive": lambda: {},
        "ImportXlsform": lambda: {
            "files": {
                "file": ("f.xlsx", xlsform([["type", "name", "label"], ["integer", "a", "A"]]))
            },
            "data": {"slug": "sweep-imported"},
        },
        "CreateDecision": lambda: {"json": {"title": "t", "decided_at": "2025-03-01T00:00:00Z"}},
        "UpdateDecision": lambda: {"json": {"title": "t2"}},
        "UpdateFinding": lambda: {"json": {"state": "dismissed", "reason": "seasonal"}},
        "ImportResponses": lambda: {
            "content": line.encode(),
            "headers": {"Content-Type": "application/x-ndjson"},
        },
        "CreateRespondent": lambda: {"json": {"attributes": {"tier": "x"}}},
        "UpdateRespondent": lambda: {"json": {"attributes": {"tier": "y"}}},
        "CreateReportLink": lambda: {"json": {"expires_in": 3600}},
        "CreateWebhook": lambda: {
            "json": {"url": "https://93.184.215.14/sweep", "events": ["response.created"]}
        },
        "SubmitResponse": lambda: {"json": submission(answers={"trust": 3})},
        "ReviseResponse": lambda: {"json": submission(answers={"trust": 1})},
        "SubmitHostedForm": lambda: {
            "data": {"_version": "1", "_response_id": str(uuid.uuid4()), "trust": "3"}
        },
    }


# Query parameters a route needs to get past its own validation.
QUERIES: dict[str, str] = {
    "GetPanel": "?from_wave=1&to_wave=2",
    "GetDecisionImpact": "?question=trust",
    "ListTextAnswers": "?wave=3",
}

# Reads that show the organisation's marker (a title, a decision, a text answer): each
# organisation's `pulse` is its own, on the supporters' pages as on the keyed routes. (Not
# ListTextAnswers: one text answer in a wave is below `min_n`, so it is suppressed.)
SHOWS_OWN = {
    "GetPublicForm",
    "GetPublicResults",
    "HostedForm",
    "PublicResultsPage",
    "GetSurvey",
    "ListSurveys",
    "ListDecisions",
    "GetDecision",
    "ExportNdjson",
    "ExportCsv",
    "GetResponse",
    "ListWebhooks",
    "GetRespondent",
    "ExportRespondent",
    "ListRespondents",
}


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    op_id: str
    access: str  # a role, "instance" (the instance admin token) or "public"
    has_body: bool

    @property
    def params(self) -> list[str]:
        return re.findall(r"\{([^}:]+)\}", self.template)

    @property
    def keyed(self) -> bool:
        return self.access in RANK

    def allows(self, role: str) -> bool:
        return RANK[role] >= RANK[self.access]


def code_access(app: Litestar) -> dict[str, str]:
    """operationId -> who may call it, as the routes' guards read it (`opt`)."""
    out = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or not isinstance(
                handler.operation_id, str
            ):
                continue
            opt = handler.opt
            if opt.get("role"):
                out[handler.operation_id] = str(opt["role"])
            elif opt.get("instance_admin"):
                out[handler.operation_id] = "instance"
            else:
                out[handler.operation_id] = "public"
    return out


def operations(app: Litestar, document: dict[str, Any]) -> list[Operation]:
    access = code_access(app)
    out = []
    for template, item in document["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            out.append(
                Operation(
                    method.upper(),
                    template,
                    op["operationId"],
                    access[op["operationId"]],
                    method in ("post", "put", "patch"),
                )
            )
    return out


def values(tenant: Tenant, org: str, slug: str) -> dict[str, str]:
    return {
        "org": org,
        "org_slug": org,
        "slug": slug,
        "survey": slug,
        "survey_slug": slug,
        "number": "1",
        "question": "trust",
        "key": "comment",
        **tenant.ids,
    }


def missing_values(org: str, slug: str) -> dict[str, str]:
    made = {f"{name}_id": str(uuid.uuid4()) for name in ("finding", "decision", "respondent")}
    made |= {f"{name}_id": str(uuid.uuid4()) for name in ("response", "webhook", "key")}
    return {
        "org": org,
        "org_slug": org,
        "slug": slug,
        "survey": slug,
        "survey_slug": slug,
        "number": "1",
        "question": "trust",
        "key": "comment",
        "edit_token": "e" * 43,
        **made,
    }


def fill(op: Operation, given: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in given, f"the sweep does not know how to fill {{{name}}} of {op.op_id}"
        return given[name]

    return re.sub(r"\{([^}:]+)(?::\w+)?\}", one, op.template) + QUERIES.get(op.op_id, "")


def text_of(answer: httpx.Response) -> str:
    return answer.content.decode("utf-8", errors="replace")


def normalised(answer: httpx.Response, given: dict[str, str]) -> str:
    """The answer with the identifiers it was asked about blanked: what must be the same for
    another organisation's object as for a missing one."""
    body = text_of(answer)
    for name in sorted(given, key=lambda n: -len(given[n])):
        if name.endswith("_id") or name in ("slug", "survey", "survey_slug"):
            body = body.replace(given[name], f"<{name}>")
    media = answer.headers.get("content-type", "")
    return f"{answer.status_code} {media}\n{body}"


class Sweep:
    def __init__(self, client: Client, settings: Settings, a: Tenant, b: Tenant) -> None:
        self.client = client
        self.url = settings.database_url
        self.a, self.b = a, b
        self.bodies = _bodies()
        self.offences: list[str] = []
        self.calls = 0

    def offend(self, op: Operation, who: str, what: str, status: int | str) -> None:
        self.offences.append(f"{op.method} {op.template} ({op.op_id}), {who}: {what} -> {status}")

    async def call(
        self, op: Operation, path: str, headers: dict[str, str], given: dict[str, str]
    ) -> httpx.Response:
        kwargs: dict[str, Any] = {}
        if op.has_body:
            if op.op_id not in self.bodies:
                self.offend(op, "-", "the sweep has no valid body for this operation", "-")
            kwargs = self.bodies.get(op.op_id, lambda: {"json": {}})()
        headers = {**headers, **kwargs.pop("headers", {})}
        if op.op_id == "ReviseResponse":
            headers |= {"X-Edit-Token": given["edit_token"], "If-Match": '"1"'}
            kwargs["json"]["response_id"] = given["response_id"]
        self.calls += 1
        return await self.client.request(op.method, path, headers=headers, **kwargs)

    def key(self, tenant: Tenant, role: str) -> dict[str, str]:
        return tenant.org.auth(role)

    async def unchanged(
        self, op: Operation, who: str, org: uuid.UUID, before: dict[str, tuple[int, str]]
    ) -> dict[str, tuple[int, str]]:
        after = await snapshot(self.url, org)
        changed = sorted(name for name in after if after[name] != before.get(name))
        if changed:
            self.offend(op, who, f"changed the rows of {changed}", "-")
        return after

    async def cross_org(self, ops: list[Operation], b_id: uuid.UUID) -> None:
        """A's keys on B's identifiers: the answer to a missing one, and nothing of B changes."""
        a, b = self.a, self.b
        before = await snapshot(self.url, b_id)
        for op in ops:
            if not op.keyed:
                continue
            variants = []
            if "slug" in op.params:  # B's own survey, by its slug
                variants.append(
                    (
                        "B's survey",
                        values(b, a.org.slug, b.only),
                        missing_values(a.org.slug, MISSING_SLUG),
                    )
                )
            if any(p.endswith("_id") for p in op.params):  # B's object, under A's `pulse`
                variants.append(
                    (
                        "B's object",
                        values(b, a.org.slug, "pulse"),
                        missing_values(a.org.slug, "pulse"),
                    )
                )
            for what, foreign, missing in variants:
                for role in ROLES:
                    expected = 404 if op.allows(role) else 403
                    got = await self.call(op, fill(op, foreign), self.key(a, role), foreign)
                    gone = await self.call(op, fill(op, missing), self.key(a, role), missing)
                    if got.status_code != expected:
                        self.offend(op, role, what, got.status_code)
                    if gone.status_code != expected:
                        self.offend(op, role, "a missing identifier", gone.status_code)
                    if normalised(got, foreign) != normalised(gone, missing):
                        self.offend(
                            op,
                            role,
                            f"{what} answered unlike a missing one: {text_of(got)[:160]!r} "
                            f"vs {text_of(gone)[:160]!r}",
                            got.status_code,
                        )
            if variants:
                before = await self.unchanged(op, "A's keys", b_id, before)

    async def roles_and_keys(self, ops: list[Operation], a_id: uuid.UUID) -> None:
        """On A's own objects: a weaker role is 403, no key or a bad one 401; nothing changes."""
        a = self.a
        own = values(a, a.org.slug, "pulse")
        revoked = await self.client.post(
            "/api/v1/keys", json={"name": "gone", "role": "admin"}, headers=a.org.auth()
        )
        assert revoked.status_code == 201, revoked.text
        dropped = await self.client.delete(
            f"/api/v1/keys/{revoked.json()['id']}", headers=a.org.auth()
        )
        assert dropped.status_code == 204, dropped.text
        unauthenticated = {
            "no key": {},
            "a malformed key": {"Authorization": "Bearer fbk_not-a-key"},
            "another scheme": {"Authorization": f"Basic {a.org.admin}"},
            "an empty bearer": {"Authorization": "Bearer "},
            "a revoked key": {"Authorization": f"Bearer {revoked.json()['key']}"},
        }
        before = await snapshot(self.url, a_id)
        for op in ops:
            if op.access == "public":
                continue
            path = fill(op, own)
            refused = dict(unauthenticated)
            if op.keyed:  # the instance admin's token is no organisation's key
                refused["the instance admin token"] = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            for who, headers in refused.items():
                got = await self.call(op, path, headers, own)
                if got.status_code != 401:
                    self.offend(op, who, "unauthenticated", got.status_code)
                elif not got.headers.get("www-authenticate", "").startswith("Bearer"):
                    self.offend(op, who, "a 401 without `WWW-Authenticate: Bearer`", 401)
            for role in ROLES:
                if op.keyed and op.allows(role):
                    continue
                # A weaker role is 403; an organisation's key on the instance admin's route 401.
                expected = 403 if op.keyed else 401
                got = await self.call(op, path, self.key(a, role), own)
                if got.status_code != expected:
                    self.offend(op, role, "a role not allowed", got.status_code)
            before = await self.unchanged(op, "refused keys", a_id, before)

    async def reads(self, ops: list[Operation]) -> None:
        """Every read of one organisation's own data carries nothing of the other's."""
        for reader, other in ((self.a, self.b), (self.b, self.a)):
            own = values(reader, reader.org.slug, "pulse")
            for op in ops:
                if op.method != "GET":
                    continue
                role = "admin" if op.keyed else None
                headers = self.key(reader, role) if role else {}
                got = await self.call(op, fill(op, own), headers, own)
                if got.status_code >= 400:
                    self.offend(op, reader.org.slug, "its own read failed", got.status_code)
                body = text_of(got)
                seen = [secret for secret in other.secrets if secret and secret in body]
                if seen:
                    self.offend(op, reader.org.slug, f"saw the other org's {seen}", got.status_code)
                if op.op_id in SHOWS_OWN and reader.marker not in body:
                    self.offend(op, reader.org.slug, "did not show its own data", got.status_code)

    async def references(
        self, ops: list[Operation], document: dict[str, Any], b_id: uuid.UUID
    ) -> None:
        """B's objects named in a query, a header or a body of a call on A's own survey."""
        a, b = self.a, self.b
        found = references(document)
        before = await snapshot(self.url, b_id)
        for op in ops:
            for name in sorted(found.get(op.op_id, set())):
                ref = REFERENCES.get((op.op_id, name))
                if ref is None:
                    self.offend(op, "-", f"the sweep does not know the reference {name!r}", "-")
                    continue
                own = values(a, a.org.slug, "pulse")
                answers = []
                for value in (ref.foreign(b), ref.missing()):
                    kwargs = self.bodies.get(op.op_id, dict)()
                    headers = {**(self.key(a, "admin") if op.keyed else {})}
                    if op.op_id == "ReviseResponse":  # no If-Match: each call revises afresh
                        headers |= {"X-Edit-Token": own["edit_token"]}
                        kwargs["json"]["response_id"] = own["response_id"]
                    ref.put(kwargs, value)
                    headers |= kwargs.pop("headers", {})
                    self.calls += 1
                    answers.append(
                        await self.client.request(
                            op.method, fill(op, own), headers=headers, **kwargs
                        )
                    )
                got, gone = answers
                expected = ref.expected or gone.status_code
                if got.status_code != expected:
                    self.offend(op, "admin", f"B's {name}", f"{got.status_code}/{gone.status_code}")
                # Each revision is the next one: its number is not what is compared.
                mine, unknown = (
                    re.sub(r'"revision":\d+', '"revision":n', text)
                    for text in (text_of(got).replace(ref.foreign(b), "<ref>"), text_of(gone))
                )
                if ref.expected is None and mine != re.sub(r"t{43}", "<ref>", unknown):
                    self.offend(
                        op,
                        "admin",
                        f"B's {name} answered unlike an unknown one: {text_of(got)[:160]!r} "
                        f"vs {text_of(gone)[:160]!r}",
                        got.status_code,
                    )
                if [s for s in b.secrets if s != ref.foreign(b) and s in text_of(got)]:
                    self.offend(op, "admin", f"B's {name} showed B's data", got.status_code)
                before = await self.unchanged(op, f"B's {name}", b_id, before)
        # Nothing of B's was linked to A's responses on the way (a respondent, say). B's response
        # id is now also one of A's own: SubmitResponse above stored it, by design, in A's survey.
        secrets = [s for s in b.secrets if s != b.ids["response_id"]]
        for path in ("/api/v1/surveys/pulse/export.ndjson", "/api/v1/respondents"):
            body = text_of(await self.client.get(path, headers=self.key(a, "admin")))
            if seen := [s for s in secrets if s in body]:
                self.offences.append(f"GET {path}: A's data now holds B's {seen}")

    async def public(self, ops: list[Operation], b_id: uuid.UUID) -> None:
        """The supporters' routes: B's survey or response under A's organisation is unknown."""
        a, b = self.a, self.b
        before = await snapshot(self.url, b_id)
        for op in ops:
            if op.access != "public" or not ({"org", "org_slug"} & set(op.params)):
                continue
            variants = [
                (
                    "B's survey under A",
                    values(b, a.org.slug, b.only),
                    missing_values(a.org.slug, MISSING_SLUG),
                )
            ]
            if "response_id" in op.params:
                variants.append(
                    (
                        "B's response under A's pulse",
                        values(b, a.org.slug, "pulse"),
                        missing_values(a.org.slug, "pulse"),
                    )
                )
            for what, foreign, missing in variants:
                got = await self.call(op, fill(op, foreign), {}, foreign)
                gone = await self.call(op, fill(op, missing), {}, missing)
                if got.status_code != 404 or gone.status_code != 404:
                    self.offend(op, "no key", what, f"{got.status_code}/{gone.status_code}")
                if normalised(got, foreign) != normalised(gone, missing):
                    self.offend(op, "no key", f"{what} answered unlike a missing one", "-")
            before = await self.unchanged(op, "supporters", b_id, before)


# Fields of a query, a header or a body that name an object (found in the document by their
# names). Each is sent with B's object on A's own survey and answered as an unknown one.
REFERENCE = re.compile(r"(_ids?|token|^impact)$", re.IGNORECASE)
# Fields whose names look like references but name no stored object of an organisation: a
# page's position in the caller's own list, a browser's own random id.
NOT_REFERENCES = {"cursor", "anonymous_id"}


def references(document: dict[str, Any]) -> dict[str, set[str]]:
    """operationId -> the names of its query, header and body fields that name an object."""
    schemas = document["components"]["schemas"]

    def props(schema: dict[str, Any], seen: frozenset[str] = frozenset()) -> set[str]:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return set() if name in seen else props(schemas[name], seen | {name})
        out = set(schema.get("properties", {}))
        for combined in ("oneOf", "anyOf", "allOf"):
            for part in schema.get(combined, []):
                out |= props(part, seen)
        return out

    found: dict[str, set[str]] = {}
    for item in document["paths"].values():
        for method, op in item.items():
            if method not in METHODS:
                continue
            names = {p["name"] for p in op.get("parameters", []) if p["in"] in ("query", "header")}
            for media in op.get("requestBody", {}).get("content", {}).values():
                names |= props(media.get("schema", {}))
            names = {n for n in names if REFERENCE.search(n) and n not in NOT_REFERENCES}
            if names:
                found[op["operationId"]] = names
    return found


@dataclass(frozen=True)
class Reference:
    """How to send one reference field: `put(kwargs, value)` on a call whose path is A's own."""

    put: Callable[[dict[str, Any], str], None]
    foreign: Callable[[Tenant], str]
    missing: Callable[[], str]
    expected: int | None = None  # None: whatever the missing one answers, refused (4xx)


def _query(name: str) -> Callable[[dict[str, Any], str], None]:
    def put(kwargs: dict[str, Any], value: str) -> None:
        kwargs["params"] = {**kwargs.get("params", {}), name: value}

    return put


def _body(name: str, many: bool = False) -> Callable[[dict[str, Any], str], None]:
    def put(kwargs: dict[str, Any], value: str) -> None:
        kwargs["json"][name] = [value] if many else value

    return put


def _header(name: str) -> Callable[[dict[str, Any], str], None]:
    def put(kwargs: dict[str, Any], value: str) -> None:
        kwargs["headers"] = {**kwargs.get("headers", {}), name: value}

    return put


def _token() -> str:
    return "t" * 43


# (operationId, field) -> how the sweep sends B's object through it. A new reference field
# fails the sweep until it is listed here.
REFERENCES: dict[tuple[str, str], Reference] = {
    ("CreateDecision", "finding_ids"): Reference(
        _body("finding_ids", True), lambda b: b.ids["finding_id"], lambda: str(uuid.uuid4())
    ),
    ("UpdateDecision", "finding_ids"): Reference(
        _body("finding_ids", True), lambda b: b.ids["finding_id"], lambda: str(uuid.uuid4())
    ),
    ("GetTrendChartPng", "impact"): Reference(
        _query("impact"), lambda b: b.ids["decision_id"], lambda: str(uuid.uuid4())
    ),
    ("GetTrendChartSvg", "impact"): Reference(
        _query("impact"), lambda b: b.ids["decision_id"], lambda: str(uuid.uuid4())
    ),
    ("GetPublicForm", "token"): Reference(
        _query("token"), lambda b: b.ids["respondent_token"], _token
    ),
    ("HostedForm", "token"): Reference(
        _query("token"), lambda b: b.ids["respondent_token"], _token
    ),
    ("SubmitResponse", "respondent_token"): Reference(
        _body("respondent_token"), lambda b: b.ids["respondent_token"], _token
    ),
    ("ReviseResponse", "respondent_token"): Reference(
        _body("respondent_token"), lambda b: b.ids["respondent_token"], _token
    ),
    # A response id is the client's own (a new one is stored per survey): B's id sent to A's
    # `pulse` is a new response of A's, and B's stays as it is.
    ("SubmitResponse", "response_id"): Reference(
        _body("response_id"), lambda b: b.ids["response_id"], lambda: str(uuid.uuid4()), 201
    ),
    # The body's own response id must be the path's: B's is no more A's than an unknown one.
    ("ReviseResponse", "response_id"): Reference(
        _body("response_id"), lambda b: b.ids["response_id"], lambda: str(uuid.uuid4())
    ),
    ("ReviseResponse", "X-Edit-Token"): Reference(
        _header("X-Edit-Token"), lambda b: b.ids["edit_token"], _token
    ),
}


async def _world(client: Client, settings: Settings) -> tuple[Tenant, Tenant]:
    a = await make_tenant(client, settings, "org-a", "zqxa")
    b = await make_tenant(client, settings, "org-b", "zqxb")
    return a, b


async def _document(client: Client) -> dict[str, Any]:
    got = await client.get("/schema/openapi.json")
    assert got.status_code == 200
    document: dict[str, Any] = got.json()
    return document


def _report(sweep: Sweep, ops: list[Operation], started: float) -> str:
    return (
        f"{len(sweep.offences)} offences over {len(ops)} operations "
        f"({sweep.calls} calls, {time.monotonic() - started:.1f} s):\n" + "\n".join(sweep.offences)
    )


async def test_keys_reach_only_their_own_org_and_role(
    app: Litestar, client: Client, settings: Settings
) -> None:
    started = time.monotonic()
    a, b = await _world(client, settings)
    ops = operations(app, await _document(client))
    assert len([op for op in ops if op.keyed]) >= 40
    sweep = Sweep(client, settings, a, b)
    await sweep.cross_org(ops, await org_id(settings.database_url, b.org.slug))
    await sweep.roles_and_keys(ops, await org_id(settings.database_url, a.org.slug))
    assert not sweep.offences, _report(sweep, ops, started)


async def test_reads_and_supporters_routes_stay_in_their_org(
    app: Litestar, client: Client, settings: Settings
) -> None:
    started = time.monotonic()
    a, b = await _world(client, settings)
    ops = operations(app, await _document(client))
    sweep = Sweep(client, settings, a, b)
    await sweep.reads(ops)
    b_id = await org_id(settings.database_url, b.org.slug)
    await sweep.public(ops, b_id)
    await sweep.references(ops, await _document(client), b_id)
    # A report link names its organisation: each shows its own `pulse`, never the other's.
    for reader, other in ((a, b), (b, a)):
        for path in (
            f"/reports/{reader.report_token}",
            f"/reports/{reader.report_token}/charts/trust.svg",
        ):
            got = await client.get(path)
            body = text_of(got)
            if got.status_code != 200 or [s for s in other.secrets if s in body]:
                sweep.offences.append(f"GET {path}: {got.status_code}, the other org's data")
        page = await client.get(f"/reports/{reader.report_token}")
        if reader.marker not in text_of(page):
            sweep.offences.append(f"GET /reports/<{reader.org.slug}'s token>: not its own survey")
    # A submission to each `pulse` lands in that organisation's survey only.
    for reader, other in ((a, b), (b, a)):
        sent = submission(answers={"trust": 2})
        got = await client.post(f"/api/v1/public/{reader.org.slug}/pulse/responses", json=sent)
        assert got.status_code == 201, got.text
        url = f"/api/v1/surveys/pulse/responses/{sent['response_id']}"
        mine = await client.get(url, headers=reader.org.auth("analyst"))
        theirs = await client.get(url, headers=other.org.auth("analyst"))
        if (mine.status_code, theirs.status_code) != (200, 404):
            sweep.offences.append(
                f"a submission to {reader.org.slug}/pulse: {mine.status_code} to its org, "
                f"{theirs.status_code} to the other"
            )
    assert not sweep.offences, _report(sweep, ops, started)


# The docs' table of roles: `| `METHOD /path`, `METHOD .../tail` | role | what |`, and the
# sections whose table has no role column (the analysis routes, "All analyst").
DOC_ROLE = {
    "analyst": "analyst",
    "campaigner": "campaigner",
    "admin": "admin",
    "any role": "analyst",
    "instance admin token": "instance",
}


def docs_access() -> dict[tuple[str, str], str]:
    """(METHOD, path with `{}` for each parameter) -> who may call it, as the docs say."""
    out: dict[tuple[str, str], str] = {}
    section = ""
    for line in DOCS.read_text().splitlines():
        if line.startswith("#"):
            section = line.strip("# ").lower()
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip("|"))]
        role = DOC_ROLE.get(cells[1].strip("`")) if len(cells) > 2 else None
        if role is None and section == "analysis":
            role = "analyst"
        if role is None:
            continue
        previous, method = "", ""
        for named, path in re.findall(r"`(?:(GET|POST|PUT|PATCH|DELETE) )?([/.][^` ]+)", cells[0]):
            method, path = named or method, path.split("?")[0]
            if path.startswith("..."):
                tail = path[3:]
                head = previous.rsplit(tail.split("/")[1], 1)[0].rstrip("/")
                path = head + tail
            previous = path
            out[(method, re.sub(r"\{[^}]*\}", "{}", path))] = role
    return out


async def test_role_table_matches_docs(app: Litestar, client: Client) -> None:
    """The guards' table against docs/http-api.md: every keyed route is documented with the
    role its guard asks for. The webhooks routes are documented in prose ("An admin
    subscribes…") and in the roles table ("admin … manage webhooks"), not in a table."""
    documented = docs_access()
    disagreements = []
    for op in operations(app, await _document(client)):
        if op.access == "public":
            continue
        key = (op.method, re.sub(r"\{[^}]*\}", "{}", op.template))
        said = documented.get(key)
        if said is None and op.template.startswith("/api/v1/webhooks"):
            said = "admin"
        if said is None and op.template.endswith("/chart.svg"):
            said = documented.get((op.method, key[1].replace(".svg", ".png")))
        if said != op.access:
            disagreements.append(
                f"{op.method} {op.template} ({op.op_id}): code {op.access}, docs {said}"
            )
    assert not disagreements, "\n".join(disagreements)
