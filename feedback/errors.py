"""Domain errors. They say what went wrong, never how HTTP shows it: `api/problems.py` maps them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field, located by an RFC 6901 JSON pointer (`/answers/trust`)."""

    pointer: str
    message: str
    # Where the pointer points: the JSON body, or a query/path parameter or header by name.
    source: str = "body"


def pointer(*parts: str | int) -> str:
    """Build a JSON pointer from path parts, escaping `~` and `/` as RFC 6901 says."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


class DomainError(Exception):
    """Base of every error the domain layer raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    """The object does not exist, or belongs to another organisation (the two look the same)."""


class Conflict(DomainError):
    """The request is well formed but the object's state forbids it (e.g. publish with no draft)."""

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.extra = extra


class PreconditionFailed(DomainError):
    """A conditional request's precondition (If-Match) no longer holds."""


@dataclass
class Invalid(DomainError):
    """Input that fails validation; carries every problem found, each with its pointer."""

    errors: list[FieldError] = field(default_factory=list)
    detail: str = "The request is invalid."

    def __post_init__(self) -> None:
        Exception.__init__(self, self.detail)

    @classmethod
    def at(cls, ptr: str, message: str) -> Invalid:
        return cls([FieldError(ptr, message)], message)


class Unauthenticated(DomainError):
    """No credentials, or credentials that do not resolve to a live key."""


class Forbidden(DomainError):
    """The key is valid but its role may not do this."""


class PayloadTooLarge(DomainError):
    """The body exceeds the configured cap."""


class UnsupportedMediaType(DomainError):
    """The body's media type is not one this route reads."""


class RateLimited(DomainError):
    """Too many requests from one client; retry after `retry_after` seconds."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
