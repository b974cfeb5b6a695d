"""Signed, expiring report links, and the report they open: every question's chart and table.

A link carries a token, never an API key: `base64url(org id ‖ survey id ‖ expiry ‖ channels ‖
tag)`, channels the comma-joined channel filter (empty: every channel; channel names are ASCII
without commas), the tag an HMAC-SHA256 of the rest under the instance's secret key
(`Settings.resolved_secret_key`),
compared in constant time. A token that does not verify, or has expired, opens nothing: the
caller sees the same "not found" as for a survey that does not exist. The survey is then loaded
scoped by the organisation the token names, so a link can never reach another organisation's
data, and the report shows exactly what the trends route shows (the survey's own `min_n`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from feedback.analysis.charts import ChartFormat
from feedback.analysis.decision_impact import impact_of
from feedback.analysis.figures import QuestionTrends, SurveyTrends, WaveFigures
from feedback.analysis.impact import Coefficient, Impact
from feedback.analysis.number_text import figure_text, p_text, share_text
from feedback.analysis.results import ChangeTest, Metric, NoTrend, TrendTest
from feedback.analysis.rollups import Rollups
from feedback.analysis.service import (
    SurveyDecision,
    TrendsQuery,
    survey_chart,
    survey_decisions,
    survey_trends,
)
from feedback.analysis.summaries import summaries_of
from feedback.analysis.text_report import TextHighlights, text_highlights
from feedback.errors import NotFound
from feedback.orgs import audit
from feedback.orgs.principal import Principal
from feedback.surveys import queries as survey_queries
from feedback.surveys.models import Survey
from feedback.surveys.service import get_survey

DEFAULT_EXPIRES_IN = timedelta(days=7)
MIN_EXPIRES_IN = timedelta(minutes=1)
MAX_EXPIRES_IN = timedelta(days=90)
# Domain separation: this key signs report links and nothing else.
_CONTEXT = b"feedback report link v1\x00"
_PAYLOAD = 16 + 16 + 8
_TAG = 32
GONE = "This report link is invalid or has expired."


@dataclass(frozen=True, slots=True)
class ReportLink:
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ReportGrant:
    """What a verified token grants: one survey of one organisation, until `expires_at`, over
    the responses through `channels` (None: every channel)."""

    org_id: uuid.UUID
    survey_id: uuid.UUID
    expires_at: datetime
    channels: tuple[str, ...] | None = None

    def query(self) -> TrendsQuery:
        return TrendsQuery(channels=self.channels)


def _tag(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), _CONTEXT + payload, hashlib.sha256).digest()


def sign(secret: str, grant: ReportGrant) -> str:
    expires = int(grant.expires_at.timestamp())
    channels = ",".join(grant.channels or ()).encode("ascii")
    payload = grant.org_id.bytes + grant.survey_id.bytes + expires.to_bytes(8, "big") + channels
    return base64.urlsafe_b64encode(payload + _tag(secret, payload)).rstrip(b"=").decode()


def verify(secret: str, token: str, *, now: datetime) -> ReportGrant:
    """The grant a token carries; NotFound when it is malformed, forged or expired."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise NotFound(GONE) from None
    if len(raw) < _PAYLOAD + _TAG:
        raise NotFound(GONE)
    payload, tag = raw[:-_TAG], raw[-_TAG:]
    if not hmac.compare_digest(tag, _tag(secret, payload)):
        raise NotFound(GONE)
    expires_at = datetime.fromtimestamp(int.from_bytes(payload[32:_PAYLOAD], "big"), UTC)
    if now >= expires_at:
        raise NotFound(GONE)
    # Signed by us, so ASCII channel names; a token without them reports every channel.
    channels = tuple(payload[_PAYLOAD:].decode("ascii").split(",")) if payload[_PAYLOAD:] else None
    return ReportGrant(
        uuid.UUID(bytes=payload[:16]), uuid.UUID(bytes=payload[16:32]), expires_at, channels
    )


async def create_link(
    session: AsyncSession,
    *,
    principal: Principal,
    slug: str,
    expires_in: timedelta,
    secret: str,
    now: datetime,
    channels: Sequence[str] | None = None,
) -> ReportLink:
    """A link to the survey's report, valid for `expires_in` (whole seconds), over the
    responses through `channels` (None: all); audited, since it lets whoever holds it read the
    survey's results without a key."""
    survey = await get_survey(session, org_id=principal.org_id, slug=slug)
    # In UTC: added to an instant in a zone that moves its clocks, a timedelta counts wall-clock
    # time (a day is 23 or 25 hours across a change), not the seconds asked for.
    expires_at = (now.astimezone(UTC) + expires_in).replace(microsecond=0)
    grant = ReportGrant(
        principal.org_id, survey.id, expires_at, None if not channels else tuple(channels)
    )
    token = sign(secret, grant)
    audit.record(
        session,
        principal,
        action="report_link.created",
        object_type="survey",
        object_id=survey.slug,
        details={"expires_at": expires_at.isoformat(), "channels": list(grant.channels or ())},
    )
    await session.flush()
    return ReportLink(token, expires_at)


async def granted_survey(
    session: AsyncSession, *, secret: str, token: str, now: datetime
) -> tuple[Survey, ReportGrant]:
    """The survey a token opens at `now`, loaded within the organisation the token names."""
    grant = verify(secret, token, now=now)
    survey = await session.scalar(
        survey_queries.surveys_of(grant.org_id).where(Survey.id == grant.survey_id)
    )
    if survey is None:
        raise NotFound(GONE)
    return survey, grant


# --- the report ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    muted: bool = False
    strong: bool = False
    # A second, smaller line under the text (a share's smallest detectable change).
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """One question in the report: its chart (None for text) beside its table."""

    key: str
    label: str
    type: str
    chart: bool
    summary: str
    # The test behind the summary, for those who want it (shown folded).
    method: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...]
    texts: TextHighlights | None = None


@dataclass(frozen=True, slots=True)
class DecisionSection:
    """One decision in the report: its impact on each question it names (a row per option for
    choice questions), each row's summary or the reason there is no impact."""

    title: str
    decided_at: datetime
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Report:
    survey: Survey
    min_n: int
    generated_at: datetime
    expires_at: datetime
    sections: tuple[Section, ...]
    decisions: tuple[DecisionSection, ...] = ()
    channels: tuple[str, ...] | None = None


async def report(
    session: AsyncSession,
    *,
    secret: str,
    token: str,
    now: datetime,
    rollups: Rollups | None = None,
) -> Report:
    """The report as of `now`: decisions' impacts count only the waves closed by then."""
    survey, grant = await granted_survey(session, secret=secret, token=token, now=now)
    trends = await survey_trends(session, survey, grant.query(), now=now, rollups=rollups)
    decisions = await survey_decisions(session, survey)
    return Report(
        survey=survey,
        min_n=trends.min_n,
        generated_at=now.astimezone(UTC),  # the page says its instants in UTC
        expires_at=grant.expires_at,
        sections=tuple(
            [
                replace(
                    _section(trends, q),
                    texts=await text_highlights(session, survey, q, grant.channels),
                )
                for q in trends.questions
            ]
        ),
        decisions=tuple(_decision_section(trends, d, now) for d in decisions),
        channels=grant.channels,
    )


async def report_chart(
    session: AsyncSession,
    *,
    secret: str,
    token: str,
    key: str,
    fmt: ChartFormat,
    now: datetime,
    rollups: Rollups | None = None,
) -> bytes:
    survey, grant = await granted_survey(session, secret=secret, token=token, now=now)
    return await survey_chart(session, survey, key, grant.query(), fmt, now=now, rollups=rollups)


def _section(trends: SurveyTrends, question: QuestionTrends) -> Section:
    metric = question.metric
    notes = [
        f"Series break at version {run.version} before wave {run.waves[0]}."
        for run in question.total.runs[1:]
    ]
    notes += [
        f"Version {c.version} ({c.published_at:%Y-%m-%d}, wave {c.wave}): "
        f"{c.kind.replace('_', ' ')}, {c.detail}; "
        + ("the series breaks here." if c.breaks_series else "the series continues.")
        for c in question.version_changes
    ]
    notes += [
        f"Decision: {d.title} ({d.decided_at:%Y-%m-%d}"
        + (f", wave {d.wave})" if d.wave is not None else ")")
        for d in question.decisions
    ]
    if metric is not None:
        notes.append(
            "± is the smallest change the next wave could detect with as many answers "
            "(80% power, α = 0.05): a smaller change may be noise."
        )
    if metric == "share":
        options = list(question.option_labels)
        for wave in question.total.waves:
            options += [o for o in (wave.estimate.options or {}) if o not in options]
        columns = ("Wave", "n", *(question.option_labels.get(o, o) for o in options))
        rows = tuple(_share_row(w, options, trends.min_n) for w in question.total.waves)
    elif metric is None:
        columns = ("Wave", "n")
        rows = tuple((Cell(w.wave.label), Cell(_count(w.estimate.n))) for w in question.total.waves)
    else:
        columns = ("Wave", "n", "Estimate (95% CI)", "Smallest detectable change", "Change", "q")
        rows = tuple(_mean_row(w, metric, trends.min_n) for w in question.total.waves)
    return Section(
        key=question.meta.key,
        label=question.label,
        type=question.meta.type,
        chart=metric is not None,
        summary=_plain_summary(trends, question),
        method=_trend_summary(question),
        columns=columns,
        rows=rows,
        notes=tuple(notes),
    )


def _count(n: int) -> str:
    return f"{n:,}"


def _suppressed(wave: WaveFigures, min_n: int, width: int) -> tuple[Cell, ...]:
    if wave.estimate.suppression == "complementary":
        why = "hidden to protect a small group"
    else:
        why = f"suppressed (n < {min_n})" if wave.estimate.n else "no answers"
    hidden = Cell(why, muted=True)
    return (
        Cell(wave.wave.label),
        Cell(_count(wave.estimate.n), muted=True),
        hidden,
        *(Cell("", muted=True) for _ in range(width - 3)),
    )


def _number(value: float | None, metric: Metric, *, signed: bool = False) -> str:
    return "–" if value is None else figure_text(value, metric, signed=signed)


def _mean_row(wave: WaveFigures, metric: Metric, min_n: int) -> tuple[Cell, ...]:
    if wave.estimate.suppressed:
        return _suppressed(wave, min_n, 6)
    e = wave.estimate
    interval = ""
    if e.ci_low is not None and e.ci_high is not None:
        interval = f" ({_number(e.ci_low, metric)} to {_number(e.ci_high, metric)})"
    change = wave.change
    return (
        Cell(wave.wave.label),
        Cell(_count(e.n)),
        Cell(_number(e.estimate, metric) + interval),
        Cell("–" if e.mdc is None else "±" + _number(e.mdc, metric), muted=True),
        *_change_cells(change, metric),
    )


def _change_cells(change: ChangeTest | None, metric: Metric) -> tuple[Cell, Cell]:
    if change is None:
        return Cell("–", muted=True), Cell("–", muted=True)
    q = "–" if change.q is None else ("<0.001" if change.q < 0.001 else f"{change.q:.3f}")
    strong = bool(change.significant)
    return Cell(_number(change.diff, metric, signed=True), strong=strong), Cell(q, strong=strong)


def _share_row(wave: WaveFigures, options: list[str], min_n: int) -> tuple[Cell, ...]:
    if wave.estimate.suppressed:
        return _suppressed(wave, min_n, 2 + len(options))
    shares = wave.estimate.options or {}
    changes = wave.option_changes or {}
    cells = [Cell(wave.wave.label), Cell(_count(wave.estimate.n))]
    for option in options:
        share = shares.get(option)
        text = "–" if share is None or share.estimate is None else share_text(share.estimate)
        # The smallest detectable change of the share, in percentage points, on its own line
        # so that a table of many options still fits the page.
        note = None
        if share is not None and share.mdc is not None:
            note = f"±{figure_text(share.mdc, 'share')} pts"
        change = changes.get(option)
        strong = change is not None and bool(change.significant)
        cells.append(Cell(text, strong=strong, note=note))
    return tuple(cells)


def _plain_summary(trends: SurveyTrends, question: QuestionTrends) -> str:
    """The latest trend in plain words (each option's for a share) and the latest wave's change
    (a multi-choice question's significant option changes only, so a long list of options
    does not bury the sentence), else what the method line says."""
    latest = question.total.latest
    if latest is None or question.metric is None:
        return _trend_summary(question)
    say = summaries_of(
        question,
        question.total,
        trends.locale,
        trends.zone,
        named=False,
        default_locale=trends.default_locale,
    )
    if latest.option_trends is not None:
        said = [say.trend(latest, option) for option in latest.option_trends]
    else:
        said = [say.trend(latest)]
    last = next((entry for entry in reversed(question.total.waves) if entry.shown), None)
    if last is not None and last.option_changes:
        said += [
            say.change(last, option)
            for option, test in last.option_changes.items()
            if test.significant
        ]
    elif last is not None:
        said.append(say.change(last))
    return " ".join(s for s in said if s) or _trend_summary(question)


def _trend_summary(question: QuestionTrends) -> str:
    latest = question.total.latest
    if question.metric is None:
        kind = question.meta.type.capitalize()  # Text or Date
        return f"{kind} answers: only the number of answers is reported."
    if latest is None:
        return "No answers in this range."
    if latest.option_trends is not None:
        moving = [
            f"{question.option_labels.get(o, o)} {t.direction}"
            for o, t in latest.option_trends.items()
            if isinstance(t, TrendTest) and t.direction != "no trend"
        ]
        if any(isinstance(t, NoTrend) for t in latest.option_trends.values()):
            reason = next(t.reason for t in latest.option_trends.values() if isinstance(t, NoTrend))
            return f"No trend test: {reason}."
        return "Trend (Mann–Kendall): " + (", ".join(moving) if moving else "no option moved.")
    trend = latest.trend
    if isinstance(trend, TrendTest):
        p = p_text(trend.p)
        return (
            f"Trend (Mann–Kendall): {trend.direction}, {p}, Sen slope "
            f"{_number(trend.slope, question.metric or 'mean', signed=True)} per wave "
            f"over {trend.waves} waves."
        )
    if isinstance(trend, NoTrend):
        return f"No trend test: {trend.reason}."
    return ""


# --- decisions -------------------------------------------------------------------------------

IMPACT_COLUMNS = (
    "Question",
    "Waves before / after",
    "Level change (95% CI)",
    "Slope change per wave (95% CI)",
    "Verdict",
)


def _decision_section(
    trends: SurveyTrends, decision: SurveyDecision, now: datetime
) -> DecisionSection:
    questions = {q.meta.key: q for q in trends.questions}
    rows: list[tuple[Cell, ...]] = []
    notes: list[str] = []
    if not decision.keys:
        notes.append("This decision names no question, so no impact is measured.")
    for key in decision.keys:
        question = questions.get(key)
        if question is None:
            rows.append(_no_impact_row(key, "not asked in a published version"))
            continue
        metric = question.metric
        if metric is None:
            rows.append(
                _no_impact_row(question.label, "text and date answers have no metric to change")
            )
            continue
        impact = impact_of(trends, question, decision.mark, now=now).total
        named: list[tuple[str, Impact]] = [(question.label, impact.impact)]
        if impact.options is not None:
            named = [
                (f"{question.label} · {question.option_labels.get(option, option)}", one)
                for option, one in impact.options.items()
            ]
        for label, one in named:
            rows.append(_impact_row(label, one, metric))
            notes.append(f"{label}: {one.summary}")
    return DecisionSection(
        title=decision.mark.title,
        decided_at=decision.mark.decided_at,
        columns=IMPACT_COLUMNS,
        rows=tuple(rows),
        notes=tuple(notes),
    )


def _no_impact_row(label: str, reason: str) -> tuple[Cell, ...]:
    return (
        Cell(label),
        Cell("–", muted=True),
        Cell("–", muted=True),
        Cell("–", muted=True),
        Cell(reason, muted=True),
    )


def _impact_row(label: str, impact: Impact, metric: Metric) -> tuple[Cell, ...]:
    concluded = impact.concluded
    return (
        Cell(label),
        Cell(f"{impact.pre_waves} / {impact.post_waves}"),
        _impact_change(impact.level_change, metric),
        _impact_change(impact.slope_change, metric),
        Cell(
            impact.verdict or "",
            muted=not concluded,
            strong=concluded and (impact.verdict != "no significant change"),
        ),
    )


def _impact_change(change: Coefficient | None, metric: Metric) -> Cell:
    if change is None:
        return Cell("–", muted=True)
    text = figure_text(change.estimate, metric, signed=True) + (" pts" if metric == "share" else "")
    if change.ci_low is not None and change.ci_high is not None:
        low = figure_text(change.ci_low, metric, signed=True)
        text += f" ({low} to {figure_text(change.ci_high, metric, signed=True)})"
    return Cell(text, strong=change.movement is not None)
