"""The gettext catalogues: one per language the forms speak, each complete, and every message the
code asks for is in every one of them (no supporter ever reads an untranslated string)."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from feedback.translations import LOCALE_DIR, catalogue_for, catalogues, translate

PACKAGE = Path(__file__).resolve().parents[1] / "feedback"
# The languages the forms spoke before the catalogues, and must keep speaking.
LANGUAGES = ("en", "nl", "de", "fr", "es", "hi")
_PLACEHOLDER = re.compile(r"\{\w+\}")


@functools.cache
def _code_msgids() -> set[str]:
    """Every `translate(locale, "…")` message in the package, as Babel extracts it."""
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for _, message, _, _ in extract_from_file(
            "python", str(path), keywords={"translate": (2,)}
        ):
            assert isinstance(message, str)
            found.add(message)
    return found


def _used_names() -> set[str]:
    """Every named UI string the templates, embed.js and the handlers use."""
    names: set[str] = set()
    for path in (PACKAGE / "api" / "templates").glob("*.html"):
        names |= set(re.findall(r"\bt\.([a-z_]+)\b", path.read_text()))
    names |= set(re.findall(r"\bt\.([a-z_]+)\b", (PACKAGE / "api/static/embed.js").read_text()))
    for path in (PACKAGE / "api").glob("*.py"):
        names |= set(re.findall(r"strings\[\"([a-z_]+)\"\]", path.read_text()))
    return names


def test_one_po_file_per_language() -> None:
    files = sorted(p.parents[1].name for p in LOCALE_DIR.glob("*/LC_MESSAGES/feedback.po"))
    assert set(LANGUAGES) <= set(files)
    assert list(catalogues()) == ["en", *sorted(set(files) - {"en"})]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_with_the_same_placeholders(language: str) -> None:
    path = LOCALE_DIR / language / "LC_MESSAGES" / "feedback.po"
    with path.open("rb") as file:
        catalog = read_po(file)
    entries = {(m.context, m.id): m.string for m in catalog if m.id}
    with (LOCALE_DIR / "en" / "LC_MESSAGES" / "feedback.po").open("rb") as file:
        english = {(m.context, m.id) for m in read_po(file) if m.id}
    assert entries.keys() == english
    for (context, msgid), text in entries.items():
        assert isinstance(text, str) and text.strip(), (language, context, msgid)
        assert set(_PLACEHOLDER.findall(text)) == set(_PLACEHOLDER.findall(str(msgid)))
        assert not [m for m in catalog if m.fuzzy and m.id], "a fuzzy entry is not shown"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_the_code_uses_is_in_the_catalogue(language: str) -> None:
    used = _code_msgids()
    assert "is required" in used  # the extraction sees the validators
    catalogue = catalogue_for(language)
    assert used - catalogue.messages.keys() == set()
    names = _used_names()
    assert {"submit", "queued", "error_summary"} <= names
    assert names - catalogue.named.keys() == set()


def test_messages_are_filled_in_the_language_asked_for() -> None:
    assert translate("es", "is required") == "es obligatoria"
    assert translate("es-MX", "must be at most {n} characters", n=5) == (
        "debe tener como máximo 5 caracteres"
    )
    assert translate("sw", "is required") == "is required"
    assert translate(None, "must be a string") == "must be a string"
