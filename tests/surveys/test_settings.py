"""Survey settings and schedules: what is accepted, normalised, and rejected at which pointer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from feedback.errors import Invalid
from feedback.surveys.settings import (
    IsoDuration,
    Schedule,
    SurveySettings,
    parse_schedule,
    parse_settings,
)

MONTHLY: dict[str, Any] = {
    "rrule": "FREQ=MONTHLY;BYMONTHDAY=1",
    "starts_at": "2025-01-01T00:00:00Z",
    "timezone": "Europe/Amsterdam",
    "wave_duration": "P14D",
}


def settings_problems(data: object) -> set[tuple[str, str]]:
    with pytest.raises(Invalid) as caught:
        parse_settings(data)
    return {(e.pointer, e.message) for e in caught.value.errors}


def schedule_problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(Invalid) as caught:
        parse_schedule(data)
    return {e.pointer: e.message for e in caught.value.errors}


def test_settings_defaults() -> None:
    nothing: tuple[object, ...] = (None, {})
    for data in nothing:
        settings = parse_settings(data)
        assert settings == SurveySettings()
        assert settings.allowed_origins == [] and settings.locales == []
        assert settings.min_n == 5 and settings.allow_edits is True
        assert settings.count_per_respondent == "latest"


def test_settings_round_trip() -> None:
    data = {
        "allowed_origins": ["https://example.org"],
        "min_n": 10,
        "allow_edits": False,
        "count_per_respondent": "all",
        "locales": ["hi", "pt-BR"],
        "public_questions": ["trust", "nps"],
        "intro": {"en": "Five minutes.", "hi": "पाँच मिनट।", "pt-BR": "Cinco minutos."},
        "thank_you": "Thank you!",
        "privacy_url": "https://example.org/privacy",
        "logo_url": "https://cdn.example.org/logo.svg",
    }
    settings = parse_settings(data)
    assert settings.model_dump() == data
    assert SurveySettings.model_validate(settings.model_dump(mode="json")) == settings
    assert settings.declared_locales("en") == ("en", "hi", "pt-BR")
    assert settings.declared_locales("hi") == ("hi", "pt-BR")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], {("/settings", "must be an object")}),
        ({"min_n": 0}, {("/settings/min_n", "must be at least 1")}),
        ({"min_n": "5"}, {("/settings/min_n", "must be an integer")}),
        ({"min_n": True}, {("/settings/min_n", "must be an integer")}),
        ({"allow_edits": "no"}, {("/settings/allow_edits", "must be true or false")}),
        ({"locales": "en"}, {("/settings/locales", "must be an array")}),
        (
            {"locales": ["en", "english language", "x", "en_GB"]},
            {
                ("/settings/locales/1", "must be a BCP 47 language tag such as en, hi or pt-BR"),
                ("/settings/locales/2", "must be a BCP 47 language tag such as en, hi or pt-BR"),
                ("/settings/locales/3", "must be a BCP 47 language tag such as en, hi or pt-BR"),
            },
        ),
        ({"theme": "dark"}, {("/settings/theme", "is not a recognised field")}),
    ],
)
def test_settings_rejections(data: object, expected: set[tuple[str, str]]) -> None:
    assert settings_problems(data) == expected


@pytest.mark.parametrize(
    ("origin", "normalised"),
    [
        ("https://example.org", "https://example.org"),
        ("HTTPS://Example.ORG/", "https://example.org"),
        ("https://example.org:443", "https://example.org"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://example.org:80", "http://example.org"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        ("https://[::1]:8443", "https://[::1]:8443"),
        (" https://campaign.example.org ", "https://campaign.example.org"),
    ],
)
def test_origins_are_normalised_as_browsers_send_them(origin: str, normalised: str) -> None:
    assert parse_settings({"allowed_origins": [origin]}).allowed_origins == [normalised]


@pytest.mark.parametrize(
    ("origin", "message"),
    [
        ("example.org", "must start with https:// or http://"),
        ("ftp://example.org", "must start with https:// or http://"),
        ("*", "must start with https:// or http://"),
        ("https://user:pw@example.org", "must not contain credentials"),
        (
            "https://example.org/embed",
            "must be an origin (scheme, host and port) without a path, e.g. https://example.org",
        ),
        (
            "https://example.org?x=1",
            "must be an origin (scheme, host and port) without a path, e.g. https://example.org",
        ),
        (
            "https://example.org#top",
            "must be an origin (scheme, host and port) without a path, e.g. https://example.org",
        ),
        ("https://*.example.org", "must name a valid host"),
        ("https://", "must name a valid host"),
        ("https://example.org:99999", "is not a valid origin: Port out of range 0-65535"),
    ],
)
def test_bad_origins(origin: str, message: str) -> None:
    data = {"allowed_origins": ["https://fine.example", origin]}
    assert settings_problems(data) == {("/settings/allowed_origins/1", message)}


def test_origins_and_locales_are_deduplicated_in_order() -> None:
    settings = parse_settings(
        {
            "allowed_origins": ["https://b.example", "https://a.example", "https://B.example/"],
            "locales": ["hi", "fr", "hi"],
        }
    )
    assert settings.allowed_origins == ["https://b.example", "https://a.example"]
    assert settings.locales == ["hi", "fr"]


def test_schedule_null_means_always_open() -> None:
    assert parse_schedule(None) is None


def test_schedule_accepts_the_api_example() -> None:
    schedule = parse_schedule(MONTHLY)
    assert schedule is not None
    assert schedule.rrule == "FREQ=MONTHLY;BYMONTHDAY=1"
    assert schedule.starts_at == datetime(2025, 1, 1, tzinfo=UTC)
    assert schedule.zone == ZoneInfo("Europe/Amsterdam")
    assert schedule.duration == IsoDuration(days=14)
    assert schedule.frequency == "MONTHLY" and not schedule.ends
    stored = schedule.model_dump(mode="json")
    assert stored["starts_at"] == "2025-01-01T00:00:00Z"
    assert Schedule.model_validate(stored) == schedule


def test_schedule_normalises_the_rule() -> None:
    schedule = parse_schedule(MONTHLY | {"rrule": " rrule:freq=weekly;byday=mo,th "})
    assert schedule is not None and schedule.rrule == "FREQ=WEEKLY;BYDAY=MO,TH"


def test_schedule_keeps_whole_seconds() -> None:
    schedule = parse_schedule(MONTHLY | {"starts_at": "2025-01-01T00:00:00.750+01:00"})
    assert schedule is not None
    assert schedule.starts_at == datetime(2024, 12, 31, 23, 0, tzinfo=UTC)


RULE_ERROR = "is not a usable RFC 5545 rule: "


@pytest.mark.parametrize(
    ("rrule", "reason"),
    [
        (
            "FREQ=HOURLY",
            "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY (waves shorter than a day are not "
            "supported)",
        ),
        (
            "FREQ=MINUTELY;INTERVAL=30",
            "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY (waves shorter than a day are not "
            "supported)",
        ),
        ("BYDAY=MO", "needs FREQ"),
        ("FREQ=DAILY;BYHOUR=9,17", "BYHOUR may hold one value: at most one wave opens a day"),
        ("FREQ=DAILY;BYMINUTE=0,30", "BYMINUTE may hold one value: at most one wave opens a day"),
        (
            "FREQ=MONTHLY;COUNT=3;UNTIL=20250601T000000Z",
            "COUNT and UNTIL cannot both be given (RFC 5545)",
        ),
        ("FREQ=MONTHLY;UNTIL=20250601", "UNTIL must be a UTC date-time such as 20251231T000000Z"),
        ("FREQ=MONTHLY;FREQ=WEEKLY", "FREQ is given twice"),
        ("FREQ=MONTHLY;;BYMONTHDAY=1", "'' is not NAME=VALUE"),
        ("FREQ=MONTHLY;BYSPRING=1", "unknown parameter 'BYSPRING'"),
        ("FREQ=MONTHLY;BYMONTHDAY=x", "invalid 'BYMONTHDAY': X"),
        # dateutil takes INTERVAL=0 and yields the same instant forever: a request listing
        # the waves never answered.
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL must be a whole number from 1 to 999999"),
        (
            "FREQ=MONTHLY;BYMONTHDAY=1;INTERVAL=0",
            "INTERVAL must be a whole number from 1 to 999999",
        ),
        ("FREQ=DAILY;INTERVAL=-1", "INTERVAL must be a whole number from 1 to 999999"),
        ("FREQ=DAILY;COUNT=0", "COUNT must be a whole number from 1 to 999999"),  # no wave
        (
            "DTSTART:20250101T000000Z\nRRULE:FREQ=MONTHLY",
            "must be one RRULE value such as FREQ=MONTHLY;BYMONTHDAY=1 (no DTSTART: starts_at "
            "anchors the rule)",
        ),
    ],
)
def test_rule_rejections(rrule: str, reason: str) -> None:
    assert schedule_problems(MONTHLY | {"rrule": rrule}) == {"/schedule/rrule": RULE_ERROR + reason}


@pytest.mark.parametrize(
    "rrule",
    [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",  # 30 February: dateutil alone searches to 9999
        "FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31",  # 31 April (BYMONTHDAY=32 is out of range)
        "FREQ=WEEKLY;BYDAY=MO;BYSETPOS=3",
        "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29",  # 2025, 2029...: never a leap year
        "FREQ=YEARLY;INTERVAL=20",  # the first wave at starts_at, the next 20 years on: fine
    ],
)
def test_rules_without_a_wave_in_ten_years_are_rejected(rrule: str) -> None:
    data = MONTHLY | {"rrule": rrule, "starts_at": "2025-01-01T09:00:00+01:00"}
    if rrule == "FREQ=YEARLY;INTERVAL=20":
        assert parse_schedule(data) is not None
    else:
        assert schedule_problems(data) == {
            "/schedule/rrule": "opens no wave in the 10 years from starts_at"
        }


def test_leap_day_rules_are_fine() -> None:
    data = MONTHLY | {"rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"}
    assert parse_schedule(data) is not None


def test_a_first_wave_more_than_ten_years_away_is_rejected() -> None:
    data = MONTHLY | {"rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO"}
    # 29 February falls on a Monday in 2016 and 2044: from 2025 that is 19 years away.
    assert schedule_problems(data) == {
        "/schedule/rrule": "opens no wave in the 10 years from starts_at"
    }
    assert parse_schedule(data | {"starts_at": "2040-01-01T00:00:00Z"}) is not None


def test_until_before_the_first_wave() -> None:
    data = MONTHLY | {"rrule": "FREQ=MONTHLY;UNTIL=20241231T000000Z"}
    assert schedule_problems(data) == {
        "/schedule/rrule": "UNTIL is before the first wave would open"
    }


@pytest.mark.parametrize("rrule", ["FREQ=MONTHLY;COUNT=6", "FREQ=MONTHLY;UNTIL=20251231T000000Z"])
def test_a_rule_that_ends_needs_a_wave_duration(rrule: str) -> None:
    data = {k: v for k, v in MONTHLY.items() if k != "wave_duration"} | {"rrule": rrule}
    assert schedule_problems(data) == {
        "/schedule/wave_duration": (
            "is required when the rule ends (COUNT or UNTIL), so that the last wave closes"
        )
    }
    schedule = parse_schedule(data | {"wave_duration": "P7D"})
    assert schedule is not None and schedule.ends


@pytest.mark.parametrize(
    ("starts_at", "message"),
    [
        ("2025-01-01T00:00:00", "must have a UTC offset (e.g. 2025-01-01T00:00:00Z)"),
        ("2025-01-01", "must have a UTC offset (e.g. 2025-01-01T00:00:00Z)"),
        ("next monday", "must be an RFC 3339 date-time such as 2025-01-01T00:00:00Z"),
        (1735689600, "must be an RFC 3339 date-time string"),
        ("1969-12-31T23:59:59Z", "must be from 1970 to 2199"),
        ("2200-01-01T00:00:00Z", "must be from 1970 to 2199"),
    ],
)
def test_starts_at(starts_at: object, message: str) -> None:
    assert schedule_problems(MONTHLY | {"starts_at": starts_at}) == {"/schedule/starts_at": message}


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../../etc/passwd", "europe/amsterdam"])
def test_bad_timezones(zone: str) -> None:
    assert schedule_problems(MONTHLY | {"timezone": zone}) == {
        "/schedule/timezone": "must be an IANA time zone name such as Europe/Amsterdam or UTC"
    }


@pytest.mark.parametrize(
    ("duration", "message"),
    [
        ("14 days", "must be an ISO 8601 duration such as P14D, PT12H or P1M"),
        ("P", "must be an ISO 8601 duration such as P14D, PT12H or P1M"),
        ("PT", "must be an ISO 8601 duration such as P14D, PT12H or P1M"),
        ("P1DT", "must be an ISO 8601 duration such as P14D, PT12H or P1M"),
        ("P1.5D", "must be an ISO 8601 duration such as P14D, PT12H or P1M"),
        ("-P1D", "must be an ISO 8601 duration such as P14D, PT12H or P1M"),
        ("P1H", "must be an ISO 8601 duration such as P14D, PT12H or P1M"),
        ("P0D", "must be longer than zero"),
        ("PT0S", "must be longer than zero"),
        ("P101Y", "must be at most 100 years"),
    ],
)
def test_bad_wave_durations(duration: str, message: str) -> None:
    assert schedule_problems(MONTHLY | {"wave_duration": duration}) == {
        "/schedule/wave_duration": message
    }


def test_schedule_shape_problems_are_all_reported() -> None:
    problems = schedule_problems({"rrule": 5, "every": "month"})
    assert problems == {
        "/schedule/rrule": "must be a string",
        "/schedule/starts_at": "is required",
        "/schedule/timezone": "is required",
        "/schedule/every": "is not a recognised field",
    }


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("P14D", IsoDuration(days=14)),
        ("PT12H", IsoDuration(hours=12)),
        ("P1M", IsoDuration(months=1)),
        ("P2W", IsoDuration(weeks=2)),
        ("P1Y2M3W4DT5H6M7S", IsoDuration(1, 2, 3, 4, 5, 6, 7)),
        ("PT90M", IsoDuration(minutes=90)),
    ],
)
def test_iso_durations(text: str, duration: IsoDuration) -> None:
    assert IsoDuration.parse(text) == duration


def test_calendar_parts_follow_the_wall_clock_and_time_parts_elapse() -> None:
    amsterdam = ZoneInfo("Europe/Amsterdam")
    before_dst = datetime(2025, 3, 29, 9, 0, tzinfo=amsterdam)  # 08:00Z; DST starts on the 30th
    assert IsoDuration(days=1).after(before_dst) == datetime(2025, 3, 30, 7, 0, tzinfo=UTC)
    assert IsoDuration(hours=24).after(before_dst) == datetime(2025, 3, 30, 8, 0, tzinfo=UTC)
    month_end = datetime(2025, 1, 31, 9, 0, tzinfo=amsterdam)
    assert IsoDuration(months=1).after(month_end) == datetime(2025, 2, 28, 8, 0, tzinfo=UTC)
    assert IsoDuration(days=1, hours=1).after(month_end) == datetime(2025, 2, 1, 9, 0, tzinfo=UTC)
    assert IsoDuration(years=1).approximate() == timedelta(days=366)
