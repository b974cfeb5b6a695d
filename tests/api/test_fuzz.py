"""Schemathesis over the app's own OpenAPI document: every operation it lists (the OPTIONS of
every path included; routes added later are picked up from the document), under an admin key
(the instance admin token where that is what the route takes), a campaigner key and no key. No
answer may be a 5xx, and every answer must be one of the operation's documented statuses, in its
documented media type and schema.

The database is seeded first (an organisation, a monthly survey with answers in two waves, two
findings, a decision, a respondent, a public submission) and most generated cases have their path
parameters replaced by those real ids, so the fuzzer reaches past the 404s into the handlers.

Bounded for CI: FEEDBACK_FUZZ_EXAMPLES cases per operation and auth mode (default 20),
derandomized so every run tries the same cases. Run bigger locally, e.g.
`FEEDBACK_FUZZ_EXAMPLES=200 .venv/bin/pytest tests/api/test_fuzz.py`.
"""

from __future__ import annotations

import os
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.testing import AsyncTestClient
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from feedback.api.app import create_app
from feedback.config import Settings
from tests.builders.loop import jumps, pulse
from tests.builders.orgs import make_org
from tests.builders.responses import make_respondent, submission, submitted
from tests.conftest import ADMIN_TOKEN

EXAMPLES = int(os.environ.get("FEEDBACK_FUZZ_EXAMPLES", "20"))
SCHEMA_PATH = "/schema/openapi.json"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Writes that take the seeded objects away from the cases after them run last.
_LAST = ("DELETE", "Archive", "RevokeKey")


@dataclass(frozen=True)
class Seed:
    """The real values path parameters are replaced by, and the keys to call with."""

    path: dict[str, tuple[str, ...]]
    admin: str
    campaigner: str
    edit_token: str


@pytest.fixture
def fuzz_app(settings: Settings) -> Iterator[Litestar]:
    # The public rate limit would turn most public cases into 429s after the first seconds.
    app = create_app(settings.model_copy(update={"public_rate_limit": 1_000_000}))
    yield app
    # Schemathesis keeps each app's lifespan (its engine) running until told otherwise.
    asgi.shutdown_lifespans()


@pytest.fixture
async def seed(fuzz_app: Litestar, settings: Settings) -> Seed:
    # The test client's lifespan ends before the fuzzer starts the app's again.
    async with AsyncTestClient(app=fuzz_app, raise_server_exceptions=False) as client:
        org = await make_org(client)
        await pulse(client, org, public_questions=["trust", "priority"])
        trust_finding, petition_finding = await jumps(client, org, settings)
        decided = await client.post(
            "/api/v1/surveys/pulse/decisions",
            json={
                "title": "More housing events",
                "decided_at": "2025-03-01T00:00:00Z",
                "question_keys": ["trust"],
                "finding_ids": [trust_finding],
            },
            headers=org.auth("campaigner"),
        )
        assert decided.status_code == 201, decided.text
        respondent = await make_respondent(client, org, external_ref="crm-1", city="Utrecht")
        answered = await submitted(client, org, submission(answers={"trust": 4}))
        keys = await client.get("/api/v1/keys", headers=org.auth("admin"))
        analyst_key = next(k for k in keys.json()["items"] if k["role"] == "analyst")
    return Seed(
        path={
            "org": (org.slug,),
            "org_slug": (org.slug,),
            "slug": ("pulse",),
            "survey": ("pulse",),
            "survey_slug": ("pulse",),
            "number": ("1",),
            "question": ("trust", "nps", "priority", "actions"),
            "key": ("comment",),
            "decision_id": (decided.json()["id"],),
            "finding_id": (trust_finding, petition_finding),
            "respondent_id": (respondent["id"],),
            "response_id": (answered["response_id"],),
            # Revoking the analyst's key leaves the keys the fuzzer calls with.
            "key_id": (analyst_key["id"],),
        },
        admin=org.admin,
        campaigner=org.campaigner,
        edit_token=answered["edit_token"],
    )


def _access(app: Litestar) -> dict[str, dict[str, Any]]:
    """Operation id → the route's declared access (`opt`: role, instance_admin or public)."""
    out: dict[str, dict[str, Any]] = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler) and isinstance(handler.operation_id, str):
                out[handler.operation_id] = dict(handler.opt)
    return out


def _order(operation: schemathesis.APIOperation) -> tuple[int, str]:
    last = (
        operation.method.upper() == "DELETE" or operation.definition.raw.get("operationId") in _LAST
    )
    return (1 if last else 0, operation.label)


def _token(mode: str, seed: Seed, opt: dict[str, Any]) -> str | None:
    if mode == "none":
        return None
    if opt.get("instance_admin"):
        return ADMIN_TOKEN if mode == "admin" else seed.campaigner
    return seed.admin if mode == "admin" else seed.campaigner


def _fuzz(
    operation: schemathesis.APIOperation, seed: Seed, token: str | None, seen: Counter[int]
) -> None:
    modes = [
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    ]

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=st.one_of(modes), real_ids=st.integers(0, 3), pick=st.integers(0, 3))
    def run(case: schemathesis.Case, real_ids: int, pick: int) -> None:
        # Three cases in four aim at the seeded objects; the fourth keeps what was generated.
        if real_ids and case.path_parameters:
            for name in case.path_parameters:
                if name in seed.path:
                    values = seed.path[name]
                    case.path_parameters[name] = values[pick % len(values)]
        headers = dict(case.headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        else:
            headers.pop("Authorization", None)
        if real_ids and "X-Edit-Token" in headers:
            headers["X-Edit-Token"] = seed.edit_token
        case.headers = headers
        response = case.call()
        seen[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    run()


def _described(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "".join(traceback.format_exception(exc))
    return str(exc)


@pytest.mark.parametrize("mode", ["admin", "campaigner", "none"])
def test_every_operation_answers_as_documented(fuzz_app: Litestar, seed: Seed, mode: str) -> None:
    schema = schemathesis.openapi.from_asgi(SCHEMA_PATH, fuzz_app)
    access = _access(fuzz_app)
    operations = sorted((r.ok() for r in schema.get_all_operations()), key=_order)
    assert len(operations) > 40  # the document lists the API, not a fragment of it
    failures: list[str] = []
    seen: dict[str, Counter[int]] = {}
    for operation in operations:
        opt = access.get(operation.definition.raw.get("operationId", ""), {})
        token = _token(mode, seed, opt)
        try:
            _fuzz(operation, seed, token, seen.setdefault(operation.label, Counter()))
        except (Exception, schemathesis.errors.FailureGroup) as exc:  # all reported together
            # The whole of it: a failure Hypothesis could not replay (FlakyFailure) says what
            # happened the first time only in its sub-exceptions.
            failures.append(f"{operation.label} [{mode}]: {_described(exc)}")
            print(f"\nFAILED {failures[-1]}", flush=True)  # seen at once with -s
    assert not failures, "\n\n".join(failures)
    _report(mode, seen)
    if mode == "admin":  # the seeds work: most operations get past the refusals
        assert sum(any(s < 400 for s in c) for c in seen.values()) > len(seen) * 3 // 4


def _report(mode: str, seen: dict[str, Counter[int]]) -> None:
    """What the run tried, for RELIABILITY.md (shown with `pytest -s`)."""
    total = sum(sum(c.values()) for c in seen.values())
    reached = [label for label, c in seen.items() if any(s < 400 for s in c)]
    print(f"\n[{mode}] {len(seen)} operations, {total} requests, {len(reached)} answered 2xx/3xx")
    for label, counts in seen.items():
        print(f"  {label}: {dict(sorted(counts.items()))}")
