"""Wire types of webhooks and their deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from feedback.loop.addresses import MAX_URL_CHARS, sendable, url_problem

EventType = Literal[
    "response.created",
    "response.revised",
    "version.published",
    "decision.published",
    "finding.opened",
]
DeliveryStatus = Literal["pending", "delivered", "failed"]


def _check_url(value: str) -> str:
    """The URL as it will be sent (in ASCII), so that what is stored, shown and checked is
    what the deliveries use."""
    problem = url_problem(value)
    if problem is not None:
        raise PydanticCustomError("webhook_url", problem)
    return sendable(value)


def _distinct(values: list[EventType]) -> list[EventType]:
    return list(dict.fromkeys(values))


WebhookUrl = Annotated[str, Field(max_length=MAX_URL_CHARS), AfterValidator(_check_url)]
Events = Annotated[list[EventType], Field(min_length=1, max_length=20), AfterValidator(_distinct)]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl
    events: Events


class WebhookRead(BaseModel):
    id: uuid.UUID
    url: str
    events: list[EventType]
    created_at: datetime


class WebhookCreated(WebhookRead):
    """As read, plus the signing secret: shown this once, never again."""

    secret: str = Field(description="Standard Webhooks secret (`whsec_` + base64).")


class AttemptRead(BaseModel):
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryRead(BaseModel):
    event_id: uuid.UUID = Field(description="The `webhook-id` header, the same on every attempt.")
    event_type: EventType
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = Field(description="null once delivered or failed.")
    finished_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    attempt_log: list[AttemptRead]
