"""The forms' own words (buttons, hints, errors, thank-you) in several languages, and the choice
of the language a supporter sees. The words come from the gettext catalogues
(`feedback.translations`); a language the forms speak is a language with a catalogue.

Survey texts come from the survey's definition in the survey's locales; these strings frame them.
The embed script receives the same table (`embed.py` writes it into the script), so the hosted
page and the embedded form speak alike. `{n}`, `{min}`, `{max}` and `{date}` are filled in by
whoever shows the string.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from feedback.surveys.definition import match_locale
from feedback.translations import FALLBACK as FALLBACK
from feedback.translations import catalogues

# The forms' words by language (`STRINGS["es"]["submit"]`), read from the gettext catalogues,
# and the month names of each, January first, for dates on the results page.
STRINGS: dict[str, dict[str, str]] = {
    code: {k: v for k, v in c.named.items() if not k.startswith("month_")}
    for code, c in catalogues().items()
}
MONTHS: dict[str, tuple[str, ...]] = {
    code: tuple(c.named[f"month_{m}"] for m in range(1, 13)) for code, c in catalogues().items()
}

# One language tag with an optional quality: `nl-BE`, `en;q=0.8`, `*;q=0.1`.
_ACCEPT_ITEM = re.compile(r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q=([0-9.]+))?")
_MAX_ACCEPT_ITEMS = 32


def strings_for(locale: str) -> dict[str, str]:
    """The UI strings for `locale` (or its language), else English."""
    found = match_locale(locale, STRINGS) or FALLBACK
    return STRINGS[found]


def words_lang(locale: str) -> str | None:
    """The language of the forms' own words on a page in `locale` when it is not the page's
    (English, around the questions of a survey in a language without a catalogue), so the page
    can mark them (WCAG 3.1.2: a screen reader reads "Submit" in English, not with an Arabic
    voice); None when the words are in the page's language."""
    return None if match_locale(locale, STRINGS) else FALLBACK


def accepted_languages(header: str | None) -> list[str]:
    """The tags of an Accept-Language header, most wanted first; `q=0` and `*` are dropped."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate((header or "").split(",")[:_MAX_ACCEPT_ITEMS]):
        match = _ACCEPT_ITEM.match(item)
        if match is None or match.group(1) == "*":
            continue
        try:
            quality = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
        if quality > 0:
            ranked.append((-quality, index, match.group(1)))
    return [tag for _, _, tag in sorted(ranked)]


def preferred_locales(requested: str | None, accept_language: str | None) -> list[str]:
    """The languages asked for, most wanted first: `?locale=`, then Accept-Language's."""
    return ([requested] if requested else []) + accepted_languages(accept_language)


def date_text(day: date, locale: str) -> str:
    """A date as people of `locale`'s language write it ("3 March 2025"), else in English."""
    found = match_locale(locale, STRINGS) or FALLBACK
    month = MONTHS[found][day.month - 1]
    return STRINGS[found]["date"].format(day=day.day, month=month, year=day.year)


def negotiate_locale(
    requested: str | None,
    accept_language: str | None,
    locales: Sequence[str],
    default_locale: str,
) -> str:
    """The survey locale to show: `?locale=` when the survey has it (or its language), then the
    browser's languages in order of preference, then the survey's default."""
    available = [default_locale, *locales]
    for wanted in preferred_locales(requested, accept_language):
        found = match_locale(wanted, available)
        if found is not None:
            return found
    return default_locale
