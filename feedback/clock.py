"""The current instant, injected.

Whatever depends on the date (which wave is open, whether an answer is from the future, when a
link expires) takes `now` as an argument instead of reading the wall clock, so tests can stand
on any instant: the 1st of a month at 00:00, 29 February, the night clocks change. The app
reads its clock once per request (`create_app(clock=...)`, dependency `now`); the command line
and the delivery worker read `system_clock`. Column defaults that only record when a row was
written (`created_at`) use `feedback.db.utcnow`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


def utc_text(instant: datetime) -> str:
    """An instant as the API writes it in messages and problems: in UTC, with Z."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def fixed_clock(instant: datetime) -> Clock:
    """A clock that always reads `instant` (timezone-aware)."""
    if instant.tzinfo is None:
        raise ValueError("a clock reads timezone-aware instants")
    return lambda: instant
