"""The wave rules of a survey (surveys/schedule.py), which the async services and the group
commit's statements share: archival first, a stored wave before the schedule, numbers continued
after earlier schedules, refusals that say when the next wave opens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feedback.errors import Conflict
from feedback.surveys.schedule import (
    ALWAYS_OPEN_LABEL,
    WaveWindow,
    wave_accepting,
    wave_status,
    window_at,
)


@dataclass(frozen=True)
class FakeSurvey:
    """Plain data with the fields of a survey row the rules read (no database needed)."""

    slug: str = "pulse"
    schedule: dict[str, Any] | None = None
    wave_offset: int = 0
    created_at: datetime = datetime(2025, 1, 15, tzinfo=UTC)
    archived_at: datetime | None = None


# Monthly waves of one week, opening on the 1st at midnight UTC.
MONTHLY = {
    "rrule": "FREQ=MONTHLY;BYMONTHDAY=1",
    "starts_at": "2025-01-01T00:00:00Z",
    "timezone": "UTC",
    "wave_duration": "P7D",
}


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def test_an_archived_survey_refuses_even_inside_a_stored_wave() -> None:
    survey = FakeSurvey(schedule=MONTHLY, archived_at=utc(2025, 3, 2))
    stored = WaveWindow(3, "2025-03", utc(2025, 3, 1), utc(2025, 3, 8))
    refused = wave_accepting(survey, utc(2025, 3, 2), stored)
    assert isinstance(refused, Conflict) and "archived" in refused.detail
    # The instant before the archival still lands in the wave.
    assert wave_accepting(survey, utc(2025, 3, 1, 23), stored) == stored


def test_a_stored_wave_wins_over_the_current_schedule() -> None:
    survey = FakeSurvey(schedule=MONTHLY)
    stored = WaveWindow(9, "kept", utc(2025, 2, 10), None)
    assert wave_accepting(survey, utc(2025, 2, 20), stored) == stored


def test_the_schedule_numbers_waves_after_those_of_earlier_schedules() -> None:
    survey = FakeSurvey(schedule=MONTHLY, wave_offset=4)
    wave = wave_accepting(survey, utc(2025, 3, 1), None)
    assert wave == WaveWindow(7, "2025-03", utc(2025, 3, 1), utc(2025, 3, 8))


def test_between_waves_the_refusal_names_the_next_opening() -> None:
    survey = FakeSurvey(schedule=MONTHLY)
    refused = wave_accepting(survey, utc(2025, 3, 8), None)  # the week closed at this instant
    assert isinstance(refused, Conflict)
    assert refused.extra["next_opens_at"] == utc(2025, 4, 1)
    assert refused.detail == (
        "Survey 'pulse' is closed; the next wave opens at 2025-04-01T00:00:00Z."
    )


def test_without_a_schedule_the_one_wave_opens_with_the_survey() -> None:
    survey = FakeSurvey(wave_offset=2)
    assert window_at(survey, utc(2025, 1, 14, 23)) is None
    wave = wave_accepting(survey, utc(2025, 1, 15), None)
    assert wave == WaveWindow(3, ALWAYS_OPEN_LABEL, utc(2025, 1, 15), None)
    refused = wave_accepting(survey, utc(2025, 1, 14, 23), None)
    assert isinstance(refused, Conflict) and refused.extra["next_opens_at"] is None


def test_a_wave_is_open_from_its_opening_instant_until_its_closing_one() -> None:
    wave = WaveWindow(1, "2025-03", utc(2025, 3, 1), utc(2025, 3, 8))
    assert wave_status(wave, utc(2025, 2, 28, 23)) == "upcoming"
    assert wave_status(wave, utc(2025, 3, 1)) == "open"
    assert wave_status(wave, utc(2025, 3, 7, 23)) == "open"
    assert wave_status(wave, utc(2025, 3, 8)) == "closed"
    assert wave_status(WaveWindow(1, "always", utc(2025, 3, 1), None), utc(2099, 1, 1)) == "open"
