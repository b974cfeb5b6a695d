"""Calendars where they break, through the real API: a wave's first and last microsecond in
far zones, on 29 February, on the 31st, across the night clocks change (a local time that does
not exist, one that exists twice); and the rules and zones a request may not name.

Every expected instant is written out in UTC here, worked out from the zone's rules by hand
(and by zoneinfo), never by the code under test.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.surveys.schedule import wave_at
from feedback.surveys.settings import Schedule
from tests.builders.orgs import Org, make_org
from tests.builders.responses import submission, submit
from tests.builders.surveys import clock_reading, make_survey

US = timedelta(microseconds=1)
# Before every wave below (the earliest opens in November 2018).
PUBLISHED = datetime(2017, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    """A schedule, and one of its waves: its label and its window in UTC."""

    name: str
    rrule: str
    starts_at: str
    timezone: str
    duration: str
    label: str
    opens_at: datetime
    closes_at: datetime


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


CASES = [
    # The first midnight after the clocks go forward (01:00 GMT -> 02:00 BST): 23:00 UTC.
    Case(
        "london-after-spring-forward",
        "FREQ=DAILY",
        "2027-03-01T00:00:00Z",
        "Europe/London",
        "PT12H",
        "2027-03-29",
        utc(2027, 3, 28, 23),
        utc(2027, 3, 29, 11),
    ),
    # Brazil's DST began at midnight (2018): 00:00 of 4 November never was; the wave opens at
    # the day's first instant, 01:00 -02:00.
    Case(
        "sao-paulo-missing-midnight",
        "FREQ=DAILY",
        "2018-11-01T00:00:00-03:00",
        "America/Sao_Paulo",
        "PT12H",
        "2018-11-04",
        utc(2018, 11, 4, 3),
        utc(2018, 11, 4, 15),
    ),
    # Lord Howe moves 30 minutes (02:00 -> 02:30): 02:15 does not exist that night and is read
    # with the offset from before the gap (+10:30), as RFC 5545 says.
    Case(
        "lord-howe-half-hour-gap",
        "FREQ=DAILY;BYHOUR=2;BYMINUTE=15",
        "2027-10-01T00:00:00+10:30",
        "Australia/Lord_Howe",
        "PT12H",
        "2027-10-03",
        utc(2027, 10, 2, 15, 45),
        utc(2027, 10, 3, 3, 45),
    ),
    # +14:00: the last day of February 2028 is the 29th, and it begins on the 28th in UTC.
    Case(
        "kiritimati-last-day-of-a-leap-february",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "2028-01-01T00:00:00+14:00",
        "Pacific/Kiritimati",
        "P1D",
        "2028-02",
        utc(2028, 2, 28, 10),
        utc(2028, 2, 29, 10),
    ),
    # -11:00, on the 31st: February has none, so the next wave is March's.
    Case(
        "pago-pago-the-31st",
        "FREQ=MONTHLY;BYMONTHDAY=31",
        "2028-01-01T00:00:00-11:00",
        "Pacific/Pago_Pago",
        "P1D",
        "2028-01",
        utc(2028, 1, 31, 11),
        utc(2028, 2, 1, 11),
    ),
    # +05:45, 29 February yearly.
    Case(
        "kathmandu-29-february",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "2025-01-01T00:00:00+05:45",
        "Asia/Kathmandu",
        "P1D",
        "2028",
        utc(2028, 2, 28, 18, 15),
        utc(2028, 2, 29, 18, 15),
    ),
    # Fall back: 01:30 happens twice on 7 November 2027; the wave opens at the first (EDT) and
    # an hour later, at the second 01:30 (EST), it closes.
    Case(
        "new-york-twice-1-30",
        "FREQ=WEEKLY;BYDAY=SU;BYHOUR=1;BYMINUTE=30",
        "2027-10-01T00:00:00-04:00",
        "America/New_York",
        "PT1H",
        "2027-W44",
        utc(2027, 11, 7, 5, 30),
        utc(2027, 11, 7, 6, 30),
    ),
]


async def _survey(client: AsyncTestClient[Litestar], case: Case) -> Org:
    org = await make_org(client)
    schedule = {
        "rrule": case.rrule,
        "starts_at": case.starts_at,
        "timezone": case.timezone,
        "wave_duration": case.duration,
    }
    await make_survey(client, org, schedule=schedule, published_at=PUBLISHED)
    return org


async def _waves(client: AsyncTestClient[Litestar], org: Org, at: datetime) -> list[Any]:
    with clock_reading(client, at):
        got = await client.get("/api/v1/surveys/pulse/waves", headers=org.auth("analyst"))
    assert got.status_code == 200, got.text
    waves: list[Any] = got.json()
    return waves


def _z(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_schedule_opens_the_wave_when_the_calendar_says(case: Case) -> None:
    schedule = Schedule.model_validate(
        {
            "rrule": case.rrule,
            "starts_at": case.starts_at,
            "timezone": case.timezone,
            "wave_duration": case.duration,
        }
    )
    window = wave_at(schedule, case.opens_at)
    assert window is not None
    assert (window.label, window.opens_at, window.closes_at) == (
        case.label,
        case.opens_at,
        case.closes_at,
    )
    assert wave_at(schedule, case.closes_at - US) == window
    assert wave_at(schedule, case.opens_at - US) != window
    assert wave_at(schedule, case.closes_at) != window


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_a_wave_takes_answers_from_its_first_microsecond_to_before_its_close(
    client: AsyncTestClient[Litestar], case: Case
) -> None:
    org = await _survey(client, case)
    form = f"/api/v1/public/{org.slug}/pulse/form"

    # A microsecond before: not yet this wave (every case's previous wave has closed).
    before = case.opens_at - US
    with clock_reading(client, before):
        refused = await submit(client, org, submission())
        assert (await client.get(form)).status_code == 409
    assert refused.status_code == 409, refused.text
    assert refused.json()["next_opens_at"] == _z(case.opens_at)
    listed = await _waves(client, org, before)
    upcoming = [w for w in listed if w["label"] == case.label]
    assert [w["status"] for w in upcoming] == ["upcoming"]
    assert upcoming[0]["opens_at"] == _z(case.opens_at)
    assert upcoming[0]["closes_at"] == _z(case.closes_at)
    number = upcoming[0]["number"]

    # Its first microsecond.
    with clock_reading(client, case.opens_at):
        first = await submit(client, org, submission())
        shown = await client.get(form)
    assert first.status_code == 201, first.text
    assert first.json()["wave"] == number
    assert shown.status_code == 200 and shown.json()["wave"]["number"] == number
    assert [
        w["status"] for w in await _waves(client, org, case.opens_at) if w["number"] == number
    ] == ["open"]

    # Its last microsecond: the wave is stored now, and still holds the instant.
    last = case.closes_at - US
    with clock_reading(client, last):
        late = await submit(client, org, submission())
        revised = await client.put(
            f"/api/v1/public/{org.slug}/pulse/responses/{first.json()['response_id']}",
            json={"version": 1, "answers": {"trust": 2}},
            headers={"X-Edit-Token": first.json()["edit_token"]},
        )
    assert late.status_code == 201, late.text
    assert late.json()["wave"] == number
    assert revised.status_code == 200, revised.text

    # Its close: the survey is closed (every case's next wave opens later).
    with clock_reading(client, case.closes_at):
        after = await submit(client, org, submission())
        again = await client.put(
            f"/api/v1/public/{org.slug}/pulse/responses/{first.json()['response_id']}",
            json={"version": 1, "answers": {"trust": 1}},
            headers={"X-Edit-Token": first.json()["edit_token"]},
        )
        assert (await client.get(form)).status_code == 409
    assert after.status_code == 409, after.text
    assert again.status_code == 409, again.text
    closed = await _waves(client, org, case.closes_at)
    assert [w["status"] for w in closed if w["number"] == number] == ["closed"]
    assert [w["responses"] for w in closed if w["number"] == number] == [2]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_an_import_dated_on_the_boundaries_in_the_zones_own_offset(
    client: AsyncTestClient[Litestar], case: Case
) -> None:
    org = await _survey(client, case)
    zone = ZoneInfo(case.timezone)
    dated = {
        "before": case.opens_at - US,
        "opens": case.opens_at,
        "last": case.closes_at - US,
        "closes": case.closes_at,
    }
    lines = [
        json.dumps(
            {
                "response_id": str(uuid.uuid4()),
                "answers": {"trust": 3},
                # On the zone's wall clock with its offset (+14:00, -11:00, +05:45, ...).
                "submitted_at": instant.astimezone(zone).isoformat(),
            }
        )
        for instant in dated.values()
    ]
    with clock_reading(client, case.closes_at + timedelta(days=1)):
        got = await client.post(
            "/api/v1/surveys/pulse/responses/import",
            content="\n".join(lines).encode(),
            headers={**org.auth("campaigner"), "Content-Type": "application/x-ndjson"},
        )
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["imported"] == 2
    assert [(r["line"], r["pointer"]) for r in body["rejected"]] == [
        (1, "/submitted_at"),
        (4, "/submitted_at"),
    ]


# --- what a schedule in a request may not say ---------------------------------------------------


async def _create(client: AsyncTestClient[Litestar], org: Org, schedule: dict[str, Any]) -> Any:
    return await client.post(
        "/api/v1/surveys",
        json={
            "slug": "cal",
            "title": "Calendar",
            "default_locale": "en",
            "schedule": schedule,
            "definition": {"questions": [{"key": "nps", "type": "nps", "label": "NPS"}]},
        },
        headers=org.auth("campaigner"),
    )


def _schedule(**override: str) -> dict[str, Any]:
    return {
        "rrule": "FREQ=MONTHLY;BYMONTHDAY=1",
        "starts_at": "2027-01-01T00:00:00Z",
        "timezone": "Europe/Amsterdam",
        "wave_duration": "P14D",
        **override,
    }


@pytest.mark.parametrize(
    ("rrule", "says"),
    [
        # dateutil reads a 0 as no value: a monthly rule would open a wave every day.
        ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY values must be from 1 to 31 or from -31 to -1"),
        # ... and drops it from a list: the campaigner's 0 would vanish without a word.
        ("FREQ=MONTHLY;BYMONTHDAY=0,15", "BYMONTHDAY"),
        ("FREQ=MONTHLY;BYMONTHDAY=-32", "BYMONTHDAY"),
        ("FREQ=YEARLY;BYYEARDAY=0,1", "BYYEARDAY values must be from 1 to 366"),
        ("FREQ=YEARLY;BYWEEKNO=0,1", "BYWEEKNO values must be from 1 to 53"),
        ("FREQ=YEARLY;BYMONTH=0,1", "BYMONTH values must be from 1 to 12"),
        ("FREQ=YEARLY;BYMONTH=-1", "BYMONTH values must be from 1 to 12"),
        # (dateutil refuses this one itself.)
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0,1", "between 1 and 366"),
        # dateutil's own part, not RFC 5545's.
        ("FREQ=YEARLY;BYEASTER=0", "BYEASTER is not part of RFC 5545"),
        # A missing ';': the error says so instead of dateutil's "too many values to unpack".
        ("FREQ=MONTHLY;BYMONTHDAY=1,BYMONTH=2", "is two parts: separate them with ';'"),
    ],
)
async def test_a_rule_outside_rfc_5545_is_refused_naming_the_field(
    client: AsyncTestClient[Litestar], rrule: str, says: str
) -> None:
    org = await make_org(client)
    got = await _create(client, org, _schedule(rrule=rrule))
    assert got.status_code == 422, got.text
    assert got.headers["content-type"].startswith("application/problem+json")
    [error] = got.json()["errors"]
    assert error["pointer"] == "/schedule/rrule"
    assert says in error["message"]
    assert "unpack" not in error["message"]


@pytest.mark.parametrize(
    "rrule",
    [
        "FREQ=MONTHLY;BYMONTHDAY=31",
        "FREQ=MONTHLY;BYMONTHDAY=-31",
        "FREQ=MONTHLY;BYMONTHDAY=+15",
        "FREQ=YEARLY;BYYEARDAY=-366",
        "FREQ=YEARLY;BYWEEKNO=53",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "freq=monthly;byday=-1fr",
    ],
)
async def test_the_ends_of_each_range_are_taken(
    client: AsyncTestClient[Litestar], rrule: str
) -> None:
    org = await make_org(client)
    got = await _create(client, org, _schedule(rrule=rrule))
    assert got.status_code == 201, got.text


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "UTC+3", "europe/london"])
async def test_a_zone_that_is_no_place_is_refused(
    client: AsyncTestClient[Litestar], zone: str
) -> None:
    """`localtime` is the server's own zone (the waves would move with the host) and `Factory`
    tzdata's placeholder; both are files in the zone directory, so zoneinfo lists them."""
    org = await make_org(client)
    got = await _create(client, org, _schedule(timezone=zone))
    assert got.status_code == 422, got.text
    assert [e["pointer"] for e in got.json()["errors"]] == ["/schedule/timezone"]


@pytest.mark.parametrize("zone", ["EST5EDT", "Europe/Kyiv", "Europe/Kiev", "Etc/GMT-14"])
async def test_iana_names_old_and_new_are_taken(
    client: AsyncTestClient[Litestar], zone: str
) -> None:
    org = await make_org(client)
    got = await _create(client, org, _schedule(timezone=zone))
    assert got.status_code == 201, got.text


@pytest.mark.parametrize(
    "stored",
    [_schedule(rrule="FREQ=MONTHLY;BYMONTHDAY=0"), _schedule(timezone="localtime")],
)
def test_a_schedule_stored_before_the_checks_still_loads(stored: dict[str, Any]) -> None:
    """The new checks are the request's: a survey stored with such a schedule keeps working."""
    schedule = Schedule.model_validate(stored)
    assert wave_at(schedule, utc(2027, 2, 1, 12)) is not None


async def test_a_schedule_changed_mid_series_starts_no_earlier_than_the_last_wave_ends(
    client: AsyncTestClient[Litestar],
) -> None:
    """Monthly on the 31st in Amsterdam: March's wave (31 March, after the clocks went forward)
    has answers; a weekly schedule may start at its close, not a second before, and its first
    wave is number 3, from the first microsecond of the new schedule."""
    org = await make_org(client)
    monthly = {
        "rrule": "FREQ=MONTHLY;BYMONTHDAY=31",
        "starts_at": "2027-01-01T00:00:00+01:00",
        "timezone": "Europe/Amsterdam",
        "wave_duration": "P7D",
    }
    await make_survey(client, org, schedule=monthly)
    opens, closes = utc(2027, 3, 30, 22), utc(2027, 4, 6, 22)  # 31 March and 7 April, 00:00 CEST
    with clock_reading(client, opens):
        first = await submit(client, org, submission())
    assert first.status_code == 201 and first.json()["wave"] == 2, first.text

    def weekly(starts_at: str) -> dict[str, Any]:
        return {"schedule": {**monthly, "rrule": "FREQ=WEEKLY", "starts_at": starts_at}}

    with clock_reading(client, utc(2027, 4, 1)):
        early = await client.patch(
            "/api/v1/surveys/pulse",
            json=weekly("2027-04-06T21:59:59Z"),
            headers=org.auth("campaigner"),
        )
        assert early.status_code == 422, early.text
        [error] = early.json()["errors"]
        assert error == {
            "pointer": "/schedule/starts_at",
            "message": "must not be before the end of wave 2 (2027-04-06T22:00:00Z)",
        }
        changed = await client.patch(
            "/api/v1/surveys/pulse",
            json=weekly("2027-04-07T00:00:00+02:00"),
            headers=org.auth("campaigner"),
        )
        assert changed.status_code == 200, changed.text

    with clock_reading(client, closes - US):
        assert (await submit(client, org, submission())).json()["wave"] == 2
    with clock_reading(client, closes):
        assert (await submit(client, org, submission())).json()["wave"] == 3
        listed = await _waves(client, org, closes)
    assert [(w["number"], w["label"], w["status"]) for w in listed if 2 <= w["number"] <= 4] == [
        (2, "2027-03", "closed"),
        (3, "2027-W14", "open"),
        (4, "2027-W15", "upcoming"),
    ]


async def test_a_wave_whose_next_would_open_after_the_year_9999_in_utc(
    client: AsyncTestClient[Litestar],
) -> None:
    """Every 7800 years at 20:00 in Pago Pago (-11:00): the first wave opens on 31 December
    2199, the second would on 31 December 9999 at 20:00, which is 10000-01-01 07:00 UTC, no
    instant at all. The first wave, its form and its list must not fail on it."""
    org = await make_org(client)
    schedule = {
        "rrule": "FREQ=YEARLY;INTERVAL=7800;BYHOUR=20",
        "starts_at": "2199-12-31T12:00:00-11:00",
        "timezone": "Pacific/Pago_Pago",
    }
    await make_survey(client, org, schedule=schedule)
    opens = utc(2200, 1, 1, 7)
    with clock_reading(client, opens):
        got = await submit(client, org, submission())
        form = await client.get(f"/api/v1/public/{org.slug}/pulse/form")
    assert got.status_code == 201, got.text
    assert got.json()["wave"] == 1
    assert form.status_code == 200, form.text
    # Without a duration it closes at the next opening, which no instant can be: never.
    assert form.json()["wave"]["closes_at"] is None
    listed = await _waves(client, org, opens)
    assert [(w["number"], w["label"], w["status"]) for w in listed] == [(1, "2199", "open")]
    with clock_reading(client, utc(2999, 12, 31)):
        later = await client.get("/api/v1/surveys/pulse", headers=org.auth("analyst"))
    assert later.status_code == 200, later.text
    assert later.json()["next_opens_at"] is None
