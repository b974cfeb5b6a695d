"""The BCP 47 code of an XLSForm language column (`label::English (en)`, `label::French`).

XLSForm asks for `Name (code)`, but forms from the field often give the name alone. Names are
looked up in the CLDR's English language names (through Babel), so `French` is `fr`, `Arabic`
`ar` and `Dari` `fa-AF`, then in each language's name for itself (`Deutsch`, `Español`); a code
in parentheses always wins.
"""

from __future__ import annotations

import re
from functools import cache

from babel import Locale, UnknownLocaleError, localedata

_CODE_IN_PARENTHESES = re.compile(r"\(\s*([A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*)\s*\)\s*$")


@cache
def _codes_by_name() -> dict[str, str]:
    names = Locale("en").languages
    return {name.casefold(): code.replace("_", "-") for code, name in names.items()}


@cache
def _codes_by_own_name() -> dict[str, str]:
    # Reads the data of every language Babel has (about 3 s): only for a name not in English.
    out: dict[str, str] = {}
    for code in localedata.locale_identifiers():
        if "_" in code:
            continue
        try:
            name = Locale.parse(code).get_language_name(code)
        except (UnknownLocaleError, ValueError):
            continue
        if name:
            out.setdefault(name.casefold(), code)
    return out


def language_code(language: str) -> str | None:
    """`English (en)` → `en`; `French` → `fr`; `Deutsch` → `de`; a name the CLDR does not
    know → None."""
    match = _CODE_IN_PARENTHESES.search(language)
    if match:
        return match.group(1).replace("_", "-")
    name = " ".join(language.split()).casefold()
    return _codes_by_name().get(name) or _codes_by_own_name().get(name)
