"""Trends, charts, panels and decision impacts of a survey: the reads, then the pure assembly.

Each entry point loads what it needs (the survey scoped by organisation, its published
versions, series breaks, waves and decisions), runs one aggregate (`queries`), and hands the
cells to the pure modules: `catalogue` (the questions and how each run of one is counted),
`figures` (estimates, changes, trends, suppression), `decision_impact`, `panel`, and
`chart_adapter` (what the charts draw). The wire types are in `schemas`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, tzinfo
from functools import partial
from typing import cast

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.analysis import queries
from feedback.analysis.catalogue import QuestionMeta, catalogue, versions_in_effect
from feedback.analysis.chart_adapter import chart_renderer
from feedback.analysis.charts import ChartFormat
from feedback.analysis.decision_impact import DecisionImpact, impact_of
from feedback.analysis.figures import DecisionMark, SurveyTrends, question_trends
from feedback.analysis.folding import SmallGroups
from feedback.analysis.option_series import kept_across
from feedback.analysis.panel import PanelFigures, panel_test
from feedback.analysis.rollups import Rollups
from feedback.analysis.series import effective_min_n
from feedback.analysis.version_marks import RecordedChange, VersionMark, version_marks
from feedback.errors import FieldError, Invalid, NotFound
from feedback.loop.service import decisions_for_survey
from feedback.surveys import queries as survey_queries
from feedback.surveys.changes import ChangeKind
from feedback.surveys.definition import CountedOnly, label_text, match_locale
from feedback.surveys.models import Survey, SurveyVersion
from feedback.surveys.schedule import next_opens_at, survey_schedule, window_at
from feedback.surveys.service import (
    WaveInfo,
    definition_of,
    get_survey,
    series_breaks,
    survey_settings,
    waves_in_range,
)

SEGMENT_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,62}")


@dataclass(frozen=True, slots=True)
class TrendsQuery:
    """What a trends request asks for: question keys (None: all), opening dates (inclusive),
    a respondent attribute (or `channel`) to split by, a `min_n` that may raise the survey's,
    never lower, the channels whose responses count (None: every channel), what a segment
    split does with its small cells (docs/statistics.md "Segments"), and the reader's
    languages, most wanted first: the sentences are written in the first the survey has, else
    in its default locale."""

    questions: Sequence[str] | None = None
    start: date | None = None
    end: date | None = None
    segment: str | None = None
    min_n: int | None = None
    channels: tuple[str, ...] | None = None
    small_groups: SmallGroups = "suppress"
    locales: tuple[str, ...] = ()


# --- trends ------------------------------------------------------------------------------------


async def trends(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    slug: str,
    query: TrendsQuery,
    now: datetime,
    rollups: Rollups | None = None,
) -> SurveyTrends:
    survey = await get_survey(session, org_id=org_id, slug=slug)
    return await survey_trends(session, survey, query, now=now, rollups=rollups)


async def survey_trends(
    session: AsyncSession,
    survey: Survey,
    query: TrendsQuery,
    *,
    now: datetime,
    rollups: Rollups | None = None,
) -> SurveyTrends:
    """Every requested question's figures, from one aggregate query over the answers: the
    waves that have opened by `now`. Waves are read from and kept in `rollups`
    (`analysis.rollups`) when given."""
    if query.segment is not None and not _is_attribute(query.segment):
        raise Invalid(
            [FieldError("/segment", "must be a respondent attribute name")],
            "The segment is not an attribute name.",
        )
    versions = await _published(session, survey)
    metas = await _catalogue_of(session, survey, versions)
    wanted = _wanted(metas, query.questions)
    min_n = effective_min_n(survey_settings(survey).min_n, query.min_n)
    waves = tuple(
        w
        for w in await waves_in_range(session, survey, query.start, query.end, {}, now=now)
        if w.opens_at <= now
    )
    decisions = await decisions_for_survey(session, survey.id)
    stats = queries.TrendStats({}, None if query.segment is None else {})
    if wanted and waves:
        ranged = query.start is not None or query.end is not None
        stats = await queries.trend_stats(
            session,
            [m.query for m in wanted],
            survey_id=survey.id,
            org_id=survey.org_id,
            waves=(waves[0].number, waves[-1].number) if ranged else None,
            segment=query.segment,
            channels=query.channels,
            latest_only=_latest_only(survey),
            rollups=rollups,
            wave_numbers=[w.number for w in waves],
            used_at=now,
        )
    in_effect = versions_in_effect(waves, [(v.published_at, v.number) for v in versions], now)
    marks = [
        (
            d.question_keys,
            DecisionMark(
                d.id,
                label_text(d.title, None, survey.default_locale),
                d.decided_at,
                _wave_of(d.decided_at, survey, waves),
            ),
        )
        for d in decisions
    ]
    changes = await _version_marks(session, survey, versions, waves)
    questions = tuple(
        question_trends(
            meta,
            locale=survey.default_locale,
            waves=waves,
            in_effect=in_effect,
            totals=stats.totals.get(meta.key, {}),
            by_segment=None if stats.segments is None else stats.segments.get(meta.key, {}),
            min_n=min_n,
            decisions=[mark for keys, mark in marks if not keys or meta.key in keys],
            version_changes=changes.get(meta.key, ()),
            small_groups=query.small_groups,
        )
        for meta in wanted
    )
    return SurveyTrends(
        slug=survey.slug,
        min_n=min_n,
        segment=query.segment,
        start=query.start,
        end=query.end,
        waves=waves,
        questions=questions,
        locale=reading_locale(survey, query.locales),
        default_locale=survey.default_locale,
        channels=query.channels,
        zone=_zone(survey),
        small_groups=None if query.segment is None else query.small_groups,
    )


async def warm_split(
    session: AsyncSession,
    survey: Survey,
    *,
    segment: str | None,
    channels: Sequence[str] | None,
    now: datetime,
    rollups: Rollups,
    claim: Callable[[], Awaitable[bool]] | None = None,
) -> int:
    """Count and keep the rollups a write retired, of every question of the survey split by
    `segment` and `channels`, over the waves opened by `now`, when a closed wave is among
    them: what a reader asking for any of them would otherwise wait for (`analysis.warming`),
    once `claim` (if given) says this caller may. Returns the number of waves counted."""
    versions = await _published(session, survey)
    metas = await _catalogue_of(session, survey, versions)
    waves = await waves_in_range(session, survey, None, None, {}, now=now)
    return await queries.warm(
        session,
        [m.query for m in _wanted(metas, None)],
        survey_id=survey.id,
        org_id=survey.org_id,
        segment=segment,
        channels=channels,
        latest_only=_latest_only(survey),
        rollups=rollups,
        wave_numbers=[w.number for w in waves if w.opens_at <= now],
        closed=[w.number for w in waves if w.closes_at is not None and w.closes_at <= now],
        claim=claim,
    )


def reading_locale(survey: Survey, wanted: Sequence[str]) -> str:
    """The first of the reader's `wanted` locales among the survey's languages (a language
    matches its regional variants), else the survey's default locale."""
    available = survey_settings(survey).declared_locales(survey.default_locale)
    found = (match_locale(w, available) for w in wanted)
    return next((f for f in found if f is not None), survey.default_locale)


async def _version_marks(
    session: AsyncSession,
    survey: Survey,
    versions: Sequence[SurveyVersion],
    waves: Sequence[WaveInfo],
) -> dict[str, tuple[VersionMark, ...]]:
    """Each question's version changes within the waves (docs/statistics.md "Version
    changes")."""
    recorded = (await session.scalars(survey_queries.changes_of(survey.id))).all()
    return version_marks(
        [
            RecordedChange(
                c.question_key, c.version, cast(ChangeKind, c.kind), c.breaks_series, c.detail
            )
            for c in recorded
        ],
        published_at={v.number: v.published_at for v in versions if v.published_at is not None},
        wave_of=partial(_wave_of, survey=survey, waves=waves),
        waves={w.number for w in waves},
    )


def _zone(survey: Survey) -> tzinfo:
    schedule = survey_schedule(survey)
    return UTC if schedule is None else schedule.zone


def _latest_only(survey: Survey) -> bool:
    """Whether a respondent counts once per wave (docs/statistics.md, "Ground rules")."""
    return survey_settings(survey).count_per_respondent == "latest"


def _is_attribute(name: str) -> bool:
    return SEGMENT_PATTERN.fullmatch(name) is not None


async def _catalogue_of(
    session: AsyncSession, survey: Survey, versions: Sequence[SurveyVersion]
) -> dict[str, QuestionMeta]:
    """Every question of the survey's published `versions`, with its series breaks."""
    return catalogue(
        [(v.number, definition_of(v)) for v in versions], await series_breaks(session, survey.id)
    )


async def _published(session: AsyncSession, survey: Survey) -> list[SurveyVersion]:
    return list(
        (
            await session.scalars(
                survey_queries.published_versions_of(survey.id).order_by(SurveyVersion.number)
            )
        ).all()
    )


class UnknownQuestions(Invalid):
    """Keys asked for that are no question of the survey (each named at `/questions`)."""


def _wanted(metas: Mapping[str, QuestionMeta], keys: Sequence[str] | None) -> list[QuestionMeta]:
    if keys is None:
        return list(metas.values())
    unknown = [k for k in keys if k not in metas]
    if unknown:
        raise UnknownQuestions(
            [FieldError("/questions", f"'{k}' is not a question of this survey") for k in unknown],
            "Unknown question keys.",
        )
    return [metas[k] for k in dict.fromkeys(keys)]


def _wave_of(instant: datetime, survey: Survey, waves: Sequence[WaveInfo]) -> int | None:
    """The wave open at `instant`, else the first wave to open after it: from the waves in
    range (the stored record) first, then from the survey's schedule."""
    for wave in waves:
        if wave.opens_at <= instant and (wave.closes_at is None or instant < wave.closes_at):
            return wave.number
    window = window_at(survey, instant)
    if window is not None:
        return window.number
    later = [w for w in waves if w.opens_at > instant]
    if later:
        return later[0].number
    upcoming = next_opens_at(survey, instant)
    window = None if upcoming is None else window_at(survey, upcoming)
    return None if window is None else window.number


# --- charts ------------------------------------------------------------------------------------


async def chart(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    slug: str,
    key: str,
    query: TrendsQuery,
    fmt: ChartFormat,
    now: datetime,
    impact: uuid.UUID | None = None,
    rollups: Rollups | None = None,
) -> bytes:
    """The question's trend chart; with `impact` (a decision of the survey) the decision's
    fitted pre and post lines over the waves closed by `now`."""
    survey = await get_survey(session, org_id=org_id, slug=slug)
    if impact is None:
        return await survey_chart(session, survey, key, query, fmt, now=now, rollups=rollups)
    decision = await survey_decision(session, survey, impact)
    result = await _one_question(session, survey, key, query, now=now, rollups=rollups)
    question = result.questions[0]
    effect = None
    if question.metric is not None:
        effect = impact_of(result, question, decision.mark, now=now)
    render = chart_renderer(result, question, effect)
    return await anyio.to_thread.run_sync(partial(render, fmt))


async def survey_chart(
    session: AsyncSession,
    survey: Survey,
    key: str,
    query: TrendsQuery,
    fmt: ChartFormat,
    *,
    now: datetime,
    rollups: Rollups | None = None,
) -> bytes:
    """One question's trend chart (small multiples per segment value with `segment`), rendered
    in a worker thread: matplotlib takes ~100 ms of CPU, which must not stall the event loop."""
    result = await _one_question(session, survey, key, query, now=now, rollups=rollups)
    render = chart_renderer(result, result.questions[0])
    return await anyio.to_thread.run_sync(partial(render, fmt))


async def _one_question(
    session: AsyncSession,
    survey: Survey,
    key: str,
    query: TrendsQuery,
    *,
    now: datetime,
    rollups: Rollups | None,
) -> SurveyTrends:
    try:
        one = replace(query, questions=[key])
        result = await survey_trends(session, survey, one, now=now, rollups=rollups)
    except UnknownQuestions as exc:
        raise NotFound(f"Survey '{survey.slug}' has no question '{key}'.") from exc
    return result


# --- panels ------------------------------------------------------------------------------------


async def panel(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    slug: str,
    key: str,
    from_wave: int,
    to_wave: int,
    min_n: int | None = None,
    channels: tuple[str, ...] | None = None,
) -> PanelFigures:
    """Change within the same respondents between two waves (docs/statistics.md "Panel")."""
    if from_wave >= to_wave:
        raise Invalid(
            [FieldError("/from_wave", "must be an earlier wave than to_wave")],
            "The panel's waves are in the wrong order.",
        )
    survey = await get_survey(session, org_id=org_id, slug=slug)
    versions = await _published(session, survey)
    metas = await _catalogue_of(session, survey, versions)
    meta = metas.get(key)
    if meta is None:
        raise NotFound(f"Survey '{slug}' has no question '{key}'.")
    if isinstance(meta.question, CountedOnly):
        kind = meta.question.type
        raise Invalid(
            [FieldError("/question", f"is a {kind} question: it has no panel test")],
            f"{kind.capitalize()} questions have no panel test.",
        )
    stats = await queries.panel_stats(
        session,
        meta.query,
        survey_id=survey.id,
        from_wave=from_wave,
        to_wave=to_wave,
        channels=channels,
        latest_only=_latest_only(survey),
        kept=kept_across(meta.series),
    )
    effective = effective_min_n(survey_settings(survey).min_n, min_n)
    return PanelFigures(
        key=key,
        type=meta.type,
        from_wave=from_wave,
        to_wave=to_wave,
        min_n=effective,
        excluded_across_break=stats.excluded_across_break,
        result=panel_test(stats.stats, effective),
    )


# --- decision impact ---------------------------------------------------------------------------


async def decision_impact(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    slug: str,
    decision_id: uuid.UUID,
    key: str | None,
    segment: str | None,
    now: datetime,
    channels: tuple[str, ...] | None = None,
    rollups: Rollups | None = None,
) -> DecisionImpact:
    """Did the question's metric change after the decision? `key` may be left out when the
    decision names exactly one question. Only waves closed by `now` count: an open wave's
    estimate is still moving."""
    survey = await get_survey(session, org_id=org_id, slug=slug)
    decision = await survey_decision(session, survey, decision_id)
    if key is None:
        if len(decision.keys) != 1:
            raise Invalid(
                [
                    FieldError(
                        "/question",
                        f"is required: the decision names {len(decision.keys)} questions, not one",
                    )
                ],
                "Which question's impact?",
            )
        key = decision.keys[0]
    try:
        query = TrendsQuery([key], segment=segment, channels=channels)
        trends = await survey_trends(session, survey, query, now=now, rollups=rollups)
    except UnknownQuestions as exc:
        raise Invalid(
            [FieldError("/question", f"'{key}' is not a question of this survey")],
            "Unknown question.",
        ) from exc
    question = trends.questions[0]
    if question.metric is None:
        kind = question.meta.type  # text or date
        raise Invalid(
            [FieldError("/question", f"is a {kind} question: it has no metric to change")],
            f"{kind.capitalize()} questions have no impact.",
        )
    return impact_of(trends, question, decision.mark, now=now)


@dataclass(frozen=True, slots=True)
class SurveyDecision:
    """A decision of the survey as the analysis reads it: its mark and the keys it names."""

    mark: DecisionMark
    keys: tuple[str, ...]


async def survey_decisions(session: AsyncSession, survey: Survey) -> list[SurveyDecision]:
    """The survey's decisions, oldest first, titles in the survey's default locale."""
    return [
        SurveyDecision(
            DecisionMark(
                d.id, label_text(d.title, None, survey.default_locale), d.decided_at, None
            ),
            tuple(d.question_keys),
        )
        for d in await decisions_for_survey(session, survey.id)
    ]


async def survey_decision(
    session: AsyncSession, survey: Survey, decision_id: uuid.UUID
) -> SurveyDecision:
    """One decision of the survey (so of its organisation); NotFound for any other."""
    for decision in await survey_decisions(session, survey):
        if decision.mark.id == decision_id:
            return decision
    raise NotFound("Decision not found.")
