"""Wire types of decisions and findings."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from feedback.surveys.settings import LOCALE_PATTERN
from feedback.validation import Instant

# Stored and answered in UTC, whatever offset the campaigner wrote.

DecisionStatus = Literal["planned", "in_progress", "done", "dropped"]
FindingState = Literal["open", "answered", "dismissed"]
MAX_LOCALES = 50
TITLE_MAX = 200
DESCRIPTION_MAX = 10_000


def _localised(max_length: int, *, allow_empty: bool) -> Callable[[Any], Any]:
    """A check of a text that is one string or a {locale: text} map: locale keys BCP 47-like,
    every text non-empty (unless the field may be empty) and at most `max_length` characters."""

    def check(value: str | dict[str, str]) -> str | dict[str, str]:
        # A plain string has no locale (None); every key of a map must be a tag, the empty
        # key too, which no reader could ever ask for.
        texts: dict[str | None, str] = (
            {None: value} if isinstance(value, str) else {k: v for k, v in value.items()}
        )
        if isinstance(value, dict) and not value:
            raise PydanticCustomError("localised", "must hold the text in at least one locale")
        if len(texts) > MAX_LOCALES:
            raise PydanticCustomError("localised", f"must have at most {MAX_LOCALES} locales")
        for locale, text in texts.items():
            where = "" if locale is None else f" (locale '{locale}')"
            if locale is not None and not LOCALE_PATTERN.fullmatch(locale):
                raise PydanticCustomError(
                    "localised",
                    "'{locale}' is not a BCP 47 language tag such as en, hi or pt-BR",
                    {"locale": locale},
                )
            if not text.strip() and not (allow_empty and isinstance(value, str)):
                raise PydanticCustomError("localised", f"must not be empty{where}")
            if len(text) > max_length:
                raise PydanticCustomError(
                    "localised", f"must be at most {max_length} characters{where}"
                )
        return value

    return check


Title = Annotated[str | dict[str, str], AfterValidator(_localised(TITLE_MAX, allow_empty=False))]
Description = Annotated[
    str | dict[str, str], AfterValidator(_localised(DESCRIPTION_MAX, allow_empty=True))
]
FindingIds = Annotated[list[uuid.UUID], Field(max_length=500)]


class DecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description = ""
    decided_at: Instant
    question_keys: list[str] = Field(default_factory=list, max_length=500)
    public: bool = False
    status: DecisionStatus = "planned"
    finding_ids: FindingIds = Field(default_factory=list)


class DecisionUpdate(BaseModel):
    """Only the fields sent change; `finding_ids` replaces the decision's findings."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: Description | None = None
    decided_at: Instant | None = None
    question_keys: list[str] | None = Field(default=None, max_length=500)
    public: bool | None = None
    status: DecisionStatus | None = None
    finding_ids: FindingIds | None = None


class DecisionRead(BaseModel):
    id: uuid.UUID
    title: str | dict[str, str]
    description: str | dict[str, str]
    decided_at: datetime
    question_keys: list[str]
    public: bool
    status: DecisionStatus
    published_at: datetime | None
    finding_ids: list[uuid.UUID]
    created_at: datetime
    updated_at: datetime


class FindingUpdate(BaseModel):
    """`dismissed` with a reason, or `open` to reopen a dismissed finding."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["open", "dismissed"]
    reason: str | None = Field(default=None, max_length=2_000)


class FindingRead(BaseModel):
    id: uuid.UUID
    question: str
    option: str | None
    kind: Literal["change", "trend"]
    wave: int
    direction: Literal["increasing", "decreasing"]
    figures: dict[str, Any]
    sentence: str
    sentences: dict[str, str]
    state: FindingState
    reason: str | None
    opened_at: datetime
    state_changed_at: datetime | None
    decision_ids: list[uuid.UUID]
