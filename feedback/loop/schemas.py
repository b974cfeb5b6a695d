"""Wire types of decisions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

# Stored and answered in UTC, whatever offset the campaigner wrote.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(lambda v: v.astimezone(UTC))]


class DecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    decided_at: UtcDatetime
    question_keys: list[str] = Field(default_factory=list, max_length=500)
    public: bool = False


class DecisionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    decided_at: UtcDatetime | None = None
    question_keys: list[str] | None = Field(default=None, max_length=500)
    public: bool | None = None


class DecisionRead(BaseModel):
    id: uuid.UUID
    title: str | dict[str, str]
    description: str | dict[str, str]
    decided_at: datetime
    question_keys: list[str]
    public: bool
    created_at: datetime
    updated_at: datetime
