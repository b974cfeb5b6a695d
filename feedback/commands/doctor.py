"""`feedback doctor`: is this installation ready to serve? Each check says what it found and,
when something is wrong, what to do about it. Nothing is changed: a missing secret file or
database file is reported, not created."""

from __future__ import annotations

import asyncio
import ipaddress
import stat
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy import make_url, text

from feedback import migrate
from feedback.config import MIN_SECRET_CHARS, Settings, settings_problems
from feedback.db import make_engine

TIMEOUT_SECONDS = 5.0


class Status(StrEnum):
    ok = "ok"
    warn = "warn"
    fail = "FAIL"


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    status: Status
    message: str


def _ok(check: str, message: str) -> Finding:
    return Finding(check, Status.ok, message)


def _warn(check: str, message: str) -> Finding:
    return Finding(check, Status.warn, message)


def _fail(check: str, message: str) -> Finding:
    return Finding(check, Status.fail, message)


async def diagnose() -> list[Finding]:
    """Every check of the settings in the environment, in the order a fix is best made."""
    try:
        settings = Settings()
    except (ValidationError, SettingsError) as exc:
        return [_fail("configuration", settings_problems(exc))]
    findings = [_ok("configuration", "the FEEDBACK_* variables are valid"), _secret(settings)]
    reachable = await _database(settings)
    findings.append(reachable)
    if reachable.status is Status.ok:
        findings.append(await _migrations(settings))
    findings.append(await _redis(settings))
    findings.append(_base_url(settings))
    findings.append(_chart_fonts())
    return findings


def _secret(settings: Settings) -> Finding:
    if settings.secret_key is not None:
        if len(settings.secret_key) < MIN_SECRET_CHARS:
            return _fail(
                "secret key",
                f"FEEDBACK_SECRET_KEY has {len(settings.secret_key)} characters; it needs "
                f"at least {MIN_SECRET_CHARS} (see docs/operations.md, 'The secret key')",
            )
        return _ok("secret key", "FEEDBACK_SECRET_KEY is set and long enough")
    path = settings.secret_key_file.resolve()
    if not path.exists():
        return _warn(
            "secret key",
            f"{path} does not exist yet: the first `feedback serve` creates it; back it up "
            "with the database",
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return _fail(
            "secret key", f"{path} is readable by others (mode {mode:o}): chmod 600 {path}"
        )
    try:
        length = len(path.read_text().strip())
    except (OSError, UnicodeDecodeError) as exc:
        return _fail("secret key", f"{path} cannot be read: {exc}")
    if length < MIN_SECRET_CHARS:
        return _fail(
            "secret key",
            f"{path} holds {length} characters; at least {MIN_SECRET_CHARS} are needed. Do not "
            "replace the key of an instance in use before reading docs/operations.md",
        )
    return _ok("secret key", f"{path}: mode {mode:o}, {length} characters")


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def _database(settings: Settings) -> Finding:
    url = settings.database_url
    missing = _missing_sqlite_file(url)
    if missing is not None:
        return _fail("database", f"no SQLite file at {missing}: run `feedback db upgrade`")
    engine = make_engine(url, pool_size=1)
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # whatever the driver raises, the answer is "unreachable"
        return _fail(
            "database",
            f"{_shown(url)} is unreachable: {type(exc).__name__}: {exc}".strip()
            + " (check FEEDBACK_DATABASE_URL, the server, and the network)",
        )
    finally:
        await engine.dispose()
    return _ok("database", f"{_shown(url)} answers")


def _missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file `url` names when it does not exist (connecting would create it)."""
    database = make_url(url).database
    if not url.startswith("sqlite") or not database or database == ":memory:":
        return None
    path = Path(database).resolve()
    return None if path.exists() else path


async def _migrations(settings: Settings) -> Finding:
    current = await migrate.current_revision(settings.database_url)
    head = migrate.head_revision()
    if current == head:
        return _ok("migrations", f"the schema is at the head revision ({head})")
    return _fail(
        "migrations",
        f"the schema is at {current or 'nothing (an empty database)'}, this version needs "
        f"{head}: run `feedback db upgrade` (before starting the new version's servers)",
    )


async def _redis(settings: Settings) -> Finding:
    if settings.redis_url is None:
        return _ok("redis", "not set: the public rate limit is kept per host (fine for one host)")
    from redis.asyncio import Redis

    client = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    parts = urlsplit(settings.redis_url)
    shown = f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            await client.ping()
    except Exception as exc:  # any failure means the limit is not shared
        return _fail(
            "redis",
            f"{shown} does not answer ({type(exc).__name__}: {exc}); until it does, "
            "public requests go unlimited",
        )
    finally:
        await client.aclose()
    return _ok("redis", f"{shown} answers")


def _base_url(settings: Settings) -> Finding:
    url = urlsplit(settings.base_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        return _fail(
            "base url",
            f"FEEDBACK_BASE_URL={settings.base_url!r} is not an http(s) URL with a host: set "
            "it to the address supporters use, e.g. https://feedback.example.org",
        )
    if url.query or url.fragment:
        return _fail("base url", "FEEDBACK_BASE_URL must not carry a query or a fragment")
    if _loopback(url.hostname):
        return _warn(
            "base url",
            f"{settings.base_url}: links handed out (report links, the embed) point to this "
            "machine only; set FEEDBACK_BASE_URL to the public address in production",
        )
    if url.scheme == "http":
        return _warn("base url", f"{settings.base_url}: links handed out are not HTTPS")
    return _ok("base url", f"links handed out start with {settings.base_url}")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _chart_fonts() -> Finding:
    """Charts draw what DejaVu Sans lacks (Chinese, Japanese, Korean, Devanagari) in fonts the
    system provides; without them that text is drawn as empty boxes."""
    from feedback.analysis import chart_fonts

    missing = chart_fonts.missing()
    if missing:
        packages = " ".join(f.package for f in missing)
        scripts = " nor for ".join(f.scripts for f in missing)
        return _warn(
            "chart fonts",
            f"no font for {scripts}: charts draw such text as empty boxes. Install Debian's "
            f"{packages} (apt-get install {packages}), then restart feedback "
            "(docs/deployment.md, 'Fonts for charts')",
        )
    found = "".join(f"; {f.name} for {f.scripts}" for f in chart_fonts.available())
    return _ok("chart fonts", f"{chart_fonts.LATIN}{found}")
