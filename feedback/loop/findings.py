"""Findings ("you said"): what changed, found once each wave has closed (docs/statistics.md,
"Findings").

For each closed wave w not yet checked, in wave order, every question's figures from
`analysis.service.survey_trends` (the total, no segment) are read as an analyst would have
seen them right after w closed:

- a **change** finding when the change into w from the previous comparable wave has BH q ≤ 0.05,
  q taken over the question's change tests up to and including w (per option for multi-choice,
  whose tests are per option; a single-choice question's chi-square names the option that
  moved most);
- a **trend** finding when Mann–Kendall over the shown estimates of w's run (its waves since
  the last series break) up to w has p < 0.05 (per option for share metrics), unless a trend
  finding of that subject in the same direction is still open.

A suppressed wave (or option without an estimate) yields nothing. Each wave is checked once:
`finding_check.through_wave` records how far, under a row lock, so that an answered or
dismissed finding is never found again for an old wave; the insert itself is ON CONFLICT DO
NOTHING on (survey, question, option, kind, wave), so concurrent checks open a finding once.
Each new finding emits `finding.opened`.

`detect` is pure (figures in, candidates out); `check_findings` and `check_all_surveys` do the
reading and writing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.analysis.changes import with_q_values
from feedback.analysis.figures import QuestionTrends, WaveFigures
from feedback.analysis.results import ALPHA, ChangeTest, Share, TrendTest, WaveEstimate
from feedback.analysis.service import TrendsQuery, survey_trends
from feedback.analysis.summaries import period_of, subject_of
from feedback.analysis.trend import mann_kendall
from feedback.db import transaction, upsert_for
from feedback.loop.models import Finding, FindingCheck
from feedback.loop.outbox import emit
from feedback.loop.sentences import ChangeFacts, Facts, TrendFacts, sentences
from feedback.surveys.models import Survey
from feedback.surveys.schedule import next_opens_at, survey_schedule, waves_between, window_at
from feedback.surveys.service import survey_settings

log = logging.getLogger(__name__)

Direction = Literal["increasing", "decreasing"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A finding as detected, before it is stored: `option_key` is '' for the whole question."""

    question_key: str
    option_key: str
    kind: Literal["change", "trend"]
    wave: int
    direction: Direction
    figures: dict[str, Any]
    facts: Facts


# --- detection (pure) ------------------------------------------------------------------------


def detect(question: QuestionTrends, wave: int, *, zone: tzinfo = UTC) -> list[Candidate]:
    """The findings of one question for wave `wave`, from its figures as they stood right after
    `wave` closed (only waves up to it count, and q is taken over their tests alone)."""
    if question.metric is None:
        return []
    entries = [e for e in question.total.waves if e.wave.number <= wave]
    adjusted = _prefix_q_values(entries)
    out: list[Candidate] = []
    for entry in entries:
        if entry.wave.number != wave or not entry.shown or entry.series is None:
            continue
        out.extend(_changes(question, entry, entries, adjusted, zone))
        out.extend(_trends(question, entry, entries, zone))
    return out


_TestKey = tuple[int, int, str]  # (wave, series, option or '')


def _prefix_q_values(entries: Sequence[WaveFigures]) -> dict[_TestKey, ChangeTest]:
    """BH q over the question's change tests among `entries`, in the order the trends figures
    take them (wave order; every option's test for multi-choice)."""
    keys: list[_TestKey] = []
    tests: list[ChangeTest] = []
    for entry in entries:
        if entry.series is None:
            continue
        if entry.change is not None:
            keys.append((entry.wave.number, entry.series, ""))
            tests.append(entry.change)
        for option, test in (entry.option_changes or {}).items():
            keys.append((entry.wave.number, entry.series, option))
            tests.append(test)
    return dict(zip(keys, with_q_values(tests), strict=True))


def _significant(test: ChangeTest | None) -> bool:
    return test is not None and test.q is not None and test.q <= ALPHA


def _changes(
    question: QuestionTrends,
    entry: WaveFigures,
    entries: Sequence[WaveFigures],
    adjusted: Mapping[_TestKey, ChangeTest],
    zone: tzinfo,
) -> list[Candidate]:
    number, series = entry.wave.number, entry.series
    assert series is not None
    metric = question.metric
    out: list[Candidate] = []
    change = adjusted.get((number, series, ""))
    if _significant(change):
        assert change is not None
        before = _entry(entries, change.from_wave, series)
        if metric == "share":
            moved = _moved_most(before.estimate, entry.estimate)
            if moved is not None:
                option, from_share, to_share = moved
                out.append(
                    _change(
                        question,
                        before,
                        entry,
                        change,
                        option_key="",
                        named_option=option,
                        values=(from_share, to_share),
                        zone=zone,
                        options=_option_shares(before.estimate, entry.estimate),
                    )
                )
        elif _moved(before.estimate.estimate, entry.estimate.estimate):
            assert before.estimate.estimate is not None and entry.estimate.estimate is not None
            out.append(
                _change(
                    question,
                    before,
                    entry,
                    change,
                    option_key="",
                    named_option=None,
                    values=(before.estimate.estimate, entry.estimate.estimate),
                    zone=zone,
                )
            )
    for option in entry.option_changes or {}:
        test = adjusted[(number, series, option)]
        if not _significant(test):
            continue
        before = _entry(entries, test.from_wave, series)
        shares = _share(before.estimate, option), _share(entry.estimate, option)
        if not _moved(*shares):
            continue
        assert shares[0] is not None and shares[1] is not None
        out.append(
            _change(
                question,
                before,
                entry,
                test,
                option_key=option,
                named_option=option,
                values=(shares[0], shares[1]),
                zone=zone,
            )
        )
    return out


def _moved(before: float | None, after: float | None) -> bool:
    """Whether an estimate has a direction to report: a test may be significant while the
    estimate stays put (the same mean over a differently shaped distribution), and a finding
    says which way something went."""
    return before is not None and after is not None and before != after


def _entry(entries: Sequence[WaveFigures], wave: int, series: int) -> WaveFigures:
    return next(e for e in entries if e.wave.number == wave and e.series == series)


def _share(estimate: WaveEstimate, option: str) -> float | None:
    share: Share | None = (estimate.options or {}).get(option)
    return None if share is None else share.estimate


def _option_shares(before: WaveEstimate, after: WaveEstimate) -> dict[str, dict[str, Any]]:
    options = dict.fromkeys([*(before.options or {}), *(after.options or {})])
    return {o: {"from": _share(before, o), "to": _share(after, o)} for o in options}


def _moved_most(before: WaveEstimate, after: WaveEstimate) -> tuple[str, float, float] | None:
    """The option whose share changed most between two waves (first in option order on a tie);
    an option a wave does not count has a share of 0 there."""
    best: tuple[str, float, float] | None = None
    for option, shares in _option_shares(before, after).items():
        a, b = shares["from"] or 0.0, shares["to"] or 0.0
        if a != b and (best is None or abs(b - a) > abs(best[2] - best[1])):
            best = (option, a, b)
    return best


def _change(
    question: QuestionTrends,
    before: WaveFigures,
    after: WaveFigures,
    test: ChangeTest,
    *,
    option_key: str,
    named_option: str | None,
    values: tuple[float, float],
    zone: tzinfo,
    options: dict[str, dict[str, Any]] | None = None,
) -> Candidate:
    direction: Direction = "increasing" if values[1] > values[0] else "decreasing"
    diff = test.diff
    if question.metric == "share" and option_key == "":
        diff = values[1] - values[0]  # the chi-square has no difference; the named option's
    figures: dict[str, Any] = {
        "metric": question.metric,
        "series": after.series,
        "test": test.test,
        "statistic": test.statistic,
        "p": test.p,
        "q": test.q,
        "from_wave": before.wave.number,
        "to_wave": after.wave.number,
        "from_label": before.wave.label,
        "to_label": after.wave.label,
        "from_n": before.estimate.n,
        "to_n": after.estimate.n,
        "from_estimate": values[0],
        "to_estimate": values[1],
        "diff": diff,
        "diff_ci_low": test.diff_ci_low,
        "diff_ci_high": test.diff_ci_high,
    }
    if named_option is not None:
        figures["option"] = named_option
    if options is not None:
        figures["options"] = options
    subject = subject_of(question, after.series, named_option)
    if subject.scale is not None:
        figures["scale"] = list(subject.scale)
    return Candidate(
        question_key=question.meta.key,
        option_key=option_key,
        kind="change",
        wave=after.wave.number,
        direction=direction,
        figures=figures,
        facts=ChangeFacts(
            subject=subject,
            direction=direction,
            from_period=period_of(before, zone),
            to_period=period_of(after, zone),
            from_value=values[0],
            to_value=values[1],
        ),
    )


def _trends(
    question: QuestionTrends, entry: WaveFigures, entries: Sequence[WaveFigures], zone: tzinfo
) -> list[Candidate]:
    """Mann–Kendall over the shown estimates of `entry`'s run up to its wave."""
    run = [e for e in entries if e.series == entry.series and e.shown]
    if question.metric == "share":
        out = []
        for option in entry.estimate.options or {}:
            if _share(entry.estimate, option) is None:
                continue
            points = [(e, v) for e in run if (v := _share(e.estimate, option)) is not None]
            found = _trend(question, entry, points, option, zone)
            if found is not None:
                out.append(found)
        return out
    points = [(e, v) for e in run if (v := e.estimate.estimate) is not None]
    found = _trend(question, entry, points, None, zone)
    return [] if found is None else [found]


def _trend(
    question: QuestionTrends,
    entry: WaveFigures,
    points: Sequence[tuple[WaveFigures, float]],
    option: str | None,
    zone: tzinfo,
) -> Candidate | None:
    result = mann_kendall([e.wave.number for e, _ in points], [v for _, v in points])
    if not isinstance(result, TrendTest) or not result.p < ALPHA:
        return None
    if result.direction not in ("increasing", "decreasing"):
        return None
    direction: Direction = "increasing" if result.direction == "increasing" else "decreasing"
    (first, first_value), (last, last_value) = points[0], points[-1]
    subject = subject_of(question, entry.series, option)
    figures: dict[str, Any] = {
        "metric": question.metric,
        "series": entry.series,
        "test": result.test,
        "s": result.s,
        "var_s": result.var_s,
        "tau": result.tau,
        "z": result.z,
        "p": result.p,
        "slope": result.slope,
        "waves": result.waves,
        "first_wave": first.wave.number,
        "last_wave": last.wave.number,
        "first_label": first.wave.label,
        "last_label": last.wave.label,
        "first_estimate": first_value,
        "last_estimate": last_value,
    }
    if option is not None:
        figures["option"] = option
    if subject.scale is not None:
        figures["scale"] = list(subject.scale)
    return Candidate(
        question_key=question.meta.key,
        option_key=option or "",
        kind="trend",
        wave=entry.wave.number,
        direction=direction,
        figures=figures,
        facts=TrendFacts(
            subject=subject,
            direction=direction,
            since=period_of(first, zone),
            waves=result.waves,
            first_value=first_value,
            last_value=last_value,
        ),
    )


# --- checking (I/O) ------------------------------------------------------------------------------


async def check_findings(session: AsyncSession, survey: Survey, *, now: datetime) -> list[Finding]:
    """Check every wave of `survey` closed by `now` and not checked yet, in order; store and
    announce what is found. Returns the findings opened by this call (in the caller's
    transaction, which should be a writer's: the check row is locked)."""
    check = await _locked_check(session, survey, now)
    result = await survey_trends(session, survey, TrendsQuery(), now=now)
    due = [
        w
        for w in result.waves
        if w.closes_at is not None and w.closes_at <= now and w.number > check.through_wave
    ]
    if not due:
        return []
    schedule = survey_schedule(survey)
    zone: tzinfo = schedule.zone if schedule is not None else UTC
    open_trends = await _open_trends(session, survey)
    found: list[Candidate] = []
    for wave in due:
        for question in result.questions:
            for candidate in detect(question, wave.number, zone=zone):
                if candidate.kind == "trend":
                    subject = (candidate.question_key, candidate.option_key, candidate.direction)
                    if subject in open_trends:
                        continue
                    open_trends.add(subject)
                found.append(candidate)
    locales = survey_settings(survey).declared_locales(survey.default_locale)
    opened = await _insert(session, survey, found, locales, now)
    check.through_wave = due[-1].number
    check.checked_at = now
    await session.flush()
    for finding in opened:
        await emit(
            session,
            org_id=survey.org_id,
            event_type="finding.opened",
            data={"survey": survey.slug, "finding": finding_json(finding)},
            now=now,
        )
    return opened


def finding_json(finding: Finding) -> dict[str, Any]:
    """A finding as events carry it (JSON-ready)."""
    return {
        "id": str(finding.id),
        "question": finding.question_key,
        "option": finding.option_key or None,
        "kind": finding.kind,
        "wave": finding.wave_number,
        "direction": finding.direction,
        "figures": finding.figures,
        "sentences": finding.sentences,
        "state": finding.state,
        "opened_at": finding.opened_at.isoformat(),
    }


async def _locked_check(session: AsyncSession, survey: Survey, now: datetime) -> FindingCheck:
    """The survey's check row, created when missing and locked for this transaction, so that
    two checks of one survey run one after the other (the second then finds nothing due)."""
    insert = upsert_for(session)
    await session.execute(
        insert(FindingCheck)
        .values(survey_id=survey.id, org_id=survey.org_id, through_wave=0, checked_at=now)
        .on_conflict_do_nothing(index_elements=["survey_id"])
    )
    check = await session.scalar(
        select(FindingCheck)
        .where(FindingCheck.survey_id == survey.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert check is not None
    return check


async def _open_trends(session: AsyncSession, survey: Survey) -> set[tuple[str, str, str]]:
    rows = await session.execute(
        select(Finding.question_key, Finding.option_key, Finding.direction).where(
            Finding.org_id == survey.org_id,
            Finding.survey_id == survey.id,
            Finding.kind == "trend",
            Finding.state == "open",
        )
    )
    return {(q, o, d) for q, o, d in rows}


async def _insert(
    session: AsyncSession,
    survey: Survey,
    found: Sequence[Candidate],
    locales: Sequence[str],
    now: datetime,
) -> list[Finding]:
    if not found:
        return []
    rows = [
        {
            "id": uuid.uuid4(),
            "org_id": survey.org_id,
            "survey_id": survey.id,
            "question_key": c.question_key,
            "option_key": c.option_key,
            "kind": c.kind,
            "wave_number": c.wave,
            "direction": c.direction,
            "figures": c.figures,
            "sentences": sentences(c.facts, locales, survey.default_locale),
            "state": "open",
            "opened_at": now,
        }
        for c in found
    ]
    insert = upsert_for(session)
    inserted = (
        await session.scalars(
            insert(Finding)
            .values(rows)
            .on_conflict_do_nothing(
                index_elements=["survey_id", "question_key", "option_key", "kind", "wave_number"]
            )
            .returning(Finding.id)
        )
    ).all()
    if not inserted:
        return []
    stored = (await session.scalars(select(Finding).where(Finding.id.in_(inserted)))).all()
    order = {row["id"]: i for i, row in enumerate(rows)}
    return sorted(stored, key=lambda f: order[f.id])


# --- every survey ----------------------------------------------------------------------------


def closed_through(survey: Survey, now: datetime) -> int:
    """The number of the last wave of `survey` closed by `now` (the wave offset when none)."""
    window = window_at(survey, now)
    if window is not None:
        return window.number - 1
    upcoming = next_opens_at(survey, now)
    if upcoming is not None:
        following = window_at(survey, upcoming)
        return survey.wave_offset if following is None else following.number - 1
    schedule = survey_schedule(survey)
    if schedule is None:
        return survey.wave_offset
    # The rule has ended: every wave it made has closed.
    made = waves_between(schedule, schedule.starts_at, now)
    return survey.wave_offset + (made[-1].number if made else 0)


async def check_all_surveys(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime
) -> list[Finding]:
    """Check every survey with a wave closed since its last check, each in a transaction of its
    own (one survey's failure is logged and leaves the others checked). Returns what opened."""
    async with transaction(sessions, write=False) as session:
        rows = (
            await session.execute(
                select(Survey, FindingCheck.through_wave).outerjoin(
                    FindingCheck, FindingCheck.survey_id == Survey.id
                )
            )
        ).all()
        due = [s.id for s, through in rows if closed_through(s, now) > (through or 0)]
    opened: list[Finding] = []
    for survey_id in due:
        try:
            async with transaction(sessions) as session:
                survey = await session.get(Survey, survey_id)
                if survey is not None:
                    opened.extend(await check_findings(session, survey, now=now))
        except Exception:
            log.exception("checking survey %s for findings failed", survey_id)
    return opened
