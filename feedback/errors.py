"""Domain errors. They say what went wrong, never how HTTP shows it: `api/problems.py` maps them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field, named by an RFC 6901 JSON pointer (`/answers/trust`, `/from`).

    The domain names the field; whether it came in the body, the path or the query is for
    `api/problems.py` to say, from the route that was called."""

    pointer: str
    message: str


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


class StaleRevision(DomainError):
    """A change was made against a revision that is no longer the current one (If-Match)."""


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


class TooLarge(DomainError):
    """An input exceeds its cap (an import's size, a line of it)."""


class UnsupportedFormat(DomainError):
    """An input comes in a format this use case does not read."""
