"""Tables of the loop: decision, finding, the decisions' findings, the findings check of each
survey, and the webhooks outbox (webhook, webhook_topic, webhook_delivery, webhook_attempt)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from feedback.db import Base, JSONType, UTCDateTime, new_id, utcnow

# A text people read, in one language (a string) or several ({locale: text}).
LocalisedText = str | dict[str, str]

DECISION_STATUSES = ("planned", "in_progress", "done", "dropped")
FINDING_KINDS = ("change", "trend")
FINDING_STATES = ("open", "answered", "dismissed")
FINDING_DIRECTIONS = ("increasing", "decreasing")
DELIVERY_STATUSES = ("pending", "delivered", "failed")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Decision(Base):
    """What the organisation decided in answer to findings ("we did"); charts mark it, the
    public results page shows it when `public`, and its impact is measured in later waves."""

    __tablename__ = "decision"
    __table_args__ = (
        Index("ix_decision_survey_id_decided_at", "survey_id", "decided_at"),
        CheckConstraint(_one_of("status", DECISION_STATUSES), name="status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    survey_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    title: Mapped[LocalisedText] = mapped_column(JSONType)
    description: Mapped[LocalisedText] = mapped_column(JSONType, default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The question keys the decision answers; empty means the survey as a whole.
    question_keys: Mapped[list[str]] = mapped_column(JSONType, default=list)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    # When it last became public (decision.published is emitted then); NULL while private.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Finding(Base):
    """Something that changed, found after a wave closed ("you said"): a significant change
    from the previous comparable wave, or a significant trend, of one question (one option of
    a choice question). Its figures and sentences are kept as they were when it was found."""

    __tablename__ = "finding"
    __table_args__ = (
        # One finding per subject, kind and wave: concurrent checks cannot open it twice.
        UniqueConstraint("survey_id", "question_key", "option_key", "kind", "wave_number"),
        Index("ix_finding_survey_id_state_opened_at", "survey_id", "state", "opened_at"),
        CheckConstraint(_one_of("kind", FINDING_KINDS), name="kind"),
        CheckConstraint(_one_of("state", FINDING_STATES), name="state"),
        CheckConstraint(_one_of("direction", FINDING_DIRECTIONS), name="direction"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    survey_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(63))
    # '' for a finding about the whole question (unique constraints treat NULLs as distinct).
    option_key: Mapped[str] = mapped_column(String(63), default="")
    kind: Mapped[str] = mapped_column(String(16))
    # The wave after whose close it was found (the `to` wave of a change).
    wave_number: Mapped[int] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(16))
    # The figures it rests on (estimates, test, statistic, p, q, tau, slope, waves).
    figures: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # The plain-language sentence in each of the survey's locales: {locale: text}.
    sentences: Mapped[dict[str, str]] = mapped_column(JSONType)
    state: Mapped[str] = mapped_column(String(16), default="open")
    state_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    state_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DecisionFinding(Base):
    """A finding that a decision answers."""

    __tablename__ = "decision_finding"
    __table_args__ = (Index("ix_decision_finding_finding_id", "finding_id"),)

    decision_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("decision.id", ondelete="CASCADE"), primary_key=True
    )
    finding_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("finding.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))


class FindingCheck(Base):
    """How far a survey's waves have been checked for findings: each closed wave is checked
    once, in order, so an answered or dismissed finding is never found again for an old wave."""

    __tablename__ = "finding_check"

    survey_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    through_wave: Mapped[int] = mapped_column(Integer, default=0)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Webhook(Base):
    """A subscription: where an organisation wants its events delivered, signed with `secret`
    (Standard Webhooks, `whsec_` + base64). The secret must sign every delivery, so it is kept
    as issued rather than hashed."""

    __tablename__ = "webhook"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSONType)
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookTopic(Base):
    """One event type a webhook subscribes to: the rows an event is fanned out over, in the
    same statement that records it (INSERT … SELECT), so an event nobody wants costs no row."""

    __tablename__ = "webhook_topic"
    __table_args__ = (Index("ix_webhook_topic_org_id_event_type", "org_id", "event_type"),)

    webhook_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook.id", ondelete="CASCADE"), primary_key=True
    )
    event_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))


class WebhookDelivery(Base):
    """The outbox: one event for one webhook, written in the transaction of the change that
    caused it, delivered (and retried) by the delivery worker. `event_id` is the event's stable
    `webhook-id`, the same on every attempt and for every webhook it goes to. The key is
    (webhook, event) so that one INSERT … SELECT over `webhook_topic` can fan an event out
    without ids made in Python."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index(
            "ix_webhook_delivery_due",
            "next_attempt_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_delivery_webhook_id_created_at", "webhook_id", "created_at"),
        CheckConstraint(_one_of("status", DELIVERY_STATUSES), name="status"),
    )

    webhook_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(40))
    # The body as delivered: {"type", "timestamp", "data"}.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # When the event happened; deliveries are given up 24 h after it.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A worker that claimed the delivery holds it until then (a crashed worker's claim lapses).
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebhookAttempt(Base):
    """One attempt at a delivery, as the receiver answered it (or why it could not)."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (
        ForeignKeyConstraint(
            ["webhook_id", "event_id"],
            ["webhook_delivery.webhook_id", "webhook_delivery.event_id"],
            ondelete="CASCADE",
        ),
        Index("ix_webhook_attempt_webhook_id_event_id", "webhook_id", "event_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    webhook_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer)
