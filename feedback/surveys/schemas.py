"""Wire types of surveys, versions and waves."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from feedback.orgs.schemas import SLUG_PATTERN

WaveStatus = Literal["upcoming", "open", "closed"]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


TitleText = Annotated[str, Field(min_length=1, max_length=300)]
Title = TitleText | dict[str, TitleText]
"""A survey's title: one text, or a `{locale: text}` map covering the survey's locales."""
Description = str | dict[str, str]


class SurveyCreate(Input):
    slug: str = Field(pattern=SLUG_PATTERN)
    title: Title
    description: Description | None = None
    default_locale: str = Field(default="en", min_length=2, max_length=35)
    schedule: dict[str, Any] | None = Field(
        default=None,
        description='`{"rrule": "FREQ=MONTHLY;BYMONTHDAY=1", "starts_at": "2025-01-01T00:00:00Z", '
        '"timezone": "Europe/Amsterdam", "wave_duration": "P14D"}`; null: one always-open wave.',
    )
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="allowed_origins, min_n, allow_edits, locales, public_questions, and what "
        "supporters see around the questions: intro, thank_you, privacy_url, logo_url",
    )
    definition: dict[str, Any] = Field(description="`{questions: [...]}`; becomes draft 1")


class SurveyUpdate(Input):
    title: Title | None = None
    description: Description | None = None
    schedule: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None


class DraftPut(Input):
    definition: dict[str, Any]
    note: str | None = Field(default=None, max_length=2000)


class PublishIn(Input):
    note: str | None = Field(default=None, max_length=2000)
    confirm_breaks: bool = Field(
        default=False,
        description="Publish although a change breaks a question's series (else 409 lists them).",
    )


class WaveRead(BaseModel):
    number: int
    label: str
    opens_at: datetime
    closes_at: datetime | None
    status: WaveStatus
    responses: int | None = None


class SurveyRead(BaseModel):
    slug: str
    title: Title
    description: Description | None = None
    default_locale: str
    schedule: dict[str, Any] | None
    settings: dict[str, Any]
    created_at: datetime
    archived_at: datetime | None
    current_version: int | None
    draft_version: int | None
    current_wave: WaveRead | None
    next_opens_at: datetime | None


class ChangeRead(BaseModel):
    key: str
    kind: str
    breaks_series: bool
    detail: str


class PublishedRead(BaseModel):
    version: int
    published_at: datetime
    changes: list[ChangeRead]


class VersionRead(BaseModel):
    version: int
    status: Literal["draft", "published"]
    definition: dict[str, Any]
    note: str | None
    created_at: datetime
    published_at: datetime | None
    changes: list[ChangeRead]


class UnsupportedRowRead(BaseModel):
    row: int
    name: str
    type: str
    reason: str


class XlsformImported(BaseModel):
    survey: SurveyRead
    unsupported: list[UnsupportedRowRead]
