"""Every text a supporter reads that is not the campaigner's, from one gettext catalogue per
language: `feedback/locale/<lang>/LC_MESSAGES/feedback.po`, the files translators' tools open.

Two kinds of entries live in a catalogue. The forms' own words (buttons, notices, page texts)
carry a `msgctxt` naming them (`submit`, `thank_you_body`), so templates and embed.js look them up
by that name; server messages (answer validation) have no context and are looked up by their
English `msgid`. `{name}` placeholders are filled by `str.format`.

The `.po` files are read with Babel once per process: no compile step, and the wheel carries
them as package data.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "feedback"
FALLBACK = "en"


@dataclass(frozen=True, slots=True)
class Catalogue:
    """One language's texts: named UI strings and server messages by their English msgid."""

    locale: str
    named: dict[str, str]
    messages: dict[str, str]


def _read(path: Path) -> Catalogue:
    with path.open("rb") as file:
        catalog = read_po(file, domain=DOMAIN)
    named: dict[str, str] = {}
    messages: dict[str, str] = {}
    for entry in catalog:
        if not entry.id or not isinstance(entry.id, str) or not isinstance(entry.string, str):
            continue  # the header, or a plural entry (none yet)
        # An untranslated entry falls back to its English msgid, as gettext does.
        text = entry.string or entry.id
        if entry.context:
            named[entry.context] = text
        else:
            messages[entry.id] = text
    return Catalogue(str(catalog.locale or path.parents[1].name), named, messages)


@functools.cache
def catalogues() -> dict[str, Catalogue]:
    """Every catalogue by language code, English first."""
    found = {
        path.parents[1].name: _read(path)
        for path in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    }
    if FALLBACK not in found:
        raise RuntimeError(f"no {FALLBACK} catalogue under {LOCALE_DIR}")
    return {FALLBACK: found.pop(FALLBACK), **found}


def catalogue_for(locale: str | None) -> Catalogue:
    """The catalogue of `locale` (`es-MX` finds `es`), else English."""
    known = catalogues()
    wanted = (locale or FALLBACK).lower()
    for code in (wanted, wanted.split("-", 1)[0]):
        if code in known:
            return known[code]
    return known[FALLBACK]


def translate(locale: str | None, message: str, **params: object) -> str:
    """The server message `message` (its English msgid) in `locale`'s language, filled in."""
    text = catalogue_for(locale).messages.get(message, message)
    return text.format(**params) if params else text
