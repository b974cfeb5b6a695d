"""The list envelope every collection route answers with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from feedback.pagination import Page

T = TypeVar("T")


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def page_out(page: Page[Any], convert: Callable[[Any], T]) -> PageOut[T]:
    return PageOut[T](items=[convert(item) for item in page.items], next_cursor=page.next_cursor)
