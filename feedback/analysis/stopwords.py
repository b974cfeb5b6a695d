"""The stop lists shipped with the package (feedback/analysis/stop_lists/<language>.txt), by the
language of a survey's locales."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources

from feedback.analysis.text_terms import stop_list

LANGUAGES = ("de", "en", "es", "fr", "pt")


@cache
def _language(language: str) -> frozenset[str]:
    if language not in LANGUAGES:
        return frozenset()
    text = resources.files("feedback.analysis").joinpath(f"stop_lists/{language}.txt")
    return stop_list(text.read_text(encoding="utf-8").splitlines())


def stop_words(locales: Iterable[str]) -> frozenset[str]:
    """The union of the stop lists of the locales' languages ("pt-BR" reads "pt"); a language
    without a list adds none."""
    out: frozenset[str] = frozenset()
    for locale in locales:
        out |= _language(locale.split("-")[0].split("_")[0].lower())
    return out
