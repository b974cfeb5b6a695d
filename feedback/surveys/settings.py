"""A survey's settings and its wave schedule, as campaigners send them.

`parse_settings` and `parse_schedule` are the doors for request bodies: they raise `Invalid` with
every problem at its JSON pointer. The models alone check field shapes, so stored values load with
`model_validate`. Wave arithmetic on a `Schedule` lives in `feedback.surveys.schedule`.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from urllib.parse import urlsplit, urlunsplit

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule as Recurrence
from dateutil.rrule import rrulestr
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic import AwareDatetime as _AwareDatetime
from pydantic_core import PydanticCustomError

from feedback.errors import FieldError, Invalid, pointer
from feedback.surveys.definition import (
    DateQuestion,
    Definition,
    Key,
    Label,
    Question,
    TextQuestion,
    label_errors,
    pydantic_field_errors,
)
from feedback.validation import in_range

LOCALE_PATTERN = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8}){0,4}")
DEFAULT_MIN_N = 5
MAX_PUBLIC_QUESTIONS = 200
SUPPORTED_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
# A first wave further away than this is a typo, and bounding the search keeps validation cheap.
FIRST_WAVE_HORIZON_YEARS = 10
EARLIEST_START = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_START = datetime(2200, 1, 1, tzinfo=UTC)
MAX_DURATION = timedelta(days=366 * 100)


def _check_locale(value: str) -> str:
    if not LOCALE_PATTERN.fullmatch(value):
        raise PydanticCustomError(
            "locale_syntax", "must be a BCP 47 language tag such as en, hi or pt-BR"
        )
    return value


def _check_origin(value: str) -> str:
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise PydanticCustomError(
            "origin", "is not a valid origin: {error}", {"error": str(exc)}
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise PydanticCustomError("origin", "must start with https:// or http://")
    if parts.username is not None or parts.password is not None:
        raise PydanticCustomError("origin", "must not contain credentials")
    if parts.path not in {"", "/"} or parts.query or parts.fragment or text[-1] in "?#":
        raise PydanticCustomError(
            "origin",
            "must be an origin (scheme, host and port) without a path, e.g. https://example.org",
        )
    host = _ascii_host(parts.hostname or "")
    if host is None:
        raise PydanticCustomError("origin", "must name a valid host")
    default_port = {"http": 80, "https": 443}[scheme]
    suffix = f":{port}" if port is not None and port != default_port else ""
    return f"{scheme}://{host}{suffix}"


MAX_URL_CHARS = 2000


def _ascii_host(host: str) -> str | None:
    """A URL's host as a browser sends it: an IPv6 address in brackets, a name in its ASCII
    (IDNA) form; None if it is not a valid host name."""
    if ":" in host:
        return f"[{host}]"
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return host if re.fullmatch(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?", host) else None


def _check_https_url(value: str) -> str:
    # Shown to supporters as a link or an image, and its origin named in the hosted page's
    # Content-Security-Policy, a header: an https URL with a host, nothing a browser would read
    # another way. A host name outside ASCII is kept in its ASCII (IDNA) form, as browsers
    # request it (`例え.jp` is `xn--r8jz45g.jp`): a header cannot carry it otherwise. Stored
    # settings are read through this too, so one stored before is read that way.
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme != "https" or not parts.hostname:
        raise PydanticCustomError("https_url", "must be an https:// URL")
    if len(value) > MAX_URL_CHARS or any(c.isspace() or ord(c) < 32 for c in value):
        raise PydanticCustomError(
            "https_url", "must be at most 2000 characters without spaces or control characters"
        )
    if parts.username is not None or parts.password is not None:
        raise PydanticCustomError("https_url", "must not contain credentials")
    if parts.netloc.isascii():
        return value
    host = _ascii_host(parts.hostname)
    if host is None:
        raise PydanticCustomError("https_url", "must name a valid host")
    _, colon, port = parts.netloc.rpartition(":")
    return urlunsplit(parts._replace(netloc=host + (colon + port if colon else "")))


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Locale = Annotated[str, AfterValidator(_check_locale)]
"""A BCP 47-like language tag (`en`, `hi`, `pt-BR`); matched exactly against label maps."""
Origin = Annotated[str, AfterValidator(_check_origin)]
HttpsUrl = Annotated[str, AfterValidator(_check_https_url)]
"""A web origin, normalised to `scheme://host[:port]` as browsers send it in `Origin`."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SurveySettings(_Model):
    """Per-survey settings (docs/http-api.md `settings`). Origins and locales are de-duplicated."""

    allowed_origins: Annotated[list[Origin], AfterValidator(_unique)] = Field(
        default_factory=list, max_length=100
    )
    min_n: int = Field(default=DEFAULT_MIN_N, ge=1, le=1_000_000)
    allow_edits: bool = True
    # Which of a respondent's answers in one wave count (docs/statistics.md "Who counts"):
    # `latest` gives each respondent one voice per wave; anonymous responses always each count.
    count_per_respondent: Literal["latest", "all"] = "latest"
    locales: Annotated[list[Locale], AfterValidator(_unique)] = Field(
        default_factory=list, max_length=50
    )
    # The questions whose results the public results page shows (never text questions), in
    # the order it shows them. Checked against the survey's versions by
    # `public_question_errors`, which needs the definitions this model does not have.
    public_questions: list[Key] = Field(default_factory=list, max_length=MAX_PUBLIC_QUESTIONS)
    # What supporters see around the questions (docs/forms.md, "Who is asking"): texts
    # localised like labels (checked against the locales by `supporter_text_errors`).
    intro: Label | None = None
    thank_you: Label | None = None
    privacy_url: HttpsUrl | None = None
    logo_url: HttpsUrl | None = None

    def declared_locales(self, default_locale: str) -> tuple[str, ...]:
        """The locales labels must cover: the survey's default locale first, then the others."""
        return tuple(dict.fromkeys([default_locale, *self.locales]))


def parse_settings(data: object, *, at: str = "/settings") -> SurveySettings:
    """Validate settings from a request (None or absent: the defaults)."""
    if data is None:
        return SurveySettings()
    try:
        return SurveySettings.model_validate(data)
    except ValidationError as exc:
        raise Invalid(pydantic_field_errors(exc, at, data), "The settings are invalid.") from None


def locale_errors(
    settings: SurveySettings, default_locale: str, *, at: str = "/settings"
) -> list[FieldError]:
    """A locale that is another declared one in other case (`EN` beside `en`): tags are matched
    without regard to case, so labels would repeat it and no reader would ever be shown it."""
    first = {default_locale.lower(): default_locale}
    errors: list[FieldError] = []
    for index, locale in enumerate(settings.locales):
        known = first.setdefault(locale.lower(), locale)
        if known != locale:
            errors.append(
                FieldError(
                    at + pointer("locales", index), f"is the locale '{known}' written otherwise"
                )
            )
    return errors


def supporter_text_errors(
    settings: SurveySettings, default_locale: str, *, at: str = "/settings"
) -> list[FieldError]:
    """Problems with `intro` and `thank_you` given the survey's locales, as labels have them."""
    locales = settings.declared_locales(default_locale)
    errors: list[FieldError] = []
    for name, text in (("intro", settings.intro), ("thank_you", settings.thank_you)):
        if text is not None:
            errors += label_errors(text, at + pointer(name), locales)
    return errors


def public_question_errors(
    settings: SurveySettings, definitions: Sequence[Definition], *, at: str = "/settings"
) -> list[FieldError]:
    """Problems with `public_questions` given the survey's definitions, oldest first (the draft
    last): each key must be a question of one of them, listed once, and not a text question in
    the newest definition that asks it (free text is never public)."""
    newest: dict[str, Question] = {}
    for definition in definitions:
        newest.update(definition.questions_by_key)
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, key in enumerate(settings.public_questions):
        here = at + pointer("public_questions", index)
        question = newest.get(key)
        if question is None:
            errors.append(FieldError(here, f"'{key}' is not a question of this survey"))
        elif isinstance(question, TextQuestion):
            errors.append(
                FieldError(here, "is a text question: free-text answers are never public")
            )
        elif isinstance(question, DateQuestion):
            errors.append(FieldError(here, "is a date question: it has no results to publish"))
        elif key in seen:
            errors.append(FieldError(here, f"'{key}' is listed twice"))
        seen.add(key)
    return errors


@dataclass(frozen=True, slots=True)
class IsoDuration:
    """An ISO 8601 duration `PnYnMnWnDTnHnMnS` (integers only).

    Years, months, weeks and days are calendar amounts added to the local wall-clock time (a P1D
    wave opening at 09:00 closes at 09:00 the next day, whatever DST does); hours, minutes and
    seconds are elapsed time.
    """

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0

    _PATTERN = re.compile(
        r"P(?:(?P<years>\d{1,6})Y)?(?:(?P<months>\d{1,6})M)?(?:(?P<weeks>\d{1,6})W)?"
        r"(?:(?P<days>\d{1,6})D)?(?:T(?=\d)(?:(?P<hours>\d{1,6})H)?(?:(?P<minutes>\d{1,6})M)?"
        r"(?:(?P<seconds>\d{1,6})S)?)?"
    )

    @classmethod
    def parse(cls, text: str) -> IsoDuration:
        """Parse `text`; ValueError when it is not a positive duration of at most 100 years."""
        match = cls._PATTERN.fullmatch(text)
        if match is None or text in {"P", "PT"} or text.endswith("T"):
            raise ValueError("must be an ISO 8601 duration such as P14D, PT12H or P1M")
        duration = cls(**{k: int(v) for k, v in match.groupdict().items() if v is not None})
        approximate = duration.approximate()
        if approximate <= timedelta(0):
            raise ValueError("must be longer than zero")
        if approximate > MAX_DURATION:
            raise ValueError("must be at most 100 years")
        return duration

    def approximate(self) -> timedelta:
        """Length with 31-day months and 366-day years: an upper bound, for sanity checks."""
        return timedelta(
            days=self.years * 366 + self.months * 31 + self.weeks * 7 + self.days,
            hours=self.hours,
            minutes=self.minutes,
            seconds=self.seconds,
        )

    def after(self, local_start: datetime) -> datetime:
        """The UTC instant this duration after `local_start` (aware, in the schedule's zone)."""
        calendar = relativedelta(
            years=self.years, months=self.months, weeks=self.weeks, days=self.days
        )
        elapsed = timedelta(hours=self.hours, minutes=self.minutes, seconds=self.seconds)
        local_end: datetime = local_start + calendar
        return local_end.astimezone(UTC) + elapsed


def _check_duration(value: str) -> str:
    try:
        IsoDuration.parse(value)
    except ValueError as exc:
        raise PydanticCustomError("duration", str(exc)) from None
    return value


# Names the zone files hold that are no place's time: `localtime` is the server's own zone (a
# link to /etc/localtime, so the waves would move with the host), `Factory` a placeholder ("-00").
# Refused in requests (`parse_schedule`); a schedule stored before still loads.
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _check_timezone(value: str) -> str:
    if value not in _known_zones():
        raise PydanticCustomError(
            "timezone", "must be an IANA time zone name such as Europe/Amsterdam or UTC"
        )
    return value


def _rule_parts(text: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for part in text.split(";"):
        name, sep, value = part.partition("=")
        if not sep or not name or not value:
            raise ValueError(f"'{part}' is not NAME=VALUE")
        if "=" in value:  # dateutil would say "too many values to unpack"
            shown = part if len(part) <= 40 else part[:40] + "…"
            raise ValueError(f"'{shown}' is two parts: separate them with ';'")
        if name in parts:
            raise ValueError(f"{name} is given twice")
        parts[name] = value
    return parts


# RFC 5545's ranges of the numeric BY parts, sign aside (BYMONTH has none). dateutil takes a 0
# as no value at all: FREQ=MONTHLY;BYMONTHDAY=0 would open a wave every day.
_BY_RANGES = {
    "BYMONTH": (1, 12),
    "BYMONTHDAY": (1, 31),
    "BYYEARDAY": (1, 366),
    "BYWEEKNO": (1, 53),
    "BYSETPOS": (1, 366),
}


def _rule_range_problem(rule: str) -> str | None:
    """What RFC 5545 forbids in a rule that dateutil takes (checked in requests only, so a rule
    stored before still loads): a BY value out of its range, dateutil's own BYEASTER."""
    parts = _rule_parts(rule)
    if "BYEASTER" in parts:
        return "BYEASTER is not part of RFC 5545"
    for name, (low, high) in _BY_RANGES.items():
        for number in _numbers(parts.get(name, "")):
            if not low <= abs(number) <= high or (number < 0 and name == "BYMONTH"):
                return _range_text(name, low, high)
    return None


def _numbers(values: str) -> list[int]:
    """The integers of a comma-separated BY part; what is no integer is left to dateutil."""
    return [int(v) for v in values.split(",") if re.fullmatch(r"[+-]?\d{1,6}", v)]


def _range_text(name: str, low: int, high: int) -> str:
    if name == "BYMONTH":
        return f"{name} values must be from {low} to {high}"
    return f"{name} values must be from {low} to {high} or from -{high} to -{low}"


def _check_rrule(value: str) -> str:
    text = value.strip().upper()
    text = text.removeprefix("RRULE:")
    try:
        if any(c in text for c in "\r\n:"):
            raise ValueError(
                "must be one RRULE value such as FREQ=MONTHLY;BYMONTHDAY=1 "
                "(no DTSTART: starts_at anchors the rule)"
            )
        parts = _rule_parts(text)
        freq = parts.get("FREQ")
        if freq is None:
            raise ValueError("needs FREQ")
        if freq not in SUPPORTED_FREQUENCIES:
            raise ValueError(
                "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY (waves shorter than a day are "
                "not supported)"
            )
        for name in ("BYHOUR", "BYMINUTE", "BYSECOND"):
            if "," in parts.get(name, ""):
                raise ValueError(f"{name} may hold one value: at most one wave opens a day")
        if "COUNT" in parts and "UNTIL" in parts:
            raise ValueError("COUNT and UNTIL cannot both be given (RFC 5545)")
        # RFC 5545 makes both positive integers. dateutil takes INTERVAL=0 and then yields the
        # same instant forever (every walk of the waves would never end), and COUNT=0 opens no
        # wave at all, which the first-wave probe, blind to COUNT, would not see.
        for name in ("INTERVAL", "COUNT"):
            if name in parts and not re.fullmatch(r"0*[1-9]\d{0,5}", parts[name]):
                raise ValueError(f"{name} must be a whole number from 1 to 999999")
        if "UNTIL" in parts and not re.fullmatch(r"\d{8}T\d{6}Z", parts["UNTIL"]):
            raise ValueError("UNTIL must be a UTC date-time such as 20251231T000000Z")
        rrulestr(text, dtstart=datetime(2000, 1, 1, tzinfo=UTC))
    except (ValueError, TypeError) as exc:
        raise PydanticCustomError(
            "rrule", "is not a usable RFC 5545 rule: {error}", {"error": str(exc)}
        ) from None
    return text


def _check_instant(value: object) -> object:
    # Lax datetime parsing would also take Unix timestamps; the contract says RFC 3339 strings.
    if isinstance(value, str | datetime):
        return value
    raise PydanticCustomError("datetime_type", "must be an RFC 3339 date-time string")


def _whole_seconds(value: datetime) -> datetime:
    # dateutil drops microseconds from a rule's start; doing it here keeps wave 1 at starts_at.
    return value.replace(microsecond=0)


Instant = Annotated[
    _AwareDatetime,
    BeforeValidator(_check_instant),
    AfterValidator(in_range),
    AfterValidator(_whole_seconds),
    Field(strict=False),
]


class Schedule(_Model):
    """When waves open (docs/http-api.md `schedule`).

    Each occurrence of `rrule`, computed on the local wall clock of `timezone` from `starts_at`,
    opens a wave; the first wave is the first occurrence at or after `starts_at` (dateutil's
    reading of RFC 5545). A wave closes at the next occurrence, or `wave_duration` after it
    opened when that comes first. A rule that ends (COUNT or UNTIL) needs a `wave_duration`, so
    that its last wave closes.
    """

    rrule: Annotated[str, AfterValidator(_check_rrule)]
    starts_at: Instant
    timezone: Annotated[str, AfterValidator(_check_timezone)]
    wave_duration: Annotated[str, AfterValidator(_check_duration)] | None = None

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def duration(self) -> IsoDuration | None:
        return None if self.wave_duration is None else IsoDuration.parse(self.wave_duration)

    @property
    def frequency(self) -> str:
        return _rule_parts(self.rrule)["FREQ"]

    @property
    def ends(self) -> bool:
        """Whether the rule has a last occurrence (COUNT or UNTIL)."""
        parts = _rule_parts(self.rrule)
        return "COUNT" in parts or "UNTIL" in parts

    def recurrence(self) -> Recurrence:
        """The dateutil rule. Its occurrences are aware datetimes in `zone` on the wall clock
        (fold=0: an ambiguous time is its first instant, a skipped one uses the offset from
        before the gap, as RFC 5545 says)."""
        rule = rrulestr(self.rrule, dtstart=self.starts_at.astimezone(self.zone))
        # A single RRULE is all `_check_rrule` admits, so dateutil never builds a set here.
        assert isinstance(rule, Recurrence)
        return rule


def parse_schedule(data: object, *, at: str = "/schedule") -> Schedule | None:
    """Validate a schedule from a request; None means one always-open wave."""
    if data is None:
        return None
    try:
        schedule = Schedule.model_validate(data)
    except ValidationError as exc:
        raise Invalid(pydantic_field_errors(exc, at, data), "The schedule is invalid.") from None
    errors: list[FieldError] = []
    if schedule.timezone in _NOT_PLACES:
        errors.append(
            FieldError(
                at + pointer("timezone"),
                "must be an IANA time zone name such as Europe/Amsterdam or UTC",
            )
        )
    out_of_range = _rule_range_problem(schedule.rrule)
    if out_of_range is not None:
        errors.append(
            FieldError(at + pointer("rrule"), f"is not a usable RFC 5545 rule: {out_of_range}")
        )
    if not EARLIEST_START <= schedule.starts_at < LATEST_START:
        errors.append(FieldError(at + pointer("starts_at"), "must be from 1970 to 2199"))
    elif out_of_range is None and (problem := _first_wave_problem(schedule)) is not None:
        errors.append(FieldError(at + pointer("rrule"), problem))
    if schedule.ends and schedule.wave_duration is None:
        errors.append(
            FieldError(
                at + pointer("wave_duration"),
                "is required when the rule ends (COUNT or UNTIL), so that the last wave closes",
            )
        )
    if errors:
        raise Invalid(errors, "The schedule is invalid.")
    return schedule


def _first_wave_problem(schedule: Schedule) -> str | None:
    """Why the rule opens no wave within the horizon, or None when it does.

    A rule whose parts contradict each other (BYMONTHDAY=30;BYMONTH=2) makes dateutil search to
    the year 9999, which takes seconds. The Gregorian calendar repeats every 400 years, exactly
    and to the weekday, so the same rule started a multiple of 400 years later has the same
    occurrences shifted by as much: probing that copy close to the year 9999 bounds the search
    at a few hundred years.
    """
    local = schedule.starts_at.astimezone(schedule.zone).replace(tzinfo=None)
    cycles = (9999 - FIRST_WAVE_HORIZON_YEARS - local.year) // 400
    shifted = local.replace(year=local.year + 400 * cycles)
    unbounded = ";".join(
        f"{name}={value}"
        for name, value in _rule_parts(schedule.rrule).items()
        if name not in {"COUNT", "UNTIL"}
    )
    first: datetime | None = next(iter(rrulestr(unbounded, dtstart=shifted)), None)
    horizon = shifted + relativedelta(years=FIRST_WAVE_HORIZON_YEARS)
    if first is None or first > horizon:
        return f"opens no wave in the {FIRST_WAVE_HORIZON_YEARS} years from starts_at"
    until = _rule_parts(schedule.rrule).get("UNTIL")
    if until is not None:
        real_first = first.replace(year=first.year - 400 * cycles)
        limit = datetime.strptime(until, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if real_first.replace(tzinfo=schedule.zone) > limit:
            return "UNTIL is before the first wave would open"
    return None
