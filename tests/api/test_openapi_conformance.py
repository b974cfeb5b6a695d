"""Every operation of the OpenAPI document, called for real on the real app, answers as the
document says: a documented status, in a documented media type, and a JSON body valid against
the schema documented for that status and media type (jsonschema, draft 2020-12, which OpenAPI
3.1 uses). Each operation is called once on a path that succeeds and once on one that is
refused; test_fuzz.py adds generated bodies on top.

A route added later fails `test_every_operation_answers_as_documented` until it has a happy
path in `_happy_paths`; its refusal is derived from what it declares.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonschema
from litestar import Litestar
from litestar.testing import AsyncTestClient
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from feedback.config import Settings
from tests.builders.loop import DEFINITION, jumps, pulse
from tests.builders.orgs import Org, make_org
from tests.builders.responses import make_respondent, submission, submitted
from tests.builders.surveys import pulse_definition
from tests.builders.xlsform import xlsform
from tests.conftest import ADMIN_TOKEN

Client = AsyncTestClient[Litestar]
DOCUMENT = "urn:feedback:openapi"
METHODS = ("get", "put", "post", "patch", "delete", "options")
JSON_TYPES = ("application/json", "application/problem+json")


@dataclass
class Conformance:
    """Checks answers against the document and remembers which operations answered how."""

    document: dict[str, Any]
    seen: dict[str, set[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(DOCUMENT, resource)
        self.templates = sorted(
            self.document["paths"], key=lambda p: (p.count("{"), p)
        )  # a literal segment wins over a parameter

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        for template in self.templates:
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            if re.fullmatch(pattern, path):
                operation = self.document["paths"][template].get(method.lower())
                if operation is not None:
                    return template, operation
        raise AssertionError(f"{method} {path} is not in the document")

    def check_body(self, method: str, path: str, body: object) -> None:
        """A JSON request body the server takes must be valid against the documented one."""
        template, _ = self.operation(method, path)
        self._validate(
            ("paths", template, method.lower(), "requestBody", "content", "application/json"),
            body,
            f"{method} {path} (request)",
        )

    def _validate(self, parts: tuple[str, ...], body: object, where: str) -> None:
        pointer = "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)
        validator = jsonschema.Draft202012Validator(
            {"$ref": f"{DOCUMENT}#/{pointer}/schema"}, registry=self.registry
        )
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(body)
        ]
        assert not errors, f"{where}: {errors[:5]}"

    def check(self, response: httpx.Response) -> httpx.Response:
        method, path = response.request.method, response.request.url.path
        template, operation = self.operation(method, path)
        where = f"{method} {path} → {response.status_code}"
        answers = operation["responses"]
        assert str(response.status_code) in answers, f"{where}: undocumented status"
        self.seen.setdefault(operation["operationId"], set()).add(response.status_code)
        answer = answers[str(response.status_code)]
        media = response.headers.get("content-type", "").split(";")[0].strip()
        if not response.content:
            assert "content" not in answer or response.status_code == 204, where
            return response
        assert media in answer.get("content", {}), f"{where}: undocumented type {media}"
        if media in JSON_TYPES:
            parts = ("paths", template, method.lower(), "responses")
            self._validate(
                (*parts, str(response.status_code), "content", media), response.json(), where
            )
        return response


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    role: str | None = "admin"  # None: no key; "instance": the instance admin token
    kwargs: dict[str, Any] = field(default_factory=dict)


def _happy_paths(org: Org, ids: dict[str, str]) -> list[Call]:
    """A call that succeeds, per operation, in an order in which each finds what it needs."""
    s, pub = "/api/v1/surveys", f"/api/v1/public/{org.slug}/pulse"
    reworded = copy.deepcopy(DEFINITION)
    reworded["questions"][0]["label"] = "I trust us"
    # Version 2 also asks a text question, so that the texts route has one to list.
    reworded["questions"].append({"key": "comment", "type": "text", "label": "Anything else?"})
    # On paper, in a wave of 30 imported answers: a small channel that `small_groups=fold` folds.
    ndjson = json.dumps(
        {
            **submission(answers={"trust": 4}),
            "submitted_at": "2025-01-10T00:00:00Z",
            "channel": "paper",
        }
    )
    workbook = xlsform([["type", "name", "label"], ["integer", "age", "Age"]])
    return [
        Call("POST", "/api/v1/orgs", "instance", {"json": {"slug": "other", "name": "Other"}}),
        Call("GET", "/api/v1/org"),
        Call("GET", "/api/v1/keys"),
        Call("POST", "/api/v1/keys", kwargs={"json": {"name": "x", "role": "analyst"}}),
        Call("GET", "/api/v1/audit"),
        Call("GET", s),
        Call(
            "POST",
            s,
            kwargs={"json": {"slug": "s2", "title": "S", "definition": pulse_definition()}},
        ),
        Call("GET", f"{s}/pulse"),
        Call("PATCH", f"{s}/pulse", kwargs={"json": {"title": "Pulse"}}),
        Call("PUT", f"{s}/pulse/draft", kwargs={"json": {"definition": reworded}}),
        Call("POST", f"{s}/pulse/publish", kwargs={"json": {"note": "v2"}}),
        Call("PUT", f"{s}/pulse/draft", kwargs={"json": {"definition": DEFINITION}}),
        Call("DELETE", f"{s}/pulse/draft"),
        Call("GET", f"{s}/pulse/versions"),
        Call("GET", f"{s}/pulse/versions/1"),
        Call("GET", f"{s}/pulse/waves"),
        Call(
            "POST",
            f"{s}/import/xlsform",
            kwargs={"files": {"file": ("f.xlsx", workbook)}, "data": {"slug": "imported"}},
        ),
        Call("GET", f"{s}/pulse/decisions"),
        Call(
            "POST",
            f"{s}/pulse/decisions",
            kwargs={"json": {"title": "D", "decided_at": "2025-03-01T00:00:00Z"}},
        ),
        Call("GET", f"{s}/pulse/decisions/{ids['decision']}"),
        Call("PATCH", f"{s}/pulse/decisions/{ids['decision']}", kwargs={"json": {"public": True}}),
        Call("GET", f"{s}/pulse/decisions/{ids['decision']}/impact?question=trust"),
        Call("GET", f"{s}/pulse/findings"),
        Call(
            "PATCH",
            f"{s}/pulse/findings/{ids['finding']}",
            kwargs={"json": {"state": "dismissed", "reason": "seen"}},
        ),
        Call("GET", f"{s}/pulse/codebook"),
        Call("GET", f"{s}/pulse/responses"),
        Call("GET", f"{s}/pulse/responses/{ids['response']}"),
        Call("GET", f"{s}/pulse/export.csv"),
        Call("GET", f"{s}/pulse/export.ndjson"),
        Call(
            "POST",
            f"{s}/pulse/responses/import",
            kwargs={"content": ndjson, "headers": {"Content-Type": "application/x-ndjson"}},
        ),
        Call("POST", "/api/v1/respondents", kwargs={"json": {"attributes": {"tier": "donor"}}}),
        Call("GET", f"/api/v1/respondents/{ids['respondent']}"),
        Call("GET", "/api/v1/respondents?attribute.tier=donor"),
        Call(
            "PUT",
            f"/api/v1/respondents/{ids['respondent']}",
            kwargs={"json": {"attributes": {"city": "Leiden", "age": 40}}},
        ),
        Call("GET", f"/api/v1/respondents/{ids['respondent']}/export"),
        Call("POST", f"{s}/pulse/report-links", kwargs={"json": {"expires_in": 3600}}),
        Call("GET", f"{s}/pulse/trends?questions=trust"),
        # The `other` group: the one answer on paper, folded.
        Call("GET", f"{s}/pulse/trends?questions=trust&segment=channel&small_groups=fold"),
        Call("GET", f"{s}/pulse/trends.csv?questions=trust&channel=embed"),
        Call("GET", f"{s}/pulse/questions/comment/texts?wave=1"),
        Call("GET", f"{s}/pulse/trends/trust/chart.png"),
        Call("GET", f"{s}/pulse/trends/trust/chart.svg"),
        Call("GET", f"{s}/pulse/panel/trust?from_wave=1&to_wave=2"),
        Call("GET", "/api/v1/webhooks"),
        Call(
            "POST",
            "/api/v1/webhooks",
            kwargs={"json": {"url": "https://93.184.215.14/hook", "events": ["response.created"]}},
        ),
        Call("GET", f"/api/v1/webhooks/{ids['webhook']}/deliveries"),
        Call("GET", f"{pub}/form", None),
        Call("GET", f"{pub}/results", None),
        Call("POST", f"{pub}/responses", None, {"json": submission(answers={"trust": 2})}),
        Call(
            "PUT",
            f"{pub}/responses/{ids['response']}",
            None,
            {
                "json": submission(answers={"trust": 5}) | {"response_id": ids["response"]},
                "headers": {"X-Edit-Token": ids["edit_token"], "If-Match": '"1"'},
            },
        ),
        Call("GET", "/health", None),
        Call("GET", "/health/ready", None),
        Call("GET", f"/f/{org.slug}/pulse", None),
        Call(
            "POST",
            f"/f/{org.slug}/pulse",
            None,
            {"data": {"_version": "2", "_response_id": str(uuid.uuid4()), "trust": "3"}},
        ),
        Call("GET", f"/r/{org.slug}/pulse", None),
        Call("GET", "/embed.js", None),
        Call("GET", "/form.css", None),
        # Last: what takes the seeded objects away.
        Call("DELETE", f"/api/v1/webhooks/{ids['webhook']}"),
        Call("DELETE", f"/api/v1/respondents/{ids['respondent']}"),
        Call("DELETE", f"/api/v1/keys/{ids['key']}"),
        Call("POST", f"{s}/pulse/archive"),
    ]


def _refused(template: str, operation: dict[str, Any]) -> str:
    """A path to `template` that the operation refuses when called without a key: one that
    needs a key (401), else unknown path parameters (404), else a NUL in a query (4xx)."""
    if "401" in operation["responses"]:
        return re.sub(r"\{[^}]+\}", str(uuid.UUID(int=1)), template)
    path = re.sub(r"\{[^}]+\}", "unknown-0", template)
    return path + "?x=%00" if path == template else path


def _filled(template: str, org: Org, ids: dict[str, str]) -> str:
    """`template` with the seeded objects for its path parameters."""
    values = {
        "org": org.slug,
        "org_slug": org.slug,
        "number": "1",
        "question": "trust",
        "key": "comment",
        **{name: "pulse" for name in ("slug", "survey", "survey_slug")},
        **{f"{name}_id": value for name, value in ids.items()},
    }
    return re.sub(r"\{([^}]+)\}", lambda m: values[m[1]], template)


def _headers(role: str | None, org: Org) -> dict[str, str]:
    if role is None:
        return {}
    token = ADMIN_TOKEN if role == "instance" else getattr(org, role)
    return {"Authorization": f"Bearer {token}"}


async def _seed(client: Client, org: Org, settings: Settings) -> dict[str, str]:
    await pulse(client, org, public_questions=["trust"])
    trust_finding, _ = await jumps(client, org, settings)
    decided = await client.post(
        "/api/v1/surveys/pulse/decisions",
        json={"title": "More events", "decided_at": "2025-03-01T00:00:00Z"},
        headers=org.auth("campaigner"),
    )
    respondent = await make_respondent(client, org, external_ref="crm-1", city="Utrecht")
    answered = await submitted(client, org, submission(answers={"trust": 4}))
    hook = await client.post(
        "/api/v1/webhooks",
        json={"url": "https://93.184.215.14/seed", "events": ["version.published"]},
        headers=org.auth(),
    )
    keys = (await client.get("/api/v1/keys", headers=org.auth())).json()["items"]
    return {
        "finding": trust_finding,
        "decision": decided.json()["id"],
        "respondent": respondent["id"],
        "response": answered["response_id"],
        "edit_token": answered["edit_token"],
        "webhook": hook.json()["id"],
        "key": next(k["id"] for k in keys if k["role"] == "analyst"),
    }


async def test_every_operation_answers_as_documented(client: Client, settings: Settings) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    conformance = Conformance(document)
    org = await make_org(client)
    ids = await _seed(client, org, settings)
    send: Callable[..., Any] = client.request
    for call in _happy_paths(org, ids):
        headers = {**_headers(call.role, org), **call.kwargs.get("headers", {})}
        kwargs = {k: v for k, v in call.kwargs.items() if k != "headers"}
        if "json" in kwargs:
            conformance.check_body(call.method, call.path, kwargs["json"])
        answer = conformance.check(await send(call.method, call.path, headers=headers, **kwargs))
        assert answer.status_code < 400, f"{call.method} {call.path}: {answer.text[:300]}"
    for template, item in document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            if method == "options":
                path = _filled(template, org, ids)
                conformance.check(await send("OPTIONS", path))
                continue
            path = _refused(template, operation)
            answer = conformance.check(await send(method.upper(), path))
            assert 400 <= answer.status_code < 500, f"{method} {path}: {answer.status_code}"
    operations = {
        op["operationId"]: op
        for item in document["paths"].values()
        for method, op in item.items()
        if method in METHODS
    }
    untried = sorted(
        name
        for name in operations
        if not any(status < 400 for status in conformance.seen.get(name, set()))
    )
    assert untried == [], "no happy path for these operations"
    unrefused = sorted(
        name
        for name, op in operations.items()
        if "4" not in {str(s)[0] for s in conformance.seen.get(name, set())}
        and not name.startswith("Options")
    )
    assert unrefused == []
