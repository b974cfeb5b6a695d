"""Wave arithmetic: which wave holds an instant, which waves fall in a range, when the next opens.

Pure functions of a `Schedule` (see its docstring for the rules), and below them the same rules
for a survey (its schedule, the numbers its earlier schedules used, its archival), which both the
async services and the group commit's blocking statements apply; no clock, no database, no
background task. Occurrences are counted from the rule's start on every call: numbering needs
the count, and dateutil walks a daily rule's twenty years in about 25 ms, so no cache is kept.
All instants in and out are aware; the ones returned are in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from feedback.clock import utc_text
from feedback.errors import Conflict
from feedback.surveys.settings import IsoDuration, Schedule

ALWAYS_OPEN_LABEL = "always"
_BEGINNING = datetime.min.replace(tzinfo=UTC)
_END = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class WaveWindow:
    """Wave `number` (from 1) is open on [opens_at, closes_at); closes_at None: never closes."""

    number: int
    label: str
    opens_at: datetime
    closes_at: datetime | None

    def holds(self, instant: datetime) -> bool:
        return self.opens_at <= instant and (self.closes_at is None or instant < self.closes_at)


ALWAYS_OPEN = WaveWindow(number=1, label=ALWAYS_OPEN_LABEL, opens_at=_BEGINNING, closes_at=None)
"""The one wave of a survey without a schedule. It holds every instant; a caller that knows when
the survey was created may show that as its opening instead."""


@dataclass(frozen=True, slots=True)
class _Opening:
    number: int
    local: datetime  # on the wall clock of the schedule's zone
    utc: datetime


def wave_at(schedule: Schedule | None, instant: datetime) -> WaveWindow | None:
    """The wave whose window holds `instant`; None when the survey is closed then."""
    _require_aware(instant)
    if schedule is None:
        return ALWAYS_OPEN
    found: tuple[_Opening | None, _Opening, _Opening | None] | None = None
    for triple in _neighbours(schedule):
        if triple[1].utc > instant:
            break
        found = triple
    if found is None:
        return None
    window = _window(schedule.frequency, schedule.duration, *found)
    return window if window.holds(instant) else None


def waves_between(
    schedule: Schedule | None, start: datetime, end: datetime, *, limit: int | None = None
) -> list[WaveWindow]:
    """The waves whose windows meet [start, end), in order; at most `limit` of them if given
    (ask for one more than you will show to learn that a range holds too many)."""
    _require_aware(start)
    _require_aware(end)
    if start >= end:
        return []
    if schedule is None:
        return [ALWAYS_OPEN]
    frequency, duration = schedule.frequency, schedule.duration
    windows: list[WaveWindow] = []
    for before, current, after in _neighbours(schedule):
        if current.utc >= end or (limit is not None and len(windows) >= limit):
            break
        closes_at = _closes_at(current, after, duration)
        if closes_at is None or closes_at > start:
            windows.append(_window(frequency, duration, before, current, after))
    return windows


def next_opening(schedule: Schedule | None, instant: datetime) -> datetime | None:
    """When the first wave after `instant` opens; None without a schedule or after the last."""
    _require_aware(instant)
    if schedule is None:
        return None
    return next((o.utc for o in _openings(schedule) if o.utc > instant), None)


def wave_by_number(schedule: Schedule | None, number: int) -> WaveWindow | None:
    """Wave `number`, or None when the schedule never reaches it."""
    if schedule is None:
        return ALWAYS_OPEN if number == 1 else None
    if number < 1:
        return None
    for before, current, after in _neighbours(schedule):
        if current.number == number:
            return _window(schedule.frequency, schedule.duration, before, current, after)
    return None


def _require_aware(instant: datetime) -> None:
    if instant.utcoffset() is None:
        raise ValueError(f"{instant!r} has no time zone; wave arithmetic needs aware instants")


def _openings(schedule: Schedule) -> Iterator[_Opening]:
    last: datetime | None = None
    number = 0
    for local in schedule.recurrence():
        try:
            utc = local.astimezone(UTC)
        except OverflowError:
            # 31 December 9999 west of UTC is already the year 10000 there: no instant, so no
            # wave, and none after it (the rule's occurrences only grow).
            return
        # A zone that skips a whole day (Samoa dropped 30 December 2011) maps two wall-clock
        # times to one instant; only the first opens a wave, so windows stay in order.
        if last is not None and utc <= last:
            continue
        number += 1
        last = utc
        yield _Opening(number, local, utc)


def _neighbours(
    schedule: Schedule,
) -> Iterator[tuple[_Opening | None, _Opening, _Opening | None]]:
    """Each opening with the one before and the one after it (None at either end)."""
    openings = _openings(schedule)
    before: _Opening | None = None
    current = next(openings, None)
    while current is not None:
        after = next(openings, None)
        yield before, current, after
        before, current = current, after


def _closes_at(
    current: _Opening, after: _Opening | None, duration: IsoDuration | None
) -> datetime | None:
    following = None if after is None else after.utc
    if duration is None:
        return following
    try:
        ends = duration.after(current.local)
    except OverflowError:  # a wave near the year 9999 whose duration runs past it
        ends = _END
    return ends if following is None else min(ends, following)


def _window(
    frequency: str,
    duration: IsoDuration | None,
    before: _Opening | None,
    current: _Opening,
    after: _Opening | None,
) -> WaveWindow:
    return WaveWindow(
        number=current.number,
        label=_label(frequency, before, current, after),
        opens_at=current.utc,
        closes_at=_closes_at(current, after, duration),
    )


def _label(
    frequency: str, before: _Opening | None, current: _Opening, after: _Opening | None
) -> str:
    """The period the wave stands for, on the local calendar: `2025` (yearly), `2025-03`
    (monthly), `2025-W09` (weekly, ISO week), `2025-03-14` (daily). When a neighbour shares that
    period (FREQ=MONTHLY;BYMONTHDAY=1,15), the local date; then the local date and time."""
    for style in (_PERIOD_STYLES[frequency], _date, _minute):
        label = style(current.local)
        if all(n is None or style(n.local) != label for n in (before, after)):
            return label
    return current.local.strftime("%Y-%m-%dT%H:%M:%S")  # wall-clock times of a rule differ


def _year(local: datetime) -> str:
    return f"{local.year:04d}"


def _month(local: datetime) -> str:
    return f"{local.year:04d}-{local.month:02d}"


def _iso_week(local: datetime) -> str:
    year, week, _ = local.isocalendar()
    return f"{year:04d}-W{week:02d}"


def _date(local: datetime) -> str:
    return local.strftime("%Y-%m-%d")


def _minute(local: datetime) -> str:
    return local.strftime("%Y-%m-%dT%H:%M")


_PERIOD_STYLES = {"YEARLY": _year, "MONTHLY": _month, "WEEKLY": _iso_week, "DAILY": _date}


# --- a survey's waves ------------------------------------------------------------------------


class ScheduledSurvey(Protocol):
    """What the wave rules read of a survey: the `Survey` row has it."""

    @property
    def slug(self) -> str: ...
    @property
    def schedule(self) -> dict[str, Any] | None: ...
    @property
    def wave_offset(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def archived_at(self) -> datetime | None: ...


def survey_schedule(survey: ScheduledSurvey) -> Schedule | None:
    return None if survey.schedule is None else Schedule.model_validate(survey.schedule)


def always_open(survey: ScheduledSurvey) -> WaveWindow:
    """The one wave of a survey without a schedule, opening when the survey was created."""
    return WaveWindow(
        number=1 + survey.wave_offset,
        label=ALWAYS_OPEN_LABEL,
        opens_at=survey.created_at,
        closes_at=None,
    )


def numbered(window: WaveWindow, offset: int) -> WaveWindow:
    """A window of the current schedule, numbered as stored: after the waves of earlier ones."""
    if offset == 0:
        return window
    return WaveWindow(
        number=window.number + offset,
        label=window.label,
        opens_at=window.opens_at,
        closes_at=window.closes_at,
    )


def window_at(survey: ScheduledSurvey, instant: datetime) -> WaveWindow | None:
    """The scheduled wave holding `instant`, numbered as stored; None when closed."""
    schedule = survey_schedule(survey)
    if schedule is None:
        window = always_open(survey)
        return window if instant >= window.opens_at else None
    found = wave_at(schedule, instant)
    return None if found is None else numbered(found, survey.wave_offset)


def next_opens_at(survey: ScheduledSurvey, instant: datetime) -> datetime | None:
    schedule = survey_schedule(survey)
    if schedule is None:
        return None
    return next_opening(schedule, instant)


def archived_by(survey: ScheduledSurvey, instant: datetime) -> bool:
    return survey.archived_at is not None and survey.archived_at <= instant


def archived_conflict(survey: ScheduledSurvey) -> Conflict:
    """Why an archived survey takes no answers (every channel says it alike)."""
    return Conflict(f"Survey '{survey.slug}' is archived and no longer accepts answers.")


def closed_conflict(survey: ScheduledSurvey, instant: datetime) -> Conflict:
    """Why a survey takes no answers at `instant`, between waves: with the next opening."""
    upcoming = next_opens_at(survey, instant)
    return Conflict(
        f"Survey '{survey.slug}' is closed"
        + (f"; the next wave opens at {utc_text(upcoming)}." if upcoming else "."),
        next_opens_at=upcoming,
    )


def wave_accepting(
    survey: ScheduledSurvey, instant: datetime, stored: WaveWindow | None
) -> WaveWindow | Conflict:
    """The wave that takes an answer given at `instant`, or why none does.

    `stored` is the stored wave row holding `instant`, if any (`surveys.queries.stored_wave_at`):
    it wins over the current schedule, because stored waves keep their windows when the
    schedule changes."""
    if archived_by(survey, instant):
        return archived_conflict(survey)
    if stored is not None:
        return stored
    return window_at(survey, instant) or closed_conflict(survey, instant)


def wave_status(window: WaveWindow, now: datetime) -> str:
    if window.opens_at > now:
        return "upcoming"
    return "open" if window.holds(now) else "closed"
