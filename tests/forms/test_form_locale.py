"""Choosing the language of a form, and the forms' own strings."""

from __future__ import annotations

import re

from feedback.api.form_strings import STRINGS, accepted_languages, negotiate_locale, strings_for


def test_accept_language_is_ranked_by_quality_then_order() -> None:
    assert accepted_languages("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5") == [
        "fr-CH",
        "fr",
        "en",
        "de",
    ]
    assert accepted_languages("de;q=0.2, nl, en;q=0.9") == ["nl", "en", "de"]
    assert accepted_languages("nl;q=0, en") == ["en"]
    assert accepted_languages(None) == []
    # Lenient with malformed items: a tag without a readable quality counts as wanted.
    assert accepted_languages("garbage;;;, ;q=x, en;q=abc") == ["garbage", "en"]


def test_query_then_browser_then_default() -> None:
    locales = ["en", "nl", "pt-BR"]
    assert negotiate_locale("nl", "pt", locales, "en") == "nl"
    assert negotiate_locale("NL-be", None, locales, "en") == "nl"
    assert negotiate_locale("xx", "pt-PT, nl;q=0.5", locales, "en") == "pt-BR"
    assert negotiate_locale(None, "de, fr", locales, "en") == "en"
    assert negotiate_locale(None, None, [], "hi") == "hi"


def test_every_language_has_every_string_with_the_same_placeholders() -> None:
    english = STRINGS["en"]
    for locale in ("en", "nl", "de", "fr", "es", "hi"):
        texts = STRINGS[locale]
        assert texts.keys() == english.keys(), locale
        for key, text in texts.items():
            assert text.strip(), (locale, key)
            assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", english[key]))


def test_strings_fall_back_by_language_then_to_english() -> None:
    assert strings_for("de-AT")["submit"] == "Absenden"
    assert strings_for("sw")["submit"] == "Submit"
