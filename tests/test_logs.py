"""Logs are one JSON object a line, and hold no secret: no statement parameters, no report or
personal tokens, no line a client can forge."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar

from feedback.api.access_log import AccessLog
from feedback.config import Settings
from feedback.logs import JsonFormatter, redact_target
from tests import database
from tests.builders.orgs import make_org
from tests.builders.responses import concurrent_client
from tests.builders.surveys import make_survey

Client = httpx.AsyncClient


class Lines(logging.Handler):
    """The records of the loggers under test, formatted as the server formats them."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    loggers = [logging.getLogger(name) for name in ("feedback.api", "feedback.access")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


def test_a_record_is_one_line_of_json_whatever_its_message() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "a\nforged: line\r\n", (), None)
    text = JsonFormatter().format(record)
    assert "\n" not in text and "\r" not in text
    assert json.loads(text)["message"] == "a\nforged: line\r\n"


@pytest.mark.parametrize(
    ("path", "query", "logged"),
    [
        ("/reports/abc.def", "", "/reports/[redacted]"),
        ("/reports/abc/charts/trust.svg", "", "/reports/[redacted]/charts/trust.svg"),
        ("/f/acme/pulse", "token=s3cret&locale=nl", "/f/acme/pulse?token=[redacted]&locale=nl"),
        ("/api/v1/surveys", "cursor=abc", "/api/v1/surveys?cursor=abc"),
    ],
)
def test_secrets_in_request_targets_are_redacted(path: str, query: str, logged: str) -> None:
    assert redact_target(path, query) == logged


async def test_the_access_log_is_one_line_a_request_without_tokens(
    app: Litestar, lines: Lines
) -> None:
    transport = httpx.ASGITransport(app=AccessLog(app))
    async with (
        concurrent_client(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        await client.get("/reports/TOKEN-SECRET-1234")
        await client.get('/f/acme/pulse%0A{"level":"error"}?token=PERSONAL-SECRET')
    text = "\n".join(lines.lines)
    assert "TOKEN-SECRET" not in text and "PERSONAL-SECRET" not in text
    records = [json.loads(line) for line in lines.lines]
    assert [r["http"]["status"] for r in records if r["logger"] == "feedback.access"] == [404, 404]
    assert all(r["level"] != "error" for r in records)


async def test_a_database_error_is_logged_without_its_parameters(
    app: Litestar, settings: Settings, lines: Lines
) -> None:
    """The key lookup fails in the database (its table is gone): the 500 is logged with the
    statement and its SQLSTATE, never the key's prefix it was looking up."""
    async with concurrent_client(app) as client:
        org = await make_org(client)
        await make_survey(client, org)
        key = org.admin
        prefix = key.split("_")[1]
        engine = sa.create_engine(database.sync_url(settings.database_url))
        renamed = f"api_key_{uuid.uuid4().hex[:6]}"
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(f"ALTER TABLE api_key RENAME TO {renamed}"))
            got = await client.get("/api/v1/surveys", headers=org.auth())
        finally:
            with engine.begin() as conn:
                conn.execute(sa.text(f"ALTER TABLE {renamed} RENAME TO api_key"))
            engine.dispose()
    assert got.status_code == 500
    errors = [json.loads(line) for line in lines.lines if '"level": "error"' in line]
    assert errors, lines.lines
    text = "\n".join(lines.lines)
    assert prefix not in text and key not in text
    assert "api_key" in text  # the statement is there, for whoever has to fix it
