"""Wire types of surveys, versions and waves."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from feedback.orgs.schemas import SLUG_PATTERN
from feedback.surveys.definition import Label
from feedback.surveys.settings import Locale
from feedback.validation import shows_nothing

WaveStatus = Literal["upcoming", "open", "closed"]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


TITLE_MAX = 300
TitleText = Annotated[str, Field(min_length=1, max_length=TITLE_MAX)]


def _check_title(value: object) -> object:
    # Checked whole before the union is tried: else each member reports its own error, at a
    # pointer naming the member (`/title/constrained-str`), which no body has.
    texts = list(value.values()) if isinstance(value, dict) else [value]
    if not all(
        isinstance(t, str) and 1 <= len(t) <= TITLE_MAX and not shows_nothing(t) for t in texts
    ):
        raise PydanticCustomError(
            "title",
            "must be a visible text of 1 to 300 characters, or a {locale: text} map of them",
        )
    return value


Title = Annotated[TitleText | dict[str, TitleText], BeforeValidator(_check_title)]
"""A survey's title: one text, or a `{locale: text}` map covering the survey's locales."""
Description = Label


class SurveyCreate(Input):
    slug: str = Field(pattern=SLUG_PATTERN)
    title: Title
    description: Description | None = None
    # A BCP 47 tag like `settings.locales`: it names labels' locale and the pages' `lang`.
    default_locale: Locale = Field(default="en", min_length=2, max_length=35)
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
