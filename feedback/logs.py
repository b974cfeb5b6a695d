"""Logs operators can ingest and trust: one JSON object per line, nothing secret in them.

- Every record is one line of JSON (`ts`, `level`, `logger`, `message`, the record's `http`
  context, `error`), so a value a client sent, a path with `%0A` in it say, is escaped by the
  encoder and cannot start a line of its own.
- Nothing secret: report tokens in `/reports/<token>` paths and personal tokens in queries are
  replaced before a path is logged (`redact_target`); database errors are logged by type,
  SQLSTATE and statement, never with their parameters or the server's DETAIL (which quotes key
  values); engines are made with `hide_parameters` too, so no message of SQLAlchemy's carries
  them either.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from sqlalchemy.exc import DBAPIError, StatementError

REDACTED = "[redacted]"
# Path segments that are secrets: the token of a shared report link.
_SECRET_PATHS = re.compile(r"^(/reports/)[^/]+")
# Query parameters that are secrets: a respondent's personal link token.
_SECRET_QUERY = frozenset({"token", "respondent_token"})
_MAX_MESSAGE = 500
_FRAMES = 12

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def redact_target(path: str, query: str = "") -> str:
    """`path?query` as it may be logged."""
    safe = _SECRET_PATHS.sub(lambda m: m.group(1) + REDACTED, path)
    if not query:
        return safe
    parts = []
    for pair in query.split("&"):
        name, sep, _ = pair.partition("=")
        parts.append(f"{name}={REDACTED}" if sep and name in _SECRET_QUERY else pair)
    return f"{safe}?{'&'.join(parts)}"


def describe_error(error: BaseException) -> dict[str, Any]:
    """An exception and its causes as a log may hold them: types, safe messages, frames."""
    out: dict[str, Any] = {"type": _qualified(type(error)), "message": _safe_message(error)}
    frames = traceback.extract_tb(error.__traceback__)[-_FRAMES:]
    out["frames"] = [f"{f.filename}:{f.lineno} in {f.name}" for f in frames]
    cause = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    if cause is not None and cause is not error:
        out["cause"] = describe_error(cause)
    return out


def _qualified(kind: type[BaseException]) -> str:
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def _safe_message(error: BaseException) -> str:
    if isinstance(error, StatementError):
        orig = getattr(error, "orig", None)
        state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        statement = " ".join(str(error.statement or "").split())[:_MAX_MESSAGE]
        kind = type(orig).__name__ if orig is not None else type(error).__name__
        return f"{kind} (sqlstate {state}) in: {statement}" if state else f"{kind} in: {statement}"
    if isinstance(error, DBAPIError) or _is_driver_error(error):
        # The driver's own message may quote the values of a key (DETAIL: Key (x)=(...)).
        state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        return f"{type(error).__name__}" + (f" (sqlstate {state})" if state else "")
    return str(error)[:_MAX_MESSAGE]


def _is_driver_error(error: BaseException) -> bool:
    module = type(error).__module__
    return module.startswith(("asyncpg", "sqlite3", "aiosqlite", "psycopg"))


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        http = getattr(record, "http", None)
        if isinstance(http, dict):
            out["http"] = http
        if record.exc_info and record.exc_info[1] is not None:
            out["error"] = describe_error(record.exc_info[1])
        return json.dumps(out, default=str, ensure_ascii=True)


def log_config(level: str = "info") -> dict[str, Any]:
    """A `logging.config.dictConfig` for the server (uvicorn's `log_config`) and the worker:
    every logger, ours and uvicorn's, through the JSON formatter on standard error."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "feedback.logs.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            # uvicorn's own access log prints whole request targets, tokens included: ours
            # (feedback.access) redacts them.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "uvicorn": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level.upper(), "propagate": True},
        },
    }
