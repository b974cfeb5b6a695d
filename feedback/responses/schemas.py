"""Wire types of submissions, responses, imports and respondents."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from feedback.validation import INT_MAX

CHANNEL_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
LOCALE_PATTERN = r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8}){0,4}$"
ATTRIBUTE_KEY_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_TEXT = 200
# Tokens we issue are 43 characters; anonymous ids are the embed's UUIDs. The caps keep
# anything larger from being hashed and carried further.
MAX_TOKEN_CHARS = 128


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


AttributeText = Annotated[str, StringConstraints(max_length=MAX_ATTRIBUTE_TEXT)]
AttributeValue = AttributeText | int | float | bool | None
AttributeKey = Annotated[str, StringConstraints(pattern=ATTRIBUTE_KEY_PATTERN)]
AttributeMap = Annotated[dict[AttributeKey, AttributeValue], Field(max_length=MAX_ATTRIBUTES)]
Channel = Annotated[str, StringConstraints(pattern=CHANNEL_PATTERN)]
Locale = Annotated[str, StringConstraints(pattern=LOCALE_PATTERN)]


def _json_integer(value: Any) -> Any:
    # `true` and `"1"` are not versions: lax validation reads both as 1, and the response would
    # be stored against a version nobody sent. (A `Strict()` field is not enough: Litestar
    # validates request bodies with `strict=False`, which overrides it.)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("int_type", "must be an integer")
    return value


Version = Annotated[
    int,
    BeforeValidator(_json_integer),
    Field(ge=1, le=INT_MAX, description="The version the form was rendered from."),
]


class RevisionCreate(Input):
    """A revision's body: a submission's body, the answers as they now stand, against
    `version`. A form sends the same body as when it submitted: `channel` is kept with the
    revision; `respondent_token` and `anonymous_id` are taken and not applied (a response
    keeps the respondent it was submitted by)."""

    version: Version
    answers: dict[str, Any] = Field(description="`{question key: answer}`")
    locale: Locale | None = None
    # The response's own id may be repeated; it must then be the one in the path.
    response_id: uuid.UUID | None = None
    channel: Channel | None = None
    respondent_token: str | None = Field(default=None, min_length=1, max_length=MAX_TOKEN_CHARS)
    anonymous_id: str | None = Field(default=None, min_length=8, max_length=MAX_TOKEN_CHARS)


class SubmissionCreate(Input):
    """A supporter's submission (docs/http-api.md, "Supporters")."""

    response_id: uuid.UUID = Field(description="Made by the client; the idempotency key.")
    version: Version
    answers: dict[str, Any] = Field(description="`{question key: answer}`")
    locale: Locale | None = None
    channel: Channel = "api"
    respondent_token: str | None = Field(default=None, min_length=1, max_length=MAX_TOKEN_CHARS)
    anonymous_id: str | None = Field(default=None, min_length=8, max_length=MAX_TOKEN_CHARS)


class SubmissionRead(msgspec.Struct, kw_only=True):
    """What a submission or revision answers. A msgspec Struct rather than a pydantic model:
    it is encoded for every submission, and Litestar encodes Structs natively."""

    response_id: uuid.UUID
    revision: int
    wave: int
    edit_token: Annotated[
        str | None, msgspec.Meta(description="Send as X-Edit-Token to revise; only on POST.")
    ] = None


class WaveWindowRead(BaseModel):
    number: int
    label: str
    opens_at: datetime
    closes_at: datetime | None


class FormRead(BaseModel):
    org: str
    survey: str
    title: str
    version: int
    locale: str
    locales: list[str]
    questions: list[dict[str, Any]]
    wave: WaveWindowRead
    allow_edits: bool
    respondent: bool = Field(description="Whether a valid personal token was given.")
    results_url: str | None = Field(
        default=None,
        description="The survey's public results page, when it has one (null otherwise): "
        "the thank-you links to it.",
    )
    dir: Literal["ltr", "rtl"] = Field(description="The writing direction of `locale`.")
    org_name: str = Field(description="Who is asking: the organisation's name.")
    description: str | None = Field(description="The survey's description, under its title.")
    intro: str | None = Field(description="The survey's introduction, shown above the questions.")
    thank_you: str | None = Field(
        description="The thank-you message after a submission; null: the form's own."
    )
    privacy_url: str | None = Field(description="The organisation's privacy notice (https).")
    logo_url: str | None = Field(description="The organisation's logo (https).")


class RevisionRead(BaseModel):
    revision: int
    version: int
    submitted_at: datetime
    answers: dict[str, Any]
    locale: str | None


class ResponseRead(BaseModel):
    response_id: uuid.UUID
    wave: int
    version: int
    revision: int
    submitted_at: datetime
    revised_at: datetime
    channel: str
    locale: str | None
    respondent_id: uuid.UUID | None
    answers: dict[str, Any]


class ResponseDetail(ResponseRead):
    revisions: list[RevisionRead]


class RejectedLine(BaseModel):
    line: int
    pointer: str
    message: str


class ImportRead(BaseModel):
    imported: int
    duplicates: int
    rejected: list[RejectedLine]


class RespondentCreate(Input):
    external_ref: str | None = Field(default=None, min_length=1, max_length=500)
    attributes: AttributeMap = Field(default_factory=dict)


class RespondentUpdate(Input):
    attributes: AttributeMap


class RespondentCreated(BaseModel):
    id: uuid.UUID
    token: str = Field(description="Goes into personal survey links; shown once.")


class RespondentRead(BaseModel):
    id: uuid.UUID
    kind: str
    attributes: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class ErasedRead(BaseModel):
    responses: int
    answers: int


class CodebookQuestion(BaseModel):
    key: str
    type: str
    versions: list[int]
    definitions: list[dict[str, Any]] = Field(
        description="The question as each version defines it, with `version` added."
    )


class CodebookRead(BaseModel):
    survey: str
    versions: list[int]
    columns: list[str] = Field(description="The columns of export.csv?layout=wide, in order.")
    questions: list[CodebookQuestion]
