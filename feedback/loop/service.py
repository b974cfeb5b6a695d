"""Use cases of decisions and findings. Services flush; the request commits.

Concurrent changes. A change of a decision locks the decision's row, then the rows of the
findings it links or unlinks, in id order; a change of a finding locks the finding's row. So two
changes of one decision run one after the other (the second sees the first: one
`decision.published` per publishing, a finding linked once), and a finding's state and links
change together (a linked finding is always `answered`). Every transaction takes decisions
before findings, each kind in one ordered statement, so the locks cannot deadlock. On SQLite
`FOR UPDATE` is left out: a writing transaction holds the database's write lock from its
BEGIN IMMEDIATE (feedback.db.begin_write), which serialises these changes already.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from dateutil.relativedelta import relativedelta
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.errors import Conflict, FieldError, Invalid, NotFound
from feedback.loop.models import Decision, DecisionFinding, Finding
from feedback.loop.outbox import emit
from feedback.loop.schemas import DecisionCreate, DecisionRead, DecisionUpdate, FindingUpdate
from feedback.orgs import audit
from feedback.orgs.principal import Principal
from feedback.pagination import Page, paginate
from feedback.surveys.definition import Definition
from feedback.surveys.models import Survey, SurveyVersion, Wave
from feedback.surveys.schedule import survey_schedule, wave_by_number
from feedback.surveys.service import get_survey

T = TypeVar("T")

# A decision dated further ahead than this is a typo; and every read of the survey's trends
# (its public results too) numbers the wave a decision falls in by walking the schedule up to
# its date: a daily survey's decision dated in 2999 cost every such read a second.
DECIDED_AT_HORIZON_YEARS = 10


async def _known_keys(session: AsyncSession, survey: Survey) -> set[str]:
    """Every question key the survey has asked or is about to ask (published or draft)."""
    definitions = (
        await session.scalars(
            select(SurveyVersion.definition).where(SurveyVersion.survey_id == survey.id)
        )
    ).all()
    return {q.key for d in definitions for q in Definition.model_validate(d).questions}


async def _check_keys(session: AsyncSession, survey: Survey, keys: list[str]) -> list[str]:
    known = await _known_keys(session, survey)
    errors = [
        FieldError(f"/question_keys/{i}", f"is not a question of survey '{survey.slug}'")
        for i, key in enumerate(keys)
        if key not in known
    ]
    if errors:
        raise Invalid(errors, "Unknown question keys.")
    return list(dict.fromkeys(keys))


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """A decision with the findings it answers."""

    decision: Decision
    finding_ids: list[uuid.UUID]


async def first_wave_opened(session: AsyncSession, survey: Survey) -> datetime:
    """When the survey's first wave opened: the earliest stored wave, or the first wave of its
    schedule (its creation, for a survey that is always open)."""
    stored = await session.scalar(
        select(func.min(Wave.opens_at)).where(Wave.survey_id == survey.id)
    )
    schedule = survey_schedule(survey)
    planned: datetime | None = survey.created_at
    if schedule is not None:
        first = wave_by_number(schedule, 1)
        planned = None if first is None else first.opens_at
    known = [t for t in (stored, planned) if t is not None]
    return min(known) if known else survey.created_at


async def _check_decided_at(
    session: AsyncSession, survey: Survey, decided_at: datetime, *, now: datetime
) -> None:
    first = await first_wave_opened(session, survey)
    if decided_at < first:
        raise Invalid.at(
            "/decided_at",
            f"must not be before the survey's first wave opened ({first.isoformat()})",
        )
    latest = now + relativedelta(years=DECIDED_AT_HORIZON_YEARS)
    if decided_at > latest:
        raise Invalid.at(
            "/decided_at",
            f"must not be more than {DECIDED_AT_HORIZON_YEARS} years ahead ({latest.isoformat()})",
        )


async def _check_findings(
    session: AsyncSession, survey: Survey, finding_ids: list[uuid.UUID]
) -> list[uuid.UUID]:
    wanted = list(dict.fromkeys(finding_ids))
    known = (
        set(
            (
                await session.scalars(
                    select(Finding.id).where(
                        Finding.org_id == survey.org_id,
                        Finding.survey_id == survey.id,
                        Finding.id.in_(wanted),
                    )
                )
            ).all()
        )
        if wanted
        else set()
    )
    errors = [
        FieldError(f"/finding_ids/{i}", f"is not a finding of survey '{survey.slug}'")
        for i, finding_id in enumerate(finding_ids)
        if finding_id not in known
    ]
    if errors:
        raise Invalid(errors, "Unknown findings.")
    return wanted


async def _valid(errors: list[FieldError], check: Awaitable[T]) -> T | None:
    """The checked value, or None with the check's problems added to `errors`, so that one
    answer reports every problem of the request."""
    try:
        return await check
    except Invalid as exc:
        errors.extend(exc.errors)
        return None


async def create_decision(
    session: AsyncSession,
    *,
    principal: Principal,
    slug: str,
    data: DecisionCreate,
    now: datetime,
) -> DecisionRecord:
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    errors: list[FieldError] = []
    keys = await _valid(errors, _check_keys(session, survey, data.question_keys))
    await _valid(errors, _check_decided_at(session, survey, data.decided_at, now=now))
    finding_ids = await _valid(errors, _check_findings(session, survey, data.finding_ids))
    if errors or keys is None or finding_ids is None:
        raise Invalid(errors, "The decision is invalid.")
    decision = Decision(
        org_id=principal.org_id,
        survey_id=survey.id,
        title=data.title,
        description=data.description,
        decided_at=data.decided_at,
        question_keys=keys,
        public=data.public,
        status=data.status,
        published_at=now if data.public else None,
        created_at=now,
        updated_at=now,
    )
    session.add(decision)
    await session.flush()
    await _lock_findings(session, decision, set(finding_ids))
    await _link_findings(session, decision, finding_ids, now=now)
    audit.record(
        session,
        principal,
        action="decision.created",
        object_type="decision",
        object_id=decision.id,
        details={"survey": slug, "title": data.title, "finding_ids": [str(f) for f in finding_ids]},
    )
    record = DecisionRecord(decision, (await _findings_of(session, [decision]))[decision.id])
    if decision.public:
        await _announce(session, survey, record, now=now)
    await session.flush()
    return record


def _scoped(principal: Principal, survey: Survey) -> Select[Decision]:
    return select(Decision).where(
        Decision.org_id == principal.org_id, Decision.survey_id == survey.id
    )


async def get_decision(
    session: AsyncSession,
    *,
    principal: Principal,
    slug: str,
    decision_id: uuid.UUID,
    for_update: bool = False,
) -> Decision:
    """The decision; `for_update` locks its row until the transaction ends, and reads it as it
    is once the lock is held (not as this session may have seen it before)."""
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    stmt = _scoped(principal, survey).where(Decision.id == decision_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    decision = await session.scalar(stmt)
    if decision is None:
        raise NotFound("Decision not found.")
    return decision


async def get_decision_record(
    session: AsyncSession, *, principal: Principal, slug: str, decision_id: uuid.UUID
) -> DecisionRecord:
    decision = await get_decision(session, principal=principal, slug=slug, decision_id=decision_id)
    return DecisionRecord(decision, (await _findings_of(session, [decision]))[decision.id])


async def list_decisions(
    session: AsyncSession, *, principal: Principal, slug: str, limit: int, cursor: str | None
) -> Page[DecisionRecord]:
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    stmt = _scoped(principal, survey)
    keys = (Decision.decided_at, Decision.id)
    page = await paginate(session, stmt, keys, limit=limit, cursor=cursor)
    linked = await _findings_of(session, page.items)
    return Page([DecisionRecord(d, linked[d.id]) for d in page.items], page.next_cursor)


async def update_decision(
    session: AsyncSession,
    *,
    principal: Principal,
    slug: str,
    decision_id: uuid.UUID,
    data: DecisionUpdate,
    now: datetime,
) -> DecisionRecord:
    decision = await get_decision(
        session, principal=principal, slug=slug, decision_id=decision_id, for_update=True
    )
    survey = await session.get(Survey, decision.survey_id)
    assert survey is not None
    changed = sorted(data.model_fields_set)
    errors = [
        FieldError(f"/{name}", "must not be null")
        for name in changed
        if getattr(data, name) is None
    ]
    keys = wanted = None
    if data.question_keys is not None:
        keys = await _valid(errors, _check_keys(session, survey, data.question_keys))
    if data.decided_at is not None:
        await _valid(errors, _check_decided_at(session, survey, data.decided_at, now=now))
    if data.finding_ids is not None:
        wanted = await _valid(errors, _check_findings(session, survey, data.finding_ids))
    if errors:
        raise Invalid(errors, errors[0].message if len(errors) == 1 else "The change is invalid.")
    if keys is not None:
        decision.question_keys = keys
    if data.decided_at is not None:
        decision.decided_at = data.decided_at
    finding_ids = (await _findings_of(session, [decision]))[decision.id]
    if wanted is not None:
        await _lock_findings(session, decision, set(finding_ids) ^ set(wanted))
        await _unlink_findings(session, decision, set(finding_ids) - set(wanted), now=now)
        await _link_findings(
            session, decision, [f for f in wanted if f not in finding_ids], now=now
        )
        # As every read lists them: in the order the findings opened.
        finding_ids = (await _findings_of(session, [decision]))[decision.id]
    for name in ("title", "description", "status"):
        if name in changed:
            setattr(decision, name, getattr(data, name))
    becomes_public = data.public is True and not decision.public
    if data.public is not None:
        if becomes_public:
            decision.published_at = now
        elif not data.public:
            decision.published_at = None
        decision.public = data.public
    record = DecisionRecord(decision, finding_ids)
    if changed:
        decision.updated_at = now
        audit.record(
            session,
            principal,
            action="decision.updated",
            object_type="decision",
            object_id=decision.id,
            details={"fields": changed},
        )
    await session.flush()
    if becomes_public:
        await _announce(session, survey, record, now=now)
    return record


async def _findings_of(
    session: AsyncSession, decisions: Sequence[Decision]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The findings each decision answers, in the order of their opening."""
    out: dict[uuid.UUID, list[uuid.UUID]] = {d.id: [] for d in decisions}
    if not decisions:
        return out
    rows = await session.execute(
        select(DecisionFinding.decision_id, DecisionFinding.finding_id)
        .join(Finding, Finding.id == DecisionFinding.finding_id)
        .where(DecisionFinding.decision_id.in_(list(out)))
        .order_by(Finding.opened_at, Finding.id)
    )
    for decision_id, finding_id in rows:
        out[decision_id].append(finding_id)
    return out


async def _lock_findings(
    session: AsyncSession, decision: Decision, finding_ids: set[uuid.UUID]
) -> None:
    """Lock the rows of the findings the decision is about to link or unlink, in id order (see
    the module's docstring), so that a concurrent dismissal or another decision's change of the
    same finding waits for this transaction and then sees its links."""
    if not finding_ids:
        return
    await session.execute(
        select(Finding.id)
        .where(Finding.org_id == decision.org_id, Finding.id.in_(list(finding_ids)))
        .order_by(Finding.id)
        .with_for_update()
    )


async def _link_findings(
    session: AsyncSession, decision: Decision, finding_ids: Sequence[uuid.UUID], *, now: datetime
) -> None:
    """The decision answers these findings: each becomes `answered` (a dismissed one too).
    The caller holds the locks of the decision and the findings, so none is linked already."""
    if not finding_ids:
        return
    session.add_all(
        DecisionFinding(decision_id=decision.id, finding_id=f, org_id=decision.org_id)
        for f in finding_ids
    )
    await session.flush()
    await session.execute(
        update(Finding)
        .where(
            Finding.org_id == decision.org_id,
            Finding.id.in_(list(finding_ids)),
            Finding.state != "answered",
        )
        .values(state="answered", state_reason=None, state_changed_at=now)
        .execution_options(synchronize_session=False)
    )


async def _unlink_findings(
    session: AsyncSession, decision: Decision, finding_ids: set[uuid.UUID], *, now: datetime
) -> None:
    """The decision no longer answers these findings: each that no other decision answers
    returns to `open`."""
    if not finding_ids:
        return
    await session.execute(
        delete(DecisionFinding)
        .where(
            DecisionFinding.decision_id == decision.id,
            DecisionFinding.finding_id.in_(list(finding_ids)),
        )
        .execution_options(synchronize_session=False)
    )
    still_answered = select(DecisionFinding.finding_id).where(
        DecisionFinding.finding_id.in_(list(finding_ids))
    )
    await session.execute(
        update(Finding)
        .where(
            Finding.org_id == decision.org_id,
            Finding.id.in_(list(finding_ids)),
            Finding.state == "answered",
            Finding.id.not_in(still_answered),
        )
        .values(state="open", state_reason=None, state_changed_at=now)
        .execution_options(synchronize_session=False)
    )


def decision_read(record: DecisionRecord) -> DecisionRead:
    d = record.decision
    return DecisionRead(
        id=d.id,
        title=d.title,
        description=d.description,
        decided_at=d.decided_at,
        question_keys=d.question_keys,
        public=d.public,
        status=d.status,
        published_at=d.published_at,
        finding_ids=record.finding_ids,
        created_at=d.created_at,
        updated_at=d.updated_at,
    )


async def _announce(
    session: AsyncSession, survey: Survey, record: DecisionRecord, *, now: datetime
) -> None:
    """`decision.published`: the decision, and the findings it answers with their sentences."""
    findings = (
        (
            await session.scalars(
                select(Finding)
                .where(Finding.org_id == survey.org_id, Finding.id.in_(record.finding_ids))
                .order_by(Finding.opened_at, Finding.id)
            )
        ).all()
        if record.finding_ids
        else []
    )
    await emit(
        session,
        org_id=survey.org_id,
        event_type="decision.published",
        data={
            "survey": survey.slug,
            "decision": decision_read(record).model_dump(mode="json"),
            "findings": [
                {
                    "id": str(f.id),
                    "question": f.question_key,
                    "option": f.option_key or None,
                    "kind": f.kind,
                    "wave": f.wave_number,
                    "direction": f.direction,
                    "sentences": f.sentences,
                }
                for f in findings
            ],
        },
        now=now,
    )


async def decisions_for_survey(session: AsyncSession, survey_id: uuid.UUID) -> list[Decision]:
    """Every decision of a survey already scoped to its organisation, oldest first."""
    return list(
        (
            await session.scalars(
                select(Decision)
                .where(Decision.survey_id == survey_id)
                .order_by(Decision.decided_at, Decision.id)
            )
        ).all()
    )


# --- findings ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FindingRecord:
    """A finding with the decisions that answer it."""

    finding: Finding
    decision_ids: list[uuid.UUID]


def _findings_in(survey: Survey) -> Select[Finding]:
    return select(Finding).where(Finding.org_id == survey.org_id, Finding.survey_id == survey.id)


async def _decisions_of(
    session: AsyncSession, findings: Sequence[Finding]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    out: dict[uuid.UUID, list[uuid.UUID]] = {f.id: [] for f in findings}
    if not findings:
        return out
    rows = await session.execute(
        select(DecisionFinding.finding_id, DecisionFinding.decision_id)
        .join(Decision, Decision.id == DecisionFinding.decision_id)
        .where(DecisionFinding.finding_id.in_(list(out)))
        .order_by(Decision.decided_at, Decision.id)
    )
    for finding_id, decision_id in rows:
        out[finding_id].append(decision_id)
    return out


async def list_findings(
    session: AsyncSession,
    *,
    principal: Principal,
    slug: str,
    state: str | None,
    question: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[Survey, Page[FindingRecord]]:
    """The survey's findings, newest first (by opening, then wave), optionally in one state or
    about one question."""
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    stmt = _findings_in(survey)
    if state is not None:
        stmt = stmt.where(Finding.state == state)
    if question is not None:
        if question not in await _known_keys(session, survey):
            raise Invalid(
                [FieldError("/question", f"is not a question of survey '{slug}'")],
                "Unknown question key.",
            )
        stmt = stmt.where(Finding.question_key == question)
    keys = (Finding.opened_at, Finding.wave_number, Finding.id)
    page = await paginate(session, stmt, keys, limit=limit, cursor=cursor, newest_first=True)
    answering = await _decisions_of(session, page.items)
    return survey, Page([FindingRecord(f, answering[f.id]) for f in page.items], page.next_cursor)


async def update_finding(
    session: AsyncSession,
    *,
    principal: Principal,
    slug: str,
    finding_id: uuid.UUID,
    data: FindingUpdate,
    now: datetime,
) -> tuple[Survey, FindingRecord]:
    """Dismiss a finding with a reason, or reopen a dismissed one. A finding that a decision
    answers changes only through its decisions."""
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    # Locked, so that a decision linking it meanwhile either waits for this change (and then
    # makes it `answered`) or is seen below (and this change answers 409).
    finding = await session.scalar(
        _findings_in(survey)
        .where(Finding.id == finding_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if finding is None:
        raise NotFound("Finding not found.")
    decision_ids = (await _decisions_of(session, [finding]))[finding.id]
    if decision_ids:
        raise Conflict(
            f"Finding {finding.id} is answered by decision {decision_ids[0]}; "
            "unlink it from the decision first.",
            decision_ids=[str(d) for d in decision_ids],
        )
    reason = (data.reason or "").strip() or None
    if data.state == "dismissed" and reason is None:
        raise Invalid.at("/reason", "is required to dismiss a finding")
    if data.state == "open" and "reason" in data.model_fields_set and data.reason is not None:
        raise Invalid.at("/reason", "must be null or absent when reopening a finding")
    if (finding.state, finding.state_reason) != (data.state, reason):
        action = "finding.dismissed" if data.state == "dismissed" else "finding.reopened"
        finding.state = data.state
        finding.state_reason = reason
        finding.state_changed_at = now
        audit.record(
            session,
            principal,
            action=action,
            object_type="finding",
            object_id=finding.id,
            details={"survey": slug, "reason": reason},
        )
        await session.flush()
    return survey, FindingRecord(finding, decision_ids)
