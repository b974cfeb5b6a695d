"""Typed settings, read once from `FEEDBACK_*` environment variables."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./feedback.db"
# The secret keys HMACs (report links, edit tokens, respondent refs): at least 256 bits.
MIN_SECRET_CHARS = 32


class InsecureSecret(ValueError):
    """The configured secret key is missing, short or unreadable; the message says what to do."""


def normalise_database_url(url: str) -> str:
    """Accept the URLs people paste (`postgresql://`, `sqlite:///`) and pick the async driver."""
    for prefix, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgresql+psycopg2://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(prefix):
            return driver + url[len(prefix) :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FEEDBACK_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    admin_token: str | None = Field(
        default=None, description="Bearer token for instance administration (POST /api/v1/orgs)."
    )
    secret_key: str | None = Field(
        default=None,
        description="Signs report links and edit tokens and keys respondent-ref hashes; at "
        f"least {MIN_SECRET_CHARS} characters. Generated into `secret_key_file` on first run "
        "when unset. See docs/operations.md before changing it.",
    )
    secret_key_file: Path = Path("./.feedback-secret")
    cors_allow_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed on the authenticated API (public routes use each survey's "
        "allowed_origins).",
    )
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    import_max_bytes: int = Field(
        default=1024**3, ge=1024, description="Cap on one streamed response import (413 above it)."
    )
    public_rate_limit: int = Field(
        default=300,
        ge=0,
        description="Public requests a minute per client and survey; 0: no limit (a proxy in "
        "front limits, or a benchmark measures the server alone).",
    )
    webhook_allow_private: bool = False
    header_timeout: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds a request's head may take to arrive (feedback serve).",
    )
    body_timeout: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds a request's body may pause between two chunks (feedback serve).",
    )
    access_log: bool = Field(
        default=False, description="Log every request, one JSON line each, tokens redacted."
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000", description="Public base URL, for links we hand out."
    )
    db_pool_size: int = Field(default=10, ge=1)
    read_database_url: str | None = Field(
        default=None,
        description="A PostgreSQL streaming replica that analysis, charts, reports and exports "
        "read from (feedback.read_replica); unset: they read from database_url.",
    )
    read_max_lag: float = Field(
        default=30.0,
        ge=0,
        le=86400,
        description="Seconds a replica may lag before reads go to the primary instead.",
    )
    _secret: str | None = PrivateAttr(default=None)
    write_concurrency: int = Field(
        default=2,
        ge=1,
        le=16,
        description="Submission batches in flight at once on PostgreSQL (SQLite: always one). "
        "Each holds a pooled connection while it commits.",
    )
    # Webhook delivery (feedback.loop.delivery, feedback.loop.worker).
    embedded_worker: bool = Field(
        default=True,
        description="`feedback serve` delivers webhooks and checks findings itself; set false "
        "when `feedback worker` runs as a process of its own.",
    )
    webhook_connect_timeout: float = Field(
        default=5.0, gt=0, le=60, description="Seconds to connect to a webhook receiver."
    )
    webhook_read_timeout: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="Seconds a webhook receiver may take to answer (each read, and the write).",
    )

    # Rate limits across workers and hosts, and who the client is (appended for issue 11).
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or CIDRs of the proxies whose X-Forwarded-For is believed "
        "(JSON list); empty: the client is the socket's peer.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis shared by every host for the public rate limit "
        "(redis://host:6379/0); unset: a file shared by the workers of this host.",
    )
    ratelimit_file: Path | None = Field(
        default=None,
        description="The host-local rate-limit store when no Redis is set; default: "
        "`.feedback-ratelimit.sqlite3` beside the secret key file.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError as exc:
                raise ValueError(f"{entry!r} is not an IP address or network (CIDR)") from exc
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        if value is not None and value.partition("://")[0] not in ("redis", "rediss", "unix"):
            raise ValueError(f"{value!r} is not a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("cors_allow_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        origins = []
        for entry in value:
            origin = entry.strip().rstrip("/")
            scheme, _, host = origin.partition("://")
            if scheme not in ("http", "https") or not host or "/" in host or "*" in host:
                raise ValueError(
                    f"{entry!r} is not an origin like https://app.example.org (no path, no *)"
                )
            origins.append(origin)
        return origins

    @property
    def resolved_ratelimit_file(self) -> Path:
        return self.ratelimit_file or self.secret_key_file.with_name(".feedback-ratelimit.sqlite3")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        value = normalise_database_url(value)
        # Refused here, named, rather than as a traceback from the first engine; the message
        # never repeats the URL, which may hold a password.
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError as exc:
            raise ValueError(
                "not a database URL; e.g. sqlite:///./feedback.db or "
                "postgresql://feedback@db.internal:5432/feedback"
            ) from exc
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(f"feedback runs on SQLite or PostgreSQL, not {backend}")
        return value

    @field_validator("read_database_url")
    @classmethod
    def _read_replica_driver(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = normalise_database_url(value.strip())
        if not value.startswith("postgresql"):
            raise ValueError("a read replica must be a PostgreSQL URL (a streaming replica)")
        return value

    @model_validator(mode="after")
    def _replica_of_postgresql(self) -> Settings:
        if self.read_database_url is not None and self.is_sqlite:
            raise ValueError("read_database_url needs a PostgreSQL database_url to replicate")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The secret key; on first use without one configured, generate and keep it on disk.
        Raises `InsecureSecret` for a key shorter than MIN_SECRET_CHARS, from either source."""
        if self._secret is None:
            self._secret = self._read_secret()
        return self._secret

    def _read_secret(self) -> str:
        if self.secret_key is not None:
            return _long_enough(self.secret_key, "FEEDBACK_SECRET_KEY")
        path = self.secret_key_file
        if not path.exists():
            try:
                _create_secret_file(path)
            except OSError as exc:
                raise InsecureSecret(
                    f"The secret key file {path} cannot be created: {exc}. Set "
                    "FEEDBACK_SECRET_KEY_FILE to a writable place, or FEEDBACK_SECRET_KEY."
                ) from exc
        try:
            text = path.read_text().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise InsecureSecret(f"The secret key file {path} cannot be read: {exc}.") from exc
        return _long_enough(text, f"the secret key file {path}")


def _long_enough(secret: str, source: str) -> str:
    try:
        secret.encode()  # the HMACs key with its UTF-8 bytes
    except UnicodeEncodeError as exc:
        raise InsecureSecret(
            f"The secret key in {source} is not UTF-8 text (raw random bytes?). Generate one "
            "with: python -c 'import secrets; print(secrets.token_urlsafe(48))'."
        ) from exc
    if len(secret) < MIN_SECRET_CHARS:
        raise InsecureSecret(
            f"The secret key in {source} has {len(secret)} characters; it needs at least "
            f"{MIN_SECRET_CHARS}. Generate one with: python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))' (and read docs/operations.md first: changing "
            "the key of an instance in use invalidates report links and respondent refs)."
        )
    return secret


def _create_secret_file(path: Path) -> None:
    """Write a new random key to `path`, readable by its owner only, all at once: it is
    written and flushed under a temporary name, then linked into place, which fails if
    another worker got there first (whose key then stands). No reader ever sees a partial or
    world-readable file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):  # another worker's key stands
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def settings_problems(error: ValidationError | SettingsError) -> str:
    """What is wrong with the FEEDBACK_* variables, each bad one named, for the operator who
    set them (`feedback` commands and `feedback doctor` print it instead of a traceback)."""
    if isinstance(error, ValidationError):
        return "; ".join(
            (f"FEEDBACK_{str(e['loc'][0]).upper()}: " if e["loc"] else "") + e["msg"]
            for e in error.errors()
        )
    # pydantic-settings names the field only in its message, when a list is not JSON.
    field = re.search(r'field "(\w+)"', str(error))
    name = f"FEEDBACK_{field.group(1).upper()}" if field else "a FEEDBACK_* variable"
    return (
        f"{name}: cannot be read ({error.__cause__ or error}); lists are written in JSON, "
        'e.g. \'["10.0.0.1", "10.0.0.0/8"]\''
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
