"""The plain-language sentence of a finding, in each of a survey's locales.

"“I trust the organisation to act on my views”: the average answer rose from 2.8 to 3.2 out of
5 between March 2026 and June 2026." A sentence names the question by its label in that
locale, the option for a share, the two estimates (numbers, percentages and month names as
the locale writes them, through Babel) and the waves: by month or year when the wave's label
is one (`2026-03`, `2026`), otherwise by the local date the wave opened ("the wave of
3 March 2026"), which reads sensibly for weekly, daily and irregular waves alike.

Texts exist for the languages the hosted form speaks (feedback.api.form_strings: en, nl, de,
fr, es, hi); a locale of another language gets the English sentence, numbers and dates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import lru_cache
from typing import Literal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton
from babel.numbers import NumberPattern, parse_pattern

from feedback.analysis.number_text import steady
from feedback.analysis.results import Metric
from feedback.surveys.definition import label_text

Direction = Literal["increasing", "decreasing"]
LocalisedText = str | dict[str, str]

_MONTH_LABEL = re.compile(r"(\d{4})-(\d{2})")
_YEAR_LABEL = re.compile(r"\d{4}")


@dataclass(frozen=True, slots=True)
class Period:
    """A wave as a sentence names it: its label, when it opened and the schedule's zone."""

    label: str
    opens_at: datetime
    zone: tzinfo


@dataclass(frozen=True, slots=True)
class Subject:
    """What moved: a question (its label in every locale), the option for a share metric, and
    the scale for a mean of scale points (`out of 5`)."""

    label: LocalisedText
    metric: Metric
    option: LocalisedText | None = None
    scale: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class ChangeFacts:
    subject: Subject
    direction: Direction
    from_period: Period
    to_period: Period
    from_value: float
    to_value: float


@dataclass(frozen=True, slots=True)
class TrendFacts:
    subject: Subject
    direction: Direction
    since: Period
    waves: int
    first_value: float
    last_value: float


@dataclass(frozen=True, slots=True)
class SteadyFacts:
    """A change between two waves too small to tell from chance (not significant)."""

    subject: Subject
    from_period: Period
    to_period: Period
    from_value: float
    to_value: float


@dataclass(frozen=True, slots=True)
class FlatFacts:
    """A series without a clear rise or fall (its trend test found none)."""

    subject: Subject
    since: Period
    waves: int
    first_value: float
    last_value: float


Facts = ChangeFacts | TrendFacts | SteadyFacts | FlatFacts


@dataclass(frozen=True, slots=True)
class _Texts:
    quotes: tuple[str, str]
    mean: str
    nps: str
    share: str  # with {option}
    rose: str
    fell: str
    rising: str
    falling: str
    change: str  # {label} {what} {verb} {a} {b} {scale} {p1} {p2}
    trend: str  # {label} {what} {verb} {since} {waves} {a} {b} {scale}
    scale: str  # {min} {max}
    wave_of: str  # {date}
    steady: str  # {label} {what} {a} {b} {scale} {p1} {p2}
    flat: str  # {label} {what} {since} {waves} {a} {b} {scale}


TEXTS: dict[str, _Texts] = {
    "en": _Texts(
        quotes=("“", "”"),
        mean="the average answer",
        nps="the Net Promoter Score",
        share="the share choosing {option}",
        rose="rose",
        fell="fell",
        rising="has been rising",
        falling="has been falling",
        change="{label}: {what} {verb} from {a} to {b}{scale} between {p1} and {p2}.",
        trend="{label}: {what} {verb} since {since} ({waves} waves), from {a} to {b}{scale}.",
        scale=" out of {max}",
        wave_of="the wave of {date}",
        steady=(
            "{label}: {what} went from {a} to {b}{scale} between {p1} and {p2}, a "
            "difference too small to tell from chance."
        ),
        flat=(
            "{label}: {what} shows no clear rise or fall over {waves} waves since "
            "{since} (from {a} to {b}{scale}); the ups and downs are within chance."
        ),
    ),
    "nl": _Texts(
        quotes=("‘", "’"),
        mean="het gemiddelde antwoord",
        nps="de Net Promoter Score",
        share="het aandeel dat {option} kiest",
        rose="steeg",
        fell="daalde",
        rising="stijgt",
        falling="daalt",
        change="{label}: {what} {verb} van {a} naar {b}{scale} tussen {p1} en {p2}.",
        trend="{label}: {what} {verb} sinds {since} ({waves} rondes), van {a} naar {b}{scale}.",
        scale=" op een schaal van {min} tot {max}",
        wave_of="de ronde van {date}",
        steady=(
            "{label}: {what} ging van {a} naar {b}{scale} tussen {p1} en {p2}, een "
            "verschil te klein om van toeval te onderscheiden."
        ),
        flat=(
            "{label}: {what} stijgt of daalt niet duidelijk over {waves} rondes "
            "sinds {since} (van {a} naar {b}{scale}); de schommelingen passen bij "
            "toeval."
        ),
    ),
    "de": _Texts(
        quotes=("„", "“"),
        mean="die durchschnittliche Antwort",
        nps="der Net Promoter Score",
        share="der Anteil der Antworten mit {option}",
        rose="stieg",
        fell="sank",
        rising="steigt",
        falling="sinkt",
        change="{label}: {what} {verb} zwischen {p1} und {p2} von {a} auf {b}{scale}.",
        trend="{label}: {what} {verb} seit {since} ({waves} Wellen), von {a} auf {b}{scale}.",
        scale=" (Skala {min} bis {max})",
        wave_of="der Welle vom {date}",
        steady=(
            "{label}: {what} ging zwischen {p1} und {p2} von {a} auf {b}{scale}, "
            "ein Unterschied, der zu klein ist, um ihn vom Zufall zu unterscheiden."
        ),
        flat=(
            "{label}: {what} steigt oder sinkt über {waves} Wellen seit {since} "
            "nicht erkennbar (von {a} auf {b}{scale}); die Schwankungen liegen im "
            "Rahmen des Zufalls."
        ),
    ),
    "fr": _Texts(
        quotes=("« ", " »"),
        mean="la réponse moyenne",
        nps="le Net Promoter Score",
        share="la part choisissant {option}",
        rose="a augmenté",
        fell="a baissé",
        rising="augmente",
        falling="baisse",
        change="{label} : {what} {verb} de {a} à {b}{scale} entre {p1} et {p2}.",
        trend="{label} : {what} {verb} depuis {since} ({waves} vagues), de {a} à {b}{scale}.",
        scale=" sur une échelle de {min} à {max}",
        wave_of="la vague du {date}",
        steady=(
            "{label} : {what} est passée de {a} à {b}{scale} entre {p1} et {p2}, un "
            "écart trop faible pour le distinguer du hasard."
        ),
        flat=(
            "{label} : {what} ne monte ni ne baisse nettement sur {waves} vagues "
            "depuis {since} (de {a} à {b}{scale}) ; les variations restent dans les "
            "limites du hasard."
        ),
    ),
    "es": _Texts(
        quotes=("«", "»"),
        mean="la respuesta media",
        nps="el Net Promoter Score",
        share="la proporción que elige {option}",
        rose="subió",
        fell="bajó",
        rising="sube",
        falling="baja",
        change="{label}: {what} {verb} de {a} a {b}{scale} entre {p1} y {p2}.",
        trend="{label}: {what} {verb} desde {since} ({waves} oleadas), de {a} a {b}{scale}.",
        scale=" en una escala de {min} a {max}",
        wave_of="la oleada del {date}",
        steady=(
            "{label}: {what} pasó de {a} a {b}{scale} entre {p1} y {p2}, una "
            "diferencia demasiado pequeña para distinguirla del azar."
        ),
        flat=(
            "{label}: {what} no sube ni baja claramente en {waves} oleadas desde "
            "{since} (de {a} a {b}{scale}); las subidas y bajadas caben en el azar."
        ),
    ),
    "hi": _Texts(
        quotes=("“", "”"),
        mean="औसत उत्तर",
        nps="नेट प्रमोटर स्कोर",
        share="{option} चुनने वालों का हिस्सा",
        rose="बढ़ा",
        fell="घटा",
        rising="बढ़ रहा है",
        falling="घट रहा है",
        change="{label}: {p1} और {p2} के बीच {what} {a} से {b} तक {verb}{scale}।",
        trend="{label}: {since} से {what} {verb} ({waves} चरण), {a} से {b} तक{scale}।",
        scale=" ({min} से {max} के पैमाने पर)",
        wave_of="{date} का चरण",
        steady=(
            "{label}: {p1} और {p2} के बीच {what} {a} से {b} हुआ{scale}, यह अंतर "
            "संयोग से अलग बताने के लिए बहुत छोटा है।"
        ),
        flat=(
            "{label}: {since} से {waves} चरणों में {what} में कोई स्पष्ट बढ़त या "
            "गिरावट नहीं ({a} से {b}{scale}); उतार-चढ़ाव संयोग की सीमा में हैं।"
        ),
    ),
}
FALLBACK = "en"


def sentences(facts: Facts, locales: Sequence[str], default_locale: str) -> dict[str, str]:
    """The finding's sentence in each locale (keys as the survey spells them)."""
    return {locale: sentence(facts, locale, default_locale) for locale in locales}


def sentence(facts: Facts, locale: str, default_locale: str, *, named: bool = True) -> str:
    """The sentence of `facts`; without `named`, without the question's label in front (a
    chart says it in its title)."""
    text = _sentence(facts, locale, default_locale, named=named)
    if named:
        return text
    text = text.lstrip(" :")
    return text[:1].upper() + text[1:]


def _sentence(facts: Facts, locale: str, default_locale: str, *, named: bool) -> str:
    texts, babel_locale = _language(locale)
    subject = facts.subject
    open_quote, close_quote = texts.quotes
    label = ""
    if named:
        label = open_quote + label_text(subject.label, locale, default_locale) + close_quote
    what = {"mean": texts.mean, "nps": texts.nps, "share": texts.share}[subject.metric]
    if subject.option is not None:
        what = what.format(option=label_text(subject.option, locale, default_locale))
    scale = ""
    if subject.metric == "mean" and subject.scale is not None:
        scale = texts.scale.format(min=subject.scale[0], max=subject.scale[1])
    if isinstance(facts, SteadyFacts):
        a, b = _values(subject.metric, facts.from_value, facts.to_value, babel_locale)
        return texts.steady.format(
            label=label,
            what=what,
            a=a,
            b=b,
            scale=scale,
            p1=_period(facts.from_period, texts, babel_locale),
            p2=_period(facts.to_period, texts, babel_locale),
        )
    if isinstance(facts, FlatFacts):
        a, b = _values(subject.metric, facts.first_value, facts.last_value, babel_locale)
        return texts.flat.format(
            label=label,
            what=what,
            since=_period(facts.since, texts, babel_locale),
            waves=facts.waves,
            a=a,
            b=b,
            scale=scale,
        )
    if isinstance(facts, ChangeFacts):
        a, b = _values(subject.metric, facts.from_value, facts.to_value, babel_locale)
        return texts.change.format(
            label=label,
            what=what,
            verb=texts.rose if facts.direction == "increasing" else texts.fell,
            a=a,
            b=b,
            scale=scale,
            p1=_period(facts.from_period, texts, babel_locale),
            p2=_period(facts.to_period, texts, babel_locale),
        )
    a, b = _values(subject.metric, facts.first_value, facts.last_value, babel_locale)
    return texts.trend.format(
        label=label,
        what=what,
        verb=texts.rising if facts.direction == "increasing" else texts.falling,
        since=_period(facts.since, texts, babel_locale),
        waves=facts.waves,
        a=a,
        b=b,
        scale=scale,
    )


# A split trends answer says some thousands of sentences over a few dozen locales, waves and
# patterns: parsing a locale, a number pattern or a month's name anew for each was most of its
# time (BENCHMARKS.md, "Trends rollups"). Each of these is a pure function of its arguments.
@lru_cache(maxsize=64)
def _language(locale: str) -> tuple[_Texts, Locale]:
    """The texts and Babel locale for a BCP 47 tag; English for a language without texts."""
    language = locale.split("-", 1)[0].lower()
    if language not in TEXTS:
        return TEXTS[FALLBACK], Locale.parse(FALLBACK)
    try:
        return TEXTS[language], Locale.parse(locale, sep="-")
    except (UnknownLocaleError, ValueError):
        return TEXTS[language], Locale.parse(language)


def _values(metric: Metric, first: float, second: float, locale: Locale) -> tuple[str, str]:
    """Both estimates as the locale writes them, with one more digit when the usual precision
    would show a real difference as none ("from 2.8 to 2.8")."""
    for digits in (0, 1, 2):
        a, b = (_number(metric, v, digits, locale) for v in (first, second))
        if a != b:
            break
    return a, b


def _number(metric: Metric, value: float, extra_digits: int, locale: Locale) -> str:
    # -0.0 equals 0.0 as a key but is written "-0 %": the sign is part of the key.
    return _formatted(metric, value, math.copysign(1.0, value), extra_digits, locale)


@lru_cache(maxsize=8192)
def _formatted(metric: Metric, value: float, sign: float, extra_digits: int, locale: Locale) -> str:
    # Cached: a wave's estimate ends one change's sentence and begins the next one's.
    value = steady(value)  # the same figure, kept or counted afresh, reads the same
    zero = metric == "nps" and round(value, extra_digits) == 0
    text: str = _pattern(metric, extra_digits, zero, locale).apply(0 if zero else value, locale)
    return text


@lru_cache(maxsize=256)
def _pattern(metric: Metric, extra_digits: int, zero: bool, locale: Locale) -> NumberPattern:
    """The pattern `_number` formats with, parsed once (as `format_percent` and
    `format_decimal` would parse it on every call)."""
    fraction = "." + "0" * extra_digits if extra_digits else ""
    if metric == "share":
        # The locale's own pattern (`25 %` in French), with the digits asked for.
        pattern = locale.percent_formats[None].pattern.split(";")[0]
        last = pattern.rfind("0") + 1
        return parse_pattern(pattern[:last] + fraction + pattern[last:])
    if metric == "nps":
        # An NPS that rounds to zero is written without a sign.
        return parse_pattern(f"#,##0{fraction}" if zero else f"+#,##0{fraction};-#,##0{fraction}")
    return parse_pattern(f"#,##0.0{'0' * extra_digits}")


@lru_cache(maxsize=1024)
def _period(period: Period, texts: _Texts, locale: Locale) -> str:
    month = _MONTH_LABEL.fullmatch(period.label)
    if month and 1 <= int(month.group(2)) <= 12:
        return format_skeleton(
            "yMMMM", date(int(month.group(1)), int(month.group(2)), 1), locale=locale
        )
    if _YEAR_LABEL.fullmatch(period.label):
        return period.label
    opened = period.opens_at.astimezone(period.zone).date()
    return texts.wave_of.format(date=format_date(opened, "long", locale=locale))
