"""Plain-language sentences of public results, in the languages the forms speak.

"3.4 out of 5 on average (312 answers)", "NPS +24 (312 answers)", "Climate 41%, Housing 33%
(312 answers)": the words around a figure and the way its number is written (decimal mark,
digit grouping, percent sign) come from one phrase table per language. A survey locale without a
table of its own gets English words around its own labels, as the form's UI strings do.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from feedback.surveys.definition import match_locale

FALLBACK = "en"

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "mean_scale": "{value} out of {max} on average ({answers})",
        "mean": "{value} on average ({answers})",
        "nps": "NPS {value} ({answers})",
        "shares": "{shares} ({answers})",
        "shares_multi": "{shares} ({answers}; more than one choice allowed)",
        "answers_one": "{n} answer",
        "answers_other": "{n} answers",
        "suppressed": "Not enough answers to show",
        "no_results": "No results to show yet.",
        "status_planned": "Planned",
        "status_in_progress": "In progress",
        "status_done": "Done",
        "status_dropped": "Dropped",
        "decimal": ".",
        "group": ",",
        "percent": "{value}%",
        "list": ", ",
    },
    "nl": {
        "mean_scale": "Gemiddeld {value} van de {max} ({answers})",
        "mean": "Gemiddeld {value} ({answers})",
        "nps": "NPS {value} ({answers})",
        "shares": "{shares} ({answers})",
        "shares_multi": "{shares} ({answers}; meer dan één keuze mogelijk)",
        "answers_one": "{n} antwoord",
        "answers_other": "{n} antwoorden",
        "suppressed": "Te weinig antwoorden om te tonen",
        "no_results": "Nog geen resultaten om te tonen.",
        "status_planned": "Gepland",
        "status_in_progress": "In uitvoering",
        "status_done": "Uitgevoerd",
        "status_dropped": "Niet doorgegaan",
        "decimal": ",",
        "group": ".",
        "percent": "{value}%",
        "list": ", ",
    },
    "de": {
        "mean_scale": "Im Durchschnitt {value} von {max} ({answers})",
        "mean": "Im Durchschnitt {value} ({answers})",
        "nps": "NPS {value} ({answers})",
        "shares": "{shares} ({answers})",
        "shares_multi": "{shares} ({answers}; Mehrfachauswahl möglich)",
        "answers_one": "{n} Antwort",
        "answers_other": "{n} Antworten",
        "suppressed": "Zu wenige Antworten, um sie zu zeigen",
        "no_results": "Noch keine Ergebnisse zu zeigen.",
        "status_planned": "Geplant",
        "status_in_progress": "In Arbeit",
        "status_done": "Umgesetzt",
        "status_dropped": "Verworfen",
        "decimal": ",",
        "group": ".",
        "percent": "{value}\u00a0%",
        "list": ", ",
    },
    "fr": {
        "mean_scale": "{value} sur {max} en moyenne ({answers})",
        "mean": "{value} en moyenne ({answers})",
        "nps": "NPS {value} ({answers})",
        "shares": "{shares} ({answers})",
        "shares_multi": "{shares} ({answers}\u00a0; plusieurs choix possibles)",
        "answers_one": "{n} réponse",
        "answers_other": "{n} réponses",
        "suppressed": "Pas assez de réponses pour les montrer",
        "no_results": "Pas encore de résultats à montrer.",
        "status_planned": "Prévu",
        "status_in_progress": "En cours",
        "status_done": "Réalisé",
        "status_dropped": "Abandonné",
        "decimal": ",",
        "group": "\u202f",
        "percent": "{value}\u202f%",
        "list": ", ",
    },
    "es": {
        "mean_scale": "{value} de {max} de media ({answers})",
        "mean": "{value} de media ({answers})",
        "nps": "NPS {value} ({answers})",
        "shares": "{shares} ({answers})",
        "shares_multi": "{shares} ({answers}; se podía elegir más de una opción)",
        "answers_one": "{n} respuesta",
        "answers_other": "{n} respuestas",
        "suppressed": "No hay suficientes respuestas para mostrarlo",
        "no_results": "Todavía no hay resultados que mostrar.",
        "status_planned": "Previsto",
        "status_in_progress": "En curso",
        "status_done": "Hecho",
        "status_dropped": "Descartado",
        "decimal": ",",
        "group": ".",
        "percent": "{value}\u00a0%",
        "list": ", ",
    },
    "hi": {
        "mean_scale": "औसतन {max} में से {value} ({answers})",
        "mean": "औसतन {value} ({answers})",
        "nps": "NPS {value} ({answers})",
        "shares": "{shares} ({answers})",
        "shares_multi": "{shares} ({answers}; एक से अधिक विकल्प चुने जा सकते थे)",
        "answers_one": "{n} उत्तर",
        "answers_other": "{n} उत्तर",
        "suppressed": "दिखाने के लिए पर्याप्त उत्तर नहीं हैं",
        "no_results": "अभी दिखाने के लिए कोई परिणाम नहीं है।",
        "status_planned": "नियोजित",
        "status_in_progress": "जारी है",
        "status_done": "पूरा हुआ",
        "status_dropped": "छोड़ दिया गया",
        "decimal": ".",
        "group": ",",
        "percent": "{value}%",
        "list": ", ",
    },
}

# Means of at least this size are written without decimals (hours, euros: 1,234 not 1,234.0).
WHOLE_FROM = 100


def phrases_for(locale: str) -> Mapping[str, str]:
    """The phrase table for `locale` (or its language), else English."""
    return PHRASES[match_locale(locale, PHRASES) or FALLBACK]


def number_text(value: float, decimals: int, phrases: Mapping[str, str]) -> str:
    """`value` rounded to `decimals` places with the language's decimal mark and grouping; a
    value that rounds to zero has no sign."""
    digits = f"{abs(value):,.{decimals}f}"
    text = (
        digits.replace(",", "\0").replace(".", phrases["decimal"]).replace("\0", phrases["group"])
    )
    rounded_to_zero = float(f"{abs(value):.{decimals}f}") == 0
    return text if value >= 0 or rounded_to_zero else "-" + text


def percent(share: float) -> int:
    """A share as a whole percent, halves rounded up (41.5% is 42%, as people expect; the
    nudge keeps 83/200, stored as 0.41499…, a half)."""
    return math.floor(share * 100 + 0.5 + 1e-9)


def percent_text(share: float, phrases: Mapping[str, str]) -> str:
    return phrases["percent"].format(value=percent(share))


def answers_text(n: int, phrases: Mapping[str, str]) -> str:
    form = phrases["answers_one"] if n == 1 else phrases["answers_other"]
    return form.format(n=number_text(n, 0, phrases))


def mean_sentence(
    value: float, n: int, phrases: Mapping[str, str], *, scale: tuple[int, int] | None = None
) -> str:
    """A mean: out of the scale's top when the scale starts at 0 or 1, else on its own."""
    decimals = 0 if abs(value) >= WHOLE_FROM else 1
    shown = number_text(value, decimals, phrases)
    answers = answers_text(n, phrases)
    if scale is not None and scale[0] in (0, 1):
        return phrases["mean_scale"].format(value=shown, max=scale[1], answers=answers)
    return phrases["mean"].format(value=shown, answers=answers)


def nps_sentence(value: float, n: int, phrases: Mapping[str, str]) -> str:
    """NPS as people quote it: a whole number with its sign (+24, 0, -5)."""
    whole = math.floor(abs(value) + 0.5) * (1 if value >= 0 else -1)
    shown = f"+{whole}" if whole > 0 else number_text(whole, 0, phrases)
    return phrases["nps"].format(value=shown, answers=answers_text(n, phrases))


def shares_sentence(
    shares: Sequence[tuple[str, float]], n: int, phrases: Mapping[str, str], *, multiple: bool
) -> str:
    """Options with their shares, in the order given: "Climate 41%, Housing 33% (312 answers)"."""
    listed = phrases["list"].join(f"{label} {percent_text(s, phrases)}" for label, s in shares)
    template = phrases["shares_multi"] if multiple else phrases["shares"]
    return template.format(shares=listed, answers=answers_text(n, phrases))


def status_text(status: str, phrases: Mapping[str, str]) -> str:
    return phrases.get(f"status_{status}", status)
