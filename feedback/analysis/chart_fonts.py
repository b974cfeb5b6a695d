"""The fonts charts are drawn in: DejaVu Sans, and glyph by glyph the fonts for the scripts it
lacks, when the system has them.

DejaVu Sans ships with matplotlib and covers the Latin, Greek, Cyrillic, Arabic and Hebrew
alphabets; it has no Chinese, Japanese, Korean or Devanagari. A chart names a list of families
and matplotlib (3.6 and later) takes each glyph from the first family that has it, so Latin text
is drawn exactly as with DejaVu Sans alone and a Chinese label from Noto Sans CJK. matplotlib
(3.11 and later) also shapes and orders text with libraqm: Arabic letters join, right-to-left
runs read right to left, Devanagari conjuncts form, given a font with the glyphs.

The fallback fonts are Debian packages (`FALLBACKS`, with what each is for). matplotlib keeps
the list of the system's fonts in a cache (fontlist-*.json under MPLCONFIGDIR, by default
~/.cache/matplotlib) built the first time it ran and never refreshed, so a font installed after
that is not in it: `available` looks for each missing one among the system's font files and
registers it. A family that is not installed stays out of the list (matplotlib would log a
warning for it on every chart); its text is drawn as empty boxes, as it always was, and
`feedback doctor` names the package to install.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from matplotlib import font_manager
from matplotlib.font_manager import FontManager

LATIN = "DejaVu Sans"  # ships with matplotlib, so every server draws Latin text the same


@dataclass(frozen=True, slots=True)
class Fallback:
    """A font drawing what DejaVu Sans cannot, from a Debian `package`: `families` are its
    faces (those installed, once `register` has looked), the first the default, and `files`
    the names of its files as the package installs them."""

    name: str
    scripts: str
    package: str
    families: tuple[str, ...]
    files: tuple[str, ...]

    def face(self, text: str) -> str:
        """The face to draw `text` in."""
        return self.families[0]


@dataclass(frozen=True, slots=True)
class CjkFallback(Fallback):
    """Noto Sans CJK: one set of glyphs per region (the same character is drawn a little
    differently in China, Taiwan, Japan and Korea), each a face of the font's collection."""

    def face(self, text: str) -> str:
        """Japanese forms for a text with kana, Korean for one with Hangul; for Chinese the
        simplified forms unless the text uses the traditional forms of common characters. A
        matplotlib that reads only the first face of a collection has the Japanese one only."""
        if any(_is_kana(c) for c in text):
            wanted = "Noto Sans CJK JP"
        elif any(_is_hangul(c) for c in text):
            wanted = "Noto Sans CJK KR"
        elif sum(c in TRADITIONAL_ONLY for c in text) > sum(c in SIMPLIFIED_ONLY for c in text):
            wanted = "Noto Sans CJK TC"
        else:
            wanted = "Noto Sans CJK SC"
        return wanted if wanted in self.families else self.families[0]


# Frequent characters written differently in simplified and traditional Chinese, pair by pair.
SIMPLIFIED_ONLY = frozenset("这个们来说对会为国时学与后还里么让点过动当从见现将经关体开长问题觉发")
TRADITIONAL_ONLY = frozenset("這個們來說對會為國時學與後還裡麼讓點過動當從見現將經關體開長問題覺發")

CJK = CjkFallback(
    name="Noto Sans CJK",
    scripts="Chinese, Japanese and Korean",
    package="fonts-noto-cjk",
    families=("Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Sans CJK JP", "Noto Sans CJK KR"),
    files=("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc"),
)
DEVANAGARI = Fallback(
    name="Annapurna SIL",
    scripts="Devanagari (Hindi, Marathi, Nepali)",
    package="fonts-sil-annapurna",
    families=("Annapurna SIL",),
    files=("AnnapurnaSIL-Regular.ttf", "AnnapurnaSIL-Bold.ttf"),
)
FALLBACKS = (CJK, DEVANAGARI)


def _is_kana(c: str) -> bool:
    return "\u3040" <= c <= "\u30ff" or "\u31f0" <= c <= "\u31ff" or "\uff66" <= c <= "\uff9f"


def _is_hangul(c: str) -> bool:
    return "\uac00" <= c <= "\ud7af" or "\u1100" <= c <= "\u11ff" or "\u3130" <= c <= "\u318f"


def installed(manager: FontManager, family: str) -> bool:
    """Whether `manager` knows `family` and its file is still there (a font removed since the
    cache was built would make matplotlib rebuild the cache on the next chart)."""
    return any(entry.name == family and Path(entry.fname).is_file() for entry in manager.ttflist)


def register(
    manager: FontManager,
    fallbacks: Sequence[Fallback] = FALLBACKS,
    system_fonts: Callable[[], Iterable[str]] = font_manager.findSystemFonts,
) -> list[Fallback]:
    """The fallbacks `manager` can draw with, each with the faces it has, after adding those
    installed but missing from its cache. The system's font directories are searched only when
    a font is missing (about 30 ms)."""
    missing = [f for f in fallbacks if not all(installed(manager, n) for n in f.families)]
    if missing:
        files = {Path(path).name: path for path in system_fonts()}
        for fallback in missing:
            for name in fallback.files:
                if name in files:
                    manager.addfont(files[name])
    found = []
    for fallback in fallbacks:
        faces = tuple(n for n in fallback.families if installed(manager, n))
        if faces:
            found.append(replace(fallback, families=faces))
    return found


_lock = threading.Lock()
_available: list[Fallback] | None = None


def available() -> list[Fallback]:
    """The fallbacks this process draws with, registered with matplotlib's font manager on
    first use (once, whichever thread draws the first chart)."""
    global _available
    with _lock:
        if _available is None:
            _available = register(font_manager.fontManager)
        return _available


def missing() -> list[Fallback]:
    """The fallbacks whose fonts are not installed: text in their scripts shows as boxes."""
    found = {f.package for f in available()}
    return [f for f in FALLBACKS if f.package not in found]


def families(text: str = "", fallbacks: Sequence[Fallback] | None = None) -> list[str]:
    """The families to draw `text` in, in order: DejaVu Sans, then each available fallback in
    the face suited to the text (Japanese forms for a text with kana, …)."""
    found = available() if fallbacks is None else fallbacks
    return [LATIN, *(f.face(text) for f in found)]
