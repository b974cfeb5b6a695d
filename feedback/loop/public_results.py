"""Public results, "you said, we did": what an organisation shows supporters about a survey.

Only what the organisation made public, and only aggregates that passed suppression:

- **You said.** The questions listed in the survey's `public_questions` setting that a published
  version asks, never a text question (even when the setting holds one: a later version may
  have turned a key into free text, or someone edited the row). For each, its latest closed
  waves, at most `PUBLIC_WAVES`, with the estimate and a plain-language sentence. Only closed
  waves: figures of an open wave change with every answer, and comparing two readings would
  tell what the answers in between were. A suppressed wave (n < min_n) says only "not enough
  answers to show", without its n; of those latest waves, the ones before the first shown are
  left out, a rule that reads suppression flags only, so leaving them out tells no more than
  showing them would. The waves are those of the question's latest run (as it is
  asked now: a type or scale change makes earlier figures another question). No segment
  splits, nothing per response. Only the answers of the waves shown (and of those the findings
  quote) are aggregated: a newsletter's burst of readers does not each scan the survey's
  whole history.
- **We did.** The public decisions, newest first, with their localised title, description and
  status, and the sentences of the findings each answers, for findings about public questions
  whose waves are not suppressed now.

A survey "has public results" when it has a public question or a public decision; otherwise,
for the public, its results do not exist (NotFound), like a survey that does not exist.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.analysis.figures import QuestionTrends
from feedback.analysis.results import Metric, WaveEstimate
from feedback.analysis.rollups import Rollups
from feedback.analysis.service import TrendsQuery, survey_trends
from feedback.errors import NotFound
from feedback.loop.models import Decision, DecisionFinding, Finding
from feedback.loop.result_sentences import (
    mean_sentence,
    nps_sentence,
    phrases_for,
    shares_sentence,
    status_text,
)
from feedback.surveys import queries as survey_queries
from feedback.surveys.definition import (
    CountedOnly,
    Definition,
    LikertQuestion,
    MultiChoiceQuestion,
    NpsQuestion,
    NumberQuestion,
    Question,
    RatingQuestion,
    SingleChoiceQuestion,
    label_text,
    match_locale,
)
from feedback.surveys.framing import title_in
from feedback.surveys.models import Survey, SurveyVersion
from feedback.surveys.schedule import survey_schedule
from feedback.surveys.service import (
    WaveInfo,
    get_public_survey,
    survey_settings,
    waves_in_range,
)

PUBLIC_WAVES = 6
MAX_PUBLIC_DECISIONS = 50
NPS_RANGE = (-100.0, 100.0)


@dataclass(frozen=True, slots=True)
class PublicOption:
    key: str
    label: str
    share: float


@dataclass(frozen=True, slots=True)
class PublicWave:
    """A closed wave of a public question: its figures, or only that it is suppressed."""

    number: int
    label: str
    opens_at: datetime
    closed_at: datetime
    suppressed: bool
    sentence: str
    n: int | None = None
    estimate: float | None = None
    options: tuple[PublicOption, ...] = ()


@dataclass(frozen=True, slots=True)
class PublicQuestion:
    key: str
    type: str
    metric: Metric
    label: str
    # Where the estimate sits for a bar (scale ends, NPS −100..100, a number's bounds); None
    # for shares (each is 0..1) and for numbers without both bounds.
    range: tuple[float, float] | None
    waves: tuple[PublicWave, ...]
    summary: str
    """The latest shown wave's sentence, or that there is nothing to show yet."""

    @property
    def latest(self) -> PublicWave | None:
        """The latest wave with figures."""
        return next((w for w in reversed(self.waves) if not w.suppressed), None)


@dataclass(frozen=True, slots=True)
class PublicFinding:
    question: str
    sentence: str


@dataclass(frozen=True, slots=True)
class PublicDecision:
    id: uuid.UUID
    title: str
    description: str
    status: str
    status_text: str
    decided_at: datetime
    decided_on: date
    """The day it was decided, on the survey's calendar (its schedule's time zone, else UTC)."""
    findings: tuple[PublicFinding, ...]


@dataclass(frozen=True, slots=True)
class PublicResults:
    org_slug: str
    survey_slug: str
    title: str
    locale: str
    locales: tuple[str, ...]
    min_n: int
    questions: tuple[PublicQuestion, ...]
    decisions: tuple[PublicDecision, ...]


# --- what is public ------------------------------------------------------------------------


async def _published_definitions(session: AsyncSession, survey: Survey) -> list[Definition]:
    rows = await session.scalars(
        survey_queries.published_versions_of(survey.id)
        .with_only_columns(SurveyVersion.definition)
        .order_by(SurveyVersion.number)
    )
    return [Definition.model_validate(d) for d in rows.all()]


def _newest(definitions: Sequence[Definition]) -> dict[str, Question]:
    newest: dict[str, Question] = {}
    for definition in definitions:
        newest.update(definition.questions_by_key)
    return newest


def public_keys(keys: Sequence[str], newest: Mapping[str, Question]) -> list[str]:
    """The listed keys that a published version asks and whose newest definition is not free
    text, in the listed order."""
    return [
        k for k in dict.fromkeys(keys) if k in newest and not isinstance(newest[k], CountedOnly)
    ]


def _public_decisions(survey: Survey) -> Select[Decision]:
    return select(Decision).where(
        Decision.org_id == survey.org_id,
        Decision.survey_id == survey.id,
        Decision.public.is_(True),
    )


async def has_public_results(session: AsyncSession, survey: Survey) -> bool:
    """Whether the survey shows anything publicly: a public question or a public decision."""
    listed = survey_settings(survey).public_questions
    if listed and public_keys(listed, _newest(await _published_definitions(session, survey))):
        return True
    found = await session.scalar(_public_decisions(survey).with_only_columns(Decision.id).limit(1))
    return found is not None


# --- assembling ----------------------------------------------------------------------------


async def public_results(
    session: AsyncSession,
    *,
    org_slug: str,
    survey_slug: str,
    wanted_locales: Sequence[str],
    now: datetime,
    rollups: Rollups | None = None,
) -> PublicResults:
    """The survey's public results in the first of `wanted_locales` it has (else its default
    locale), its waves read from and kept in `rollups` when given (every reader after a
    newsletter asks for the same waves). NotFound when the survey does not exist or shows
    nothing publicly."""
    org, survey = await get_public_survey(session, org_slug=org_slug, survey_slug=survey_slug)
    settings = survey_settings(survey)
    available = list(settings.declared_locales(survey.default_locale))
    locale = next(
        (found for w in wanted_locales if (found := match_locale(w, available)) is not None),
        survey.default_locale,
    )
    definitions = await _published_definitions(session, survey)
    keys = public_keys(settings.public_questions, _newest(definitions))
    decisions = list(
        (
            await session.scalars(
                _public_decisions(survey)
                .order_by(Decision.decided_at.desc(), Decision.id)
                .limit(MAX_PUBLIC_DECISIONS)
            )
        ).all()
    )
    if not keys and not decisions:
        raise NotFound(f"Survey '{org_slug}/{survey_slug}' has no public results.")
    phrases = phrases_for(locale)
    schedule = survey_schedule(survey)
    zone = schedule.zone if schedule is not None else UTC
    questions: list[PublicQuestion] = []
    shown_waves: dict[str, set[int]] = {}
    min_n = settings.min_n
    findings = await _findings_of(session, survey, [d.id for d in decisions])
    if keys:
        waves = await waves_in_range(session, survey, None, None, {}, now=now)
        closed = [(w, at) for w in waves if (at := _closed_at(w, survey, now)) is not None]
        window = closed[-PUBLIC_WAVES:]
        # Read the answers of those waves only (and of the waves the findings quote, to know
        # whether they are still shown), not the survey's whole history, for every reader.
        opening = {w.number: w.opens_at for w in waves}
        cited = {
            n
            for listed in findings.values()
            for f in listed
            if f.question_key in keys
            for n in _finding_waves(f)
            if n in opening
        }
        first = min([w.number for w, _ in window] + list(cited), default=None)
        start = None if first is None else opening[first].astimezone(zone).date()
        query = TrendsQuery(questions=keys, start=start)
        trends = await survey_trends(session, survey, query, now=now, rollups=rollups)
        min_n = trends.min_n
        labels = _option_labels(definitions, locale, survey.default_locale)
        for question in trends.questions:
            questions.append(
                _public_question(
                    question,
                    window,
                    phrases,
                    locale=locale,
                    default_locale=survey.default_locale,
                    option_labels=labels.get(question.meta.key, {}),
                )
            )
            shown_waves[question.meta.key] = {
                w.wave.number for w in question.total.waves if not w.estimate.suppressed
            }
    return PublicResults(
        org_slug=org.slug,
        survey_slug=survey.slug,
        title=title_in(survey, locale),  # as the form shows it, in the results' locale
        locale=locale,
        locales=tuple(available),
        min_n=min_n,
        questions=tuple(questions),
        decisions=tuple(
            PublicDecision(
                id=d.id,
                title=label_text(d.title, locale, survey.default_locale),
                description=label_text(d.description, locale, survey.default_locale),
                status=d.status,
                status_text=status_text(d.status, phrases),
                decided_at=d.decided_at,
                decided_on=d.decided_at.astimezone(zone).date(),
                findings=tuple(
                    PublicFinding(
                        f.question_key, label_text(f.sentences, locale, survey.default_locale)
                    )
                    for f in findings.get(d.id, [])
                    if _finding_is_public(f, shown_waves)
                ),
            )
            for d in decisions
        ),
    )


def _closed_at(wave: WaveInfo, survey: Survey, now: datetime) -> datetime | None:
    """When the wave stopped taking answers, if it has by `now`: its close, or the survey's
    archiving (which also ends a wave that never closes by schedule)."""
    ends = [at for at in (wave.closes_at, survey.archived_at) if at is not None]
    closed_at = min(ends) if ends else None
    return closed_at if closed_at is not None and closed_at <= now else None


def _option_labels(
    definitions: Sequence[Definition], locale: str, default_locale: str
) -> dict[str, dict[str, str]]:
    """Per question key, each option's label in `locale`, from the newest version naming it
    (an option dropped by a later version keeps its last label)."""
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for definition in definitions:
        for question in definition.questions:
            if isinstance(question, SingleChoiceQuestion | MultiChoiceQuestion):
                for option in question.options:
                    out[question.key][option.key] = label_text(option.label, locale, default_locale)
    return out


def _public_question(
    trends: QuestionTrends,
    window: Sequence[tuple[WaveInfo, datetime]],
    phrases: Mapping[str, str],
    *,
    locale: str,
    default_locale: str,
    option_labels: Mapping[str, str],
) -> PublicQuestion:
    meta = trends.meta
    question = meta.question
    metric = trends.metric
    assert metric is not None  # text questions are never public
    latest_series = len(meta.series) - 1
    estimates: dict[int, WaveEstimate] = {
        entry.wave.number: entry.estimate
        for entry in trends.total.waves
        if entry.series == latest_series
    }
    rows = [(wave, at, estimates.get(wave.number)) for wave, at in window]
    first = next(
        (i for i, (_, _, e) in enumerate(rows) if e is not None and not e.suppressed), None
    )
    rows = [] if first is None else rows[first:]
    waves = tuple(
        _public_wave(wave, at, estimate, question, phrases, option_labels)
        for wave, at, estimate in rows
    )
    latest = next((w for w in reversed(waves) if not w.suppressed), None)
    return PublicQuestion(
        key=meta.key,
        type=question.type,
        metric=metric,
        label=label_text(question.label, locale, default_locale),
        range=_range(question),
        waves=waves,
        summary=phrases["no_results"] if latest is None else latest.sentence,
    )


def _public_wave(
    wave: WaveInfo,
    closed_at: datetime,
    estimate: WaveEstimate | None,
    question: Question,
    phrases: Mapping[str, str],
    option_labels: Mapping[str, str],
) -> PublicWave:
    common: dict[str, Any] = {
        "number": wave.number,
        "label": wave.label,
        "opens_at": wave.opens_at,
        "closed_at": closed_at,
    }
    if estimate is None or estimate.suppressed:
        return PublicWave(suppressed=True, sentence=phrases["suppressed"], **common)
    n = estimate.n
    if estimate.options is not None:
        assert isinstance(question, SingleChoiceQuestion | MultiChoiceQuestion)
        order = {o.key: i for i, o in enumerate(question.options)}
        asked = [
            (key, share.estimate)
            for key, share in estimate.options.items()
            if share.estimate is not None and (key in order or share.count > 0)
        ]
        asked.sort(key=lambda item: (-item[1], order.get(item[0], len(order)), item[0]))
        options = tuple(
            PublicOption(key, option_labels.get(key, key), round(share, 3)) for key, share in asked
        )
        sentence = shares_sentence(
            [(o.label, o.share) for o in options],
            n,
            phrases,
            multiple=isinstance(question, MultiChoiceQuestion),
        )
        return PublicWave(suppressed=False, sentence=sentence, n=n, options=options, **common)
    value = estimate.estimate
    assert value is not None  # a shown mean or NPS wave has at least one answer
    if isinstance(question, NpsQuestion):
        return PublicWave(
            suppressed=False,
            sentence=nps_sentence(value, n, phrases),
            n=n,
            estimate=round(value, 1),
            **common,
        )
    scale = (
        (question.scale.min, question.scale.max)
        if isinstance(question, LikertQuestion | RatingQuestion)
        else None
    )
    return PublicWave(
        suppressed=False,
        sentence=mean_sentence(value, n, phrases, scale=scale),
        n=n,
        estimate=round(value, 2),
        **common,
    )


def _range(question: Question) -> tuple[float, float] | None:
    if isinstance(question, LikertQuestion | RatingQuestion):
        return float(question.scale.min), float(question.scale.max)
    if isinstance(question, NpsQuestion):
        return NPS_RANGE
    if (
        isinstance(question, NumberQuestion)
        and question.min is not None
        and question.max is not None
    ):
        return float(question.min), float(question.max)
    return None


async def _findings_of(
    session: AsyncSession, survey: Survey, decision_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Finding]]:
    if not decision_ids:
        return {}
    rows = await session.execute(
        select(DecisionFinding.decision_id, Finding)
        .join(Finding, Finding.id == DecisionFinding.finding_id)
        .where(
            DecisionFinding.org_id == survey.org_id,
            DecisionFinding.decision_id.in_(decision_ids),
            Finding.org_id == survey.org_id,
            Finding.survey_id == survey.id,
        )
        .order_by(Finding.opened_at, Finding.id)
    )
    out: dict[uuid.UUID, list[Finding]] = defaultdict(list)
    for decision_id, finding in rows:
        out[decision_id].append(finding)
    return out


def _finding_is_public(finding: Finding, shown_waves: Mapping[str, set[int]]) -> bool:
    """A finding's sentence quotes figures of its question: only a public question's, and only
    while the waves it compares are shown (an erasure may since have suppressed one)."""
    shown = shown_waves.get(finding.question_key)
    return shown is not None and _finding_waves(finding) <= shown


def _finding_waves(finding: Finding) -> set[int]:
    """The waves a finding's sentence rests on: its wave and, for a change, the wave it is from;
    for a trend, every wave of its run, first to last (the sentence quotes the first and last
    estimates, and its direction and count of waves come from all of them).

    A trend does not record which waves of that span its run skipped (those suppressed when it
    was found), so such a wave, still suppressed, hides the sentence too: of a doubt about
    quoting a suppressed wave, hiding is the safe side."""
    waves = {finding.wave_number}
    figures = finding.figures if isinstance(finding.figures, dict) else {}
    from_wave = _wave_number(figures.get("from_wave"))
    if from_wave is not None:
        waves.add(from_wave)
    first_wave = _wave_number(figures.get("first_wave"))
    if first_wave is not None:
        waves.update(range(first_wave, finding.wave_number + 1))
    return waves


def _wave_number(value: Any) -> int | None:
    """A wave number stored in a finding's figures (JSON), or None when it is not one."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None
