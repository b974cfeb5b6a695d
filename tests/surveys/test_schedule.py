"""Wave arithmetic. The expected instants are worked out by hand from the zones' published
offsets (Europe/Amsterdam: CET +01:00, CEST +02:00 from the last Sunday of March 01:00Z to the
last Sunday of October 01:00Z; America/New_York: EST -05:00, EDT -04:00 from the second Sunday
of March to the first Sunday of November), never computed by the code under test."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from feedback.errors import Invalid
from feedback.surveys.schedule import (
    ALWAYS_OPEN,
    WaveWindow,
    next_opening,
    wave_at,
    wave_by_number,
    waves_between,
)
from feedback.surveys.settings import Schedule, parse_schedule


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def schedule(
    rrule: str, starts_at: str, timezone: str, wave_duration: str | None = None
) -> Schedule:
    parsed = parse_schedule(
        {
            "rrule": rrule,
            "starts_at": starts_at,
            "timezone": timezone,
            "wave_duration": wave_duration,
        }
    )
    assert parsed is not None
    return parsed


def openings(s: Schedule, start: datetime, end: datetime) -> list[datetime]:
    return [w.opens_at for w in waves_between(s, start, end)]


def test_monthly_at_nine_amsterdam_stays_at_nine_across_dst() -> None:
    s = schedule("FREQ=MONTHLY;BYMONTHDAY=1", "2025-01-01T09:00:00+01:00", "Europe/Amsterdam")
    waves = waves_between(s, utc(2025, 1, 1), utc(2025, 12, 1))
    assert [w.number for w in waves] == list(range(1, 12))
    assert [w.label for w in waves] == [f"2025-{m:02d}" for m in range(1, 12)]
    assert [w.opens_at for w in waves] == [
        utc(2025, 1, 1, 8),
        utc(2025, 2, 1, 8),
        utc(2025, 3, 1, 8),
        utc(2025, 4, 1, 7),  # CEST
        utc(2025, 5, 1, 7),
        utc(2025, 6, 1, 7),
        utc(2025, 7, 1, 7),
        utc(2025, 8, 1, 7),
        utc(2025, 9, 1, 7),
        utc(2025, 10, 1, 7),
        utc(2025, 11, 1, 8),  # CET again
    ]
    assert all(w.closes_at == n.opens_at for w, n in itertools.pairwise(waves))


def test_the_contracts_example_opens_at_midnight_utc() -> None:
    s = schedule("FREQ=MONTHLY;BYMONTHDAY=1", "2025-01-01T00:00:00Z", "Europe/Amsterdam", "P14D")
    first = wave_by_number(s, 1)
    assert first == WaveWindow(1, "2025-01", utc(2025, 1, 1), utc(2025, 1, 15))
    april = wave_by_number(s, 4)  # 01:00 local on the 1st is 23:00Z the day before in summer
    assert april == WaveWindow(4, "2025-04", utc(2025, 3, 31, 23), utc(2025, 4, 14, 23))


def test_month_ends() -> None:
    last_day = schedule("FREQ=MONTHLY;BYMONTHDAY=-1", "2028-01-01T12:00:00Z", "UTC")
    assert openings(last_day, utc(2028, 1, 1), utc(2028, 5, 1)) == [
        utc(2028, 1, 31, 12),
        utc(2028, 2, 29, 12),  # a leap year
        utc(2028, 3, 31, 12),
        utc(2028, 4, 30, 12),
    ]
    # RFC 5545: a month without a 31st has no occurrence; nothing shifts to the 30th.
    thirty_first = schedule(
        "FREQ=MONTHLY;BYMONTHDAY=31", "2025-01-01T09:00:00+01:00", "Europe/Amsterdam"
    )
    waves = waves_between(thirty_first, utc(2025, 1, 1), utc(2025, 9, 1))
    assert [(w.number, w.label, w.opens_at) for w in waves] == [
        (1, "2025-01", utc(2025, 1, 31, 8)),
        (2, "2025-03", utc(2025, 3, 31, 7)),
        (3, "2025-05", utc(2025, 5, 31, 7)),
        (4, "2025-07", utc(2025, 7, 31, 7)),
        (5, "2025-08", utc(2025, 8, 31, 7)),
    ]
    assert waves[0].closes_at == utc(2025, 3, 31, 7)


def test_weekly_new_york_across_both_transitions() -> None:
    s = schedule("FREQ=WEEKLY;BYDAY=MO", "2025-03-03T10:00:00-05:00", "America/New_York")
    march = waves_between(s, utc(2025, 3, 1), utc(2025, 3, 18))
    assert [(w.number, w.label, w.opens_at) for w in march] == [
        (1, "2025-W10", utc(2025, 3, 3, 15)),
        (2, "2025-W11", utc(2025, 3, 10, 14)),  # 9 March: clocks go forward
        (3, "2025-W12", utc(2025, 3, 17, 14)),
    ]
    autumn = waves_between(s, utc(2025, 10, 27, 14), utc(2025, 11, 4))
    assert [(w.label, w.opens_at, w.closes_at) for w in autumn] == [
        ("2025-W44", utc(2025, 10, 27, 14), utc(2025, 11, 3, 15)),  # 2 November: back
        ("2025-W45", utc(2025, 11, 3, 15), utc(2025, 11, 10, 15)),
    ]


def test_a_start_in_the_spring_forward_gap_is_neither_shifted_nor_dropped() -> None:
    # 02:30 does not exist in Amsterdam on 30 March 2025. RFC 5545 reads it with the offset in
    # force before the gap (+01:00): 01:30Z, which is 03:30 CEST.
    s = schedule("FREQ=DAILY", "2025-03-29T02:30:00+01:00", "Europe/Amsterdam")
    waves = waves_between(s, utc(2025, 3, 29), utc(2025, 4, 1))
    assert [(w.number, w.label, w.opens_at, w.closes_at) for w in waves] == [
        (1, "2025-03-29", utc(2025, 3, 29, 1, 30), utc(2025, 3, 30, 1, 30)),
        (2, "2025-03-30", utc(2025, 3, 30, 1, 30), utc(2025, 3, 31, 0, 30)),
        (3, "2025-03-31", utc(2025, 3, 31, 0, 30), utc(2025, 4, 1, 0, 30)),
    ]


def test_starting_on_the_gap_day_itself() -> None:
    s = schedule("FREQ=MONTHLY", "2025-03-30T01:30:00Z", "Europe/Amsterdam")
    # 01:30Z is 03:30 CEST: the rule keeps 03:30 local from then on.
    assert openings(s, utc(2025, 3, 1), utc(2025, 5, 31)) == [
        utc(2025, 3, 30, 1, 30),
        utc(2025, 4, 30, 1, 30),
        utc(2025, 5, 30, 1, 30),
    ]


def test_an_ambiguous_fall_back_time_is_its_first_instant() -> None:
    s = schedule("FREQ=DAILY", "2025-10-25T02:30:00+02:00", "Europe/Amsterdam")
    assert openings(s, utc(2025, 10, 24), utc(2025, 10, 28)) == [
        utc(2025, 10, 25, 0, 30),
        utc(2025, 10, 26, 0, 30),  # 02:30 happens twice on the 26th: the CEST one
        utc(2025, 10, 27, 1, 30),
    ]


def test_wave_duration_follows_the_wall_clock_and_never_overlaps_the_next_wave() -> None:
    daily_ish = schedule(
        "FREQ=WEEKLY;BYDAY=SA", "2025-03-22T09:00:00+01:00", "Europe/Amsterdam", "P1D"
    )
    waves = waves_between(daily_ish, utc(2025, 3, 29), utc(2025, 3, 30))
    assert waves == [WaveWindow(2, "2025-W13", utc(2025, 3, 29, 8), utc(2025, 3, 30, 7))]
    elapsed = schedule(
        "FREQ=WEEKLY;BYDAY=SA", "2025-03-22T09:00:00+01:00", "Europe/Amsterdam", "PT24H"
    )
    assert wave_by_number(elapsed, 2) == WaveWindow(
        2, "2025-W13", utc(2025, 3, 29, 8), utc(2025, 3, 30, 8)
    )
    longer = schedule("FREQ=WEEKLY;BYDAY=MO", "2025-01-06T09:00:00Z", "UTC", "P14D")
    first, second = waves_between(longer, utc(2025, 1, 6), utc(2025, 1, 14))
    assert first.closes_at == second.opens_at == utc(2025, 1, 13, 9)


def test_between_waves_the_survey_is_closed() -> None:
    s = schedule("FREQ=MONTHLY;BYMONTHDAY=1", "2025-01-01T00:00:00Z", "UTC", "P14D")
    assert wave_at(s, utc(2025, 3, 14, 23, 59)) == WaveWindow(
        3, "2025-03", utc(2025, 3, 1), utc(2025, 3, 15)
    )
    assert wave_at(s, utc(2025, 3, 15)) is None  # closes_at is exclusive
    assert wave_at(s, utc(2025, 3, 20)) is None
    assert next_opening(s, utc(2025, 3, 20)) == utc(2025, 4, 1)
    assert wave_at(s, utc(2025, 4, 1)) == WaveWindow(
        4, "2025-04", utc(2025, 4, 1), utc(2025, 4, 15)
    )
    assert wave_at(s, utc(2024, 12, 31, 23, 59)) is None  # before the first wave
    assert next_opening(s, utc(2024, 6, 1)) == utc(2025, 1, 1)
    assert next_opening(s, utc(2025, 1, 1)) == utc(2025, 2, 1)  # strictly after


def test_windows_meeting_a_range_include_the_one_already_open() -> None:
    s = schedule("FREQ=MONTHLY;BYMONTHDAY=1", "2025-01-01T00:00:00Z", "UTC", "P14D")
    assert [w.number for w in waves_between(s, utc(2025, 3, 10), utc(2025, 5, 1))] == [3, 4]
    assert [w.number for w in waves_between(s, utc(2025, 3, 15), utc(2025, 5, 1))] == [4]
    assert [w.number for w in waves_between(s, utc(2025, 3, 15), utc(2025, 5, 1, 0, 0, 1))] == [
        4,
        5,
    ]
    assert waves_between(s, utc(2025, 3, 20), utc(2025, 3, 25)) == []
    assert waves_between(s, utc(2025, 5, 1), utc(2025, 3, 1)) == []
    assert [w.number for w in waves_between(s, utc(2025, 1, 1), utc(2030, 1, 1), limit=3)] == [
        1,
        2,
        3,
    ]


def test_a_rule_that_ends() -> None:
    s = schedule("FREQ=WEEKLY;COUNT=3", "2025-01-06T09:00:00Z", "UTC", "P3D")
    assert [w.opens_at for w in waves_between(s, utc(2025, 1, 1), utc(2026, 1, 1))] == [
        utc(2025, 1, 6, 9),
        utc(2025, 1, 13, 9),
        utc(2025, 1, 20, 9),
    ]
    assert wave_by_number(s, 3) == WaveWindow(
        3, "2025-W04", utc(2025, 1, 20, 9), utc(2025, 1, 23, 9)
    )
    assert wave_by_number(s, 4) is None
    assert next_opening(s, utc(2025, 1, 21)) is None
    assert wave_at(s, utc(2025, 1, 24)) is None


def test_labels() -> None:
    yearly = schedule("FREQ=YEARLY", "2025-03-01T00:00:00Z", "UTC")
    assert [w.label for w in waves_between(yearly, utc(2025, 1, 1), utc(2028, 1, 1))] == [
        "2025",
        "2026",
        "2027",
    ]
    daily = schedule("FREQ=DAILY;INTERVAL=2", "2025-03-14T00:00:00Z", "UTC")
    assert [w.label for w in waves_between(daily, utc(2025, 3, 14), utc(2025, 3, 19))] == [
        "2025-03-14",
        "2025-03-16",
        "2025-03-18",
    ]
    # Two waves a month: the month would name both, so each gets its local date.
    twice = schedule("FREQ=MONTHLY;BYMONTHDAY=1,15", "2025-01-01T00:00:00Z", "UTC")
    assert [w.label for w in waves_between(twice, utc(2025, 1, 1), utc(2025, 2, 2))] == [
        "2025-01-01",
        "2025-01-15",
        "2025-02-01",
    ]
    # The local date, not the UTC one: 00:30 in Amsterdam is 23:30Z the day before.
    local = schedule("FREQ=DAILY", "2025-06-01T00:30:00+02:00", "Europe/Amsterdam")
    first = wave_by_number(local, 1)
    assert (
        first is not None
        and first.label == "2025-06-01"
        and first.opens_at == utc(2025, 5, 31, 22, 30)
    )


def test_labels_are_unique() -> None:
    for rule in (
        "FREQ=WEEKLY;BYDAY=SU,MO",
        "FREQ=YEARLY;BYMONTH=3,9",
        "FREQ=MONTHLY;BYMONTHDAY=30,31",
    ):
        s = schedule(rule, "2025-01-01T00:00:00Z", "Europe/Amsterdam")
        labels = [w.label for w in waves_between(s, utc(2025, 1, 1), utc(2027, 1, 1))]
        assert len(labels) == len(set(labels)) >= 4


def test_a_skipped_day_opens_no_second_wave_at_the_same_instant() -> None:
    # Samoa moved across the date line: 30 December 2011 never happened in Pacific/Apia. The
    # 30th at 09:00, read with the offset before the gap (-10:00), is the instant the 31st's
    # 09:00 (+14:00) is; one wave opens then, and the numbering stays gap-free.
    s = schedule("FREQ=DAILY", "2011-12-28T09:00:00-10:00", "Pacific/Apia")
    waves = waves_between(s, utc(2011, 12, 28), utc(2012, 1, 1, 12))
    assert [(w.number, w.opens_at) for w in waves] == [
        (1, utc(2011, 12, 28, 19)),
        (2, utc(2011, 12, 29, 19)),
        (3, utc(2011, 12, 30, 19)),
        (4, utc(2011, 12, 31, 19)),
    ]
    assert [w.label for w in waves] == ["2011-12-28", "2011-12-29", "2011-12-30", "2012-01-01"]


def test_without_a_schedule_one_wave_is_always_open() -> None:
    assert ALWAYS_OPEN.number == 1 and ALWAYS_OPEN.closes_at is None
    for instant in (utc(1970, 1, 1), utc(2025, 6, 1), utc(2199, 1, 1)):
        assert wave_at(None, instant) == ALWAYS_OPEN
        assert ALWAYS_OPEN.holds(instant)
    assert waves_between(None, utc(2025, 1, 1), utc(2025, 2, 1)) == [ALWAYS_OPEN]
    assert next_opening(None, utc(2025, 1, 1)) is None
    assert wave_by_number(None, 1) == ALWAYS_OPEN
    assert wave_by_number(None, 2) is None


def test_numbers_below_one_do_not_exist() -> None:
    s = schedule("FREQ=DAILY", "2025-01-01T00:00:00Z", "UTC")
    assert wave_by_number(s, 0) is None and wave_by_number(s, -3) is None


def test_naive_instants_are_refused() -> None:
    s = schedule("FREQ=DAILY", "2025-01-01T00:00:00Z", "UTC")
    with pytest.raises(ValueError, match="no time zone"):
        wave_at(s, datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="no time zone"):
        waves_between(s, utc(2025, 1, 1), datetime(2025, 2, 1))


def test_an_instant_decades_on_is_found() -> None:
    s = schedule("FREQ=DAILY", "2025-01-01T09:00:00+01:00", "Europe/Amsterdam")
    wave = wave_at(s, utc(2045, 6, 1, 12))
    # 1 Jan 2025 to 1 Jun 2045 is 20 years (5 leap days) and 151 days: wave 7457.
    assert wave == WaveWindow(7457, "2045-06-01", utc(2045, 6, 1, 7), utc(2045, 6, 2, 7))


# --- properties ---------------------------------------------------------------------------

ZONES = [
    "UTC",
    "Europe/Amsterdam",
    "America/New_York",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "Asia/Kathmandu",  # +05:45
    "America/Sao_Paulo",  # DST until 2019
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/St_Johns",  # -03:30 / -02:30
    "Pacific/Apia",
]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@st.composite
def rules(draw: st.DrawFn) -> str:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}"]
    interval = draw(st.integers(1, 3))
    if interval > 1:
        parts.append(f"INTERVAL={interval}")
    if freq == "WEEKLY" and draw(st.booleans()):
        days = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=3, unique=True))
        parts.append("BYDAY=" + ",".join(days))
    if freq == "MONTHLY":
        choice = draw(st.sampled_from(["monthday", "weekday", "none"]))
        if choice == "monthday":
            days_of_month = draw(
                st.lists(
                    st.sampled_from([1, 2, 15, 28, 29, 30, 31, -1]),
                    min_size=1,
                    max_size=2,
                    unique=True,
                )
            )
            parts.append("BYMONTHDAY=" + ",".join(map(str, days_of_month)))
        elif choice == "weekday":
            parts.append("BYDAY=" + draw(st.sampled_from(["1MO", "-1FR", "2SU"])))
    if freq == "YEARLY" and draw(st.booleans()):
        parts.append(
            "BYMONTH="
            + ",".join(
                map(str, draw(st.lists(st.integers(1, 12), min_size=1, max_size=2, unique=True)))
            )
        )
    if draw(st.booleans()):
        parts.append(f"BYHOUR={draw(st.sampled_from([0, 1, 2, 3, 9, 23]))}")
    return ";".join(parts)


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    starts_at = draw(st.datetimes(datetime(2018, 1, 1), datetime(2030, 1, 1))).replace(
        microsecond=0, tzinfo=UTC
    )
    data: dict[str, Any] = {
        "rrule": draw(rules()),
        "starts_at": starts_at.isoformat(),
        "timezone": draw(st.sampled_from(ZONES)),
        "wave_duration": draw(
            st.sampled_from([None, "P1D", "PT12H", "P14D", "P1M", "P1W", "PT1H30M"])
        ),
    }
    try:
        parsed = parse_schedule(data)
    except Invalid:
        assume(False)
        raise
    assert parsed is not None
    return parsed


def span_days(s: Schedule) -> int:
    return {"DAILY": 45, "WEEKLY": 200}.get(s.frequency, 800)


PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)


@PROPERTY_SETTINGS
@given(schedules(), st.data())
def test_waves_are_numbered_in_order_and_never_overlap(s: Schedule, data: st.DataObject) -> None:
    start = s.starts_at + timedelta(days=data.draw(st.integers(-30, 400)))
    end = start + timedelta(days=span_days(s))
    waves = waves_between(s, start, end)
    for wave in waves:
        assert wave.opens_at.tzinfo is UTC and wave.opens_at >= s.starts_at
        assert wave.closes_at is not None and wave.opens_at < wave.closes_at
        assert wave.opens_at < end and wave.closes_at > start
    for before, after in itertools.pairwise(waves):
        assert after.number == before.number + 1
        assert before.closes_at is not None and before.closes_at <= after.opens_at
    labels = [w.label for w in waves]
    assert len(labels) == len(set(labels))


@PROPERTY_SETTINGS
@given(schedules(), st.data())
def test_wave_count_matches_the_rules_occurrences(s: Schedule, data: st.DataObject) -> None:
    start = s.starts_at + timedelta(days=data.draw(st.integers(-30, 400)))
    end = start + timedelta(days=span_days(s))
    opened = [w for w in waves_between(s, start, end) if w.opens_at >= start]
    rule = rrulestr(s.rrule, dtstart=s.starts_at.astimezone(s.zone))
    occurrences = [o for o in rule.between(start, end, inc=True) if o < end]
    assert len(opened) == len(occurrences)
    assert [w.opens_at for w in opened] == [o.astimezone(UTC) for o in occurrences]


@PROPERTY_SETTINGS
@given(schedules(), st.data())
def test_each_instant_is_in_at_most_one_wave_and_wave_at_finds_it(
    s: Schedule, data: st.DataObject
) -> None:
    start = s.starts_at + timedelta(days=data.draw(st.integers(-30, 400)))
    end = start + timedelta(days=span_days(s))
    waves = waves_between(s, start, end)
    for _ in range(4):
        offset = data.draw(st.integers(0, int((end - start).total_seconds()) - 1))
        instant = start + timedelta(seconds=offset)
        holding = [w for w in waves if w.holds(instant)]
        assert len(holding) <= 1
        assert wave_at(s, instant) == (holding[0] if holding else None)
        later = [w.opens_at for w in waves if w.opens_at > instant]
        if later:
            assert next_opening(s, instant) == later[0]
    if waves:
        wave = data.draw(st.sampled_from(waves))
        assert wave_at(s, wave.opens_at) == wave
        assert wave_by_number(s, wave.number) == wave


def test_an_opening_past_the_year_9999_in_utc_is_no_wave() -> None:
    """31 December 9999 at 20:00 in Pago Pago (-11:00) is 10000-01-01 07:00 UTC: no instant.
    The wave before it neither fails nor closes (it would close at that opening)."""
    s = schedule(
        "FREQ=YEARLY;INTERVAL=7800;BYHOUR=20", "2199-12-31T12:00:00-11:00", "Pacific/Pago_Pago"
    )
    first = WaveWindow(1, "2199", utc(2200, 1, 1, 7), None)
    assert wave_at(s, utc(2200, 1, 1, 7)) == first
    assert wave_at(s, utc(2999, 12, 31)) == first
    assert next_opening(s, utc(2200, 1, 1, 7)) is None
    assert wave_by_number(s, 2) is None
    assert waves_between(s, utc(2200, 1, 1), utc(2999, 12, 31)) == [first]
    with_duration = schedule(
        "FREQ=YEARLY;INTERVAL=7800;BYHOUR=20",
        "2199-12-31T12:00:00-11:00",
        "Pacific/Pago_Pago",
        "P1D",
    )
    assert wave_at(with_duration, utc(2200, 1, 2, 6, 59, 59)) is not None
    assert wave_at(with_duration, utc(2200, 1, 2, 7)) is None
