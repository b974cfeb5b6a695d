"""Keyset pagination shared by every list: opaque cursors over (sort key, id), and `paginate`,
the one query every list runs through."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from feedback.errors import FieldError, Invalid

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Ours hold a sort key and an id; anything much longer was not made here.
MAX_CURSOR_CHARS = 1024


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *parsers: Callable[[Any], Any]) -> list[Any] | None:
    """Decode a cursor into its values, each passed through the parser at its position."""
    if cursor is None or cursor == "":
        return None
    bad = Invalid([FieldError("/cursor", "is not a cursor this API issued")])
    if len(cursor) > MAX_CURSOR_CHARS:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(parsers):
            raise bad
        return [parse(value) for parse, value in zip(parsers, values, strict=True)]
    except (ValueError, TypeError, RecursionError) as exc:
        raise bad from exc


def instant(value: Any) -> datetime:
    """A cursor's instant: what `encode_cursor` wrote for an aware datetime, nothing else.

    Any instant a row may hold, not only those `feedback.validation.instant_problem` lets
    people send: a row's instant in UTC may lie in 2999 or 3000 (a decision dated
    2999-12-31T23:00-05:00, stored before such dates were refused), and the cursor after that
    row must read back."""
    if not isinstance(value, str):
        raise ValueError("not an instant")
    parsed = datetime.fromisoformat(value)
    if parsed.utcoffset() is None:
        raise ValueError("not an instant")
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # year 1 or 9999 pushed out of range by its offset
        raise ValueError("not an instant") from exc


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid([FieldError("/limit", f"must be from 1 to {MAX_LIMIT}")])
    return limit


def page_from_rows(rows: Sequence[T], limit: int, key: Any) -> Page[T]:
    """Rows were fetched with limit + 1: the extra row says there is a next page."""
    items = list(rows[:limit])
    has_more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(key(items[-1])) if has_more else None)


def _uuid(value: Any) -> uuid.UUID:
    """A cursor's id: text only (`uuid.UUID` of a number or a list raises AttributeError)."""
    if not isinstance(value, str):
        raise ValueError("not an id")
    return uuid.UUID(value)


def _row_id(value: Any) -> int:
    """A cursor's row id: a whole number the database's 64-bit ids can be compared with
    (`int` would take infinity, 1.5 or true, and a bigger number fails in the database)."""
    if type(value) is not int or not -(2**63) <= value < 2**63:
        raise ValueError("not a row id")
    return value


# What a cursor's value is read back as, by the Python type of the column it sorts on.
_PARSERS: dict[type, Callable[[Any], Any]] = {datetime: instant, uuid.UUID: _uuid, int: _row_id}


def _parser(column: InstrumentedAttribute[Any]) -> Callable[[Any], Any]:
    kind = column.type.python_type
    parser: Callable[[Any], Any] = _PARSERS.get(kind, kind)
    return parser


def _encoded(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def paginate(
    session: AsyncSession,
    stmt: Select[*tuple[Any, ...]],
    keys: Sequence[InstrumentedAttribute[Any]],
    *,
    limit: int,
    cursor: str | None,
    newest_first: bool = False,
) -> Page[Any]:
    """One page of `stmt` (already scoped by organisation) in the order of `keys`, the last of
    which is unique, so that the order is total: the rows after the cursor's keys, `limit` + 1
    fetched to know whether there is a next page. A statement of one entity pages its objects;
    of several, its rows, keyed by the first entity."""
    after = decode_cursor(cursor, *(_parser(k) for k in keys))
    if after:
        key: Any = keys[0] if len(keys) == 1 else tuple_(*keys)
        bound: Any = after[0] if len(keys) == 1 else tuple(after)
        stmt = stmt.where(key < bound if newest_first else key > bound)
    order = [k.desc() for k in keys] if newest_first else list(keys)
    stmt = stmt.order_by(*order).limit(check_limit(limit) + 1)
    if len(stmt.column_descriptions) == 1:
        objects = (await session.scalars(stmt)).all()
        return page_from_rows(objects, limit, lambda o: [_encoded(getattr(o, k.key)) for k in keys])
    rows = (await session.execute(stmt)).all()
    return page_from_rows(rows, limit, lambda r: [_encoded(getattr(r[0], k.key)) for k in keys])
