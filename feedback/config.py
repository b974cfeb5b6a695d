"""Typed settings, read once from `FEEDBACK_*` environment variables."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./feedback.db"


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
        description="Signs report links and keys respondent-ref hashes. Generated into "
        "`secret_key_file` on first run when unset.",
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
        default=300, ge=1, description="Public requests a minute per client and survey."
    )
    webhook_allow_private: bool = False
    base_url: str = Field(
        default="http://127.0.0.1:8000", description="Public base URL, for links we hand out."
    )
    db_pool_size: int = Field(default=10, ge=1)
    write_concurrency: int = Field(
        default=2,
        ge=1,
        le=16,
        description="Submission batches in flight at once on PostgreSQL (SQLite: always one). "
        "Each holds a pooled connection while it commits.",
    )

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalise_database_url(value)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The secret key; on first use without one configured, generate and keep it on disk."""
        if self.secret_key:
            return self.secret_key
        path = self.secret_key_file
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(48)
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: when two workers start at once, the first writer wins and the other reads it.
        try:
            with path.open("x") as fh:
                fh.write(key)
            path.chmod(0o600)
        except FileExistsError:
            return path.read_text().strip()
        return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
