"""The terms of a text answer (docs/statistics.md "Distinctive terms of text answers").

A term is a word or a pair of adjacent words. Words are the casefolded runs of three or more
Unicode letters, outside the stop words of the survey's languages. Two words make a pair when
nothing but spaces, hyphens or apostrophes lies between them in the answer, so a stop word, a
short word, a digit or punctuation ends a phrase. Pure: the stop lists are read by
`analysis.stopwords`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Letters only: `\w` without digits and the underscore. Texts are NFC-normalised first, so an
# accent typed as a combining mark is part of its letter, not a word boundary.
LETTER_RUN = re.compile(r"[^\W\d_]+")
# What may separate the two words of a pair.
JOINER = re.compile(r"[\s\-\u2010\u2011'\u2019]+")
MIN_LETTERS = 3


def normalised(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def words_of(text: str) -> list[str]:
    """Every word of three or more letters, casefolded (stop words included)."""
    return [w for w in LETTER_RUN.findall(normalised(text)) if len(w) >= MIN_LETTERS]


def terms_of(text: str, stop_words: frozenset[str]) -> frozenset[str]:
    """The distinct terms of one answer: its words and the pairs of adjacent words."""
    folded = normalised(text)
    terms: set[str] = set()
    previous: tuple[str, int] | None = None  # the last word kept, and where it ended
    for run in LETTER_RUN.finditer(folded):
        word = run.group()
        if len(word) < MIN_LETTERS or word in stop_words:
            previous = None
            continue
        terms.add(word)
        if previous is not None and JOINER.fullmatch(folded, previous[1], run.start()):
            terms.add(f"{previous[0]} {word}")
        previous = (word, run.end())
    return frozenset(terms)


def stop_list(lines: Iterable[str]) -> frozenset[str]:
    """A stop list file's words, through the same tokeniser as the answers (so "don't" stops
    "don"); lines starting with # are comments."""
    return frozenset(
        word for line in lines if not line.lstrip().startswith("#") for word in words_of(line)
    )
