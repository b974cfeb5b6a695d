"""The forms' own words (buttons, hints, errors, thank-you) in several languages, and the choice
of the language a supporter sees.

Survey texts come from the survey's definition in the survey's locales; these strings frame them.
The embed script receives the same table (`embed.py` writes it into the script), so the hosted
page and the embedded form speak alike. `{n}`, `{min}`, `{max}` and `{date}` are filled in by
whoever shows the string.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from feedback.surveys.definition import match_locale

FALLBACK = "en"

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "link_invalid": "This personal link is not valid; check that you opened all of it.",
        "submit": "Submit",
        "sending": "Sending…",
        "required": "Required",
        "error": "Error",
        "error_summary": "There is a problem",
        "thank_you": "Thank you",
        "thank_you_body": "Your answers have been received.",
        "already_sent": "We had already received your answers from this form.",
        "closed": "This survey is closed",
        "closed_next": "It opens again on {date}.",
        "closed_never": "It is not accepting answers at the moment.",
        "not_found": "Survey not found",
        "not_found_body": "Check the link you followed; this survey does not exist.",
        "load_failed": "The survey could not be loaded. Please try again later.",
        "send_failed": "Your answers could not be sent. Please try again.",
        "queued": "You are offline. Your answers are saved on this device and will be sent "
        "when you are back online.",
        "choose_up_to": "Choose up to {n}.",
        "max_chars": "Up to {n} characters.",
        "number_range": "A number from {min} to {max}.",
        "number_min": "A number of at least {min}.",
        "number_max": "A number of at most {max}.",
        "nps_low": "Not at all likely",
        "nps_high": "Extremely likely",
    },
    "nl": {
        "link_invalid": "Deze persoonlijke link is niet geldig; controleer of je de hele link "
        "hebt geopend.",
        "submit": "Versturen",
        "sending": "Bezig met versturen…",
        "required": "Verplicht",
        "error": "Fout",
        "error_summary": "Er is een probleem",
        "thank_you": "Bedankt",
        "thank_you_body": "Je antwoorden zijn ontvangen.",
        "already_sent": "We hadden je antwoorden op dit formulier al ontvangen.",
        "closed": "Deze enquête is gesloten",
        "closed_next": "Hij gaat weer open op {date}.",
        "closed_never": "Er kunnen op dit moment geen antwoorden worden gegeven.",
        "not_found": "Enquête niet gevonden",
        "not_found_body": "Controleer de link die je hebt gevolgd; deze enquête bestaat niet.",
        "load_failed": "De enquête kon niet worden geladen. Probeer het later opnieuw.",
        "send_failed": "Je antwoorden konden niet worden verstuurd. Probeer het opnieuw.",
        "queued": "Je bent offline. Je antwoorden zijn op dit apparaat bewaard en worden "
        "verstuurd zodra je weer online bent.",
        "choose_up_to": "Kies er maximaal {n}.",
        "max_chars": "Maximaal {n} tekens.",
        "number_range": "Een getal van {min} tot en met {max}.",
        "number_min": "Een getal van minstens {min}.",
        "number_max": "Een getal van hoogstens {max}.",
        "nps_low": "Zeer onwaarschijnlijk",
        "nps_high": "Zeer waarschijnlijk",
    },
    "de": {
        "link_invalid": "Dieser persönliche Link ist ungültig; bitte prüfen Sie, ob Sie ihn "
        "vollständig geöffnet haben.",
        "submit": "Absenden",
        "sending": "Wird gesendet…",
        "required": "Pflichtfeld",
        "error": "Fehler",
        "error_summary": "Es gibt ein Problem",
        "thank_you": "Vielen Dank",
        "thank_you_body": "Ihre Antworten sind eingegangen.",
        "already_sent": "Ihre Antworten aus diesem Formular lagen uns bereits vor.",
        "closed": "Diese Umfrage ist geschlossen",
        "closed_next": "Sie öffnet wieder am {date}.",
        "closed_never": "Derzeit werden keine Antworten angenommen.",
        "not_found": "Umfrage nicht gefunden",
        "not_found_body": "Bitte prüfen Sie den Link; diese Umfrage gibt es nicht.",
        "load_failed": "Die Umfrage konnte nicht geladen werden. Bitte versuchen Sie es später.",
        "send_failed": "Ihre Antworten konnten nicht gesendet werden. Bitte versuchen Sie es "
        "erneut.",
        "queued": "Sie sind offline. Ihre Antworten sind auf diesem Gerät gespeichert und werden "
        "gesendet, sobald Sie wieder online sind.",
        "choose_up_to": "Wählen Sie bis zu {n}.",
        "max_chars": "Bis zu {n} Zeichen.",
        "number_range": "Eine Zahl von {min} bis {max}.",
        "number_min": "Eine Zahl von mindestens {min}.",
        "number_max": "Eine Zahl von höchstens {max}.",
        "nps_low": "Sehr unwahrscheinlich",
        "nps_high": "Äußerst wahrscheinlich",
    },
    "fr": {
        "link_invalid": "Ce lien personnel n'est pas valide ; vérifiez que vous l'avez ouvert "
        "en entier.",
        "submit": "Envoyer",
        "sending": "Envoi en cours…",
        "required": "Obligatoire",
        "error": "Erreur",
        "error_summary": "Il y a un problème",
        "thank_you": "Merci",
        "thank_you_body": "Vos réponses ont bien été reçues.",
        "already_sent": "Nous avions déjà reçu vos réponses à ce formulaire.",
        "closed": "Ce questionnaire est fermé",
        "closed_next": "Il rouvrira le {date}.",
        "closed_never": "Il n'accepte pas de réponses pour le moment.",
        "not_found": "Questionnaire introuvable",
        "not_found_body": "Vérifiez le lien suivi ; ce questionnaire n'existe pas.",
        "load_failed": "Le questionnaire n'a pas pu être chargé. Réessayez plus tard.",
        "send_failed": "Vos réponses n'ont pas pu être envoyées. Veuillez réessayer.",
        "queued": "Vous êtes hors ligne. Vos réponses sont enregistrées sur cet appareil et "
        "seront envoyées dès votre retour en ligne.",
        "choose_up_to": "Choisissez-en jusqu'à {n}.",
        "max_chars": "Jusqu'à {n} caractères.",
        "number_range": "Un nombre de {min} à {max}.",
        "number_min": "Un nombre d'au moins {min}.",
        "number_max": "Un nombre d'au plus {max}.",
        "nps_low": "Pas du tout probable",
        "nps_high": "Très probable",
    },
    "es": {
        "link_invalid": "Este enlace personal no es válido; compruebe que lo ha abierto completo.",
        "submit": "Enviar",
        "sending": "Enviando…",
        "required": "Obligatorio",
        "error": "Error",
        "error_summary": "Hay un problema",
        "thank_you": "Gracias",
        "thank_you_body": "Hemos recibido sus respuestas.",
        "already_sent": "Ya habíamos recibido sus respuestas a este formulario.",
        "closed": "Esta encuesta está cerrada",
        "closed_next": "Vuelve a abrir el {date}.",
        "closed_never": "En este momento no acepta respuestas.",
        "not_found": "Encuesta no encontrada",
        "not_found_body": "Compruebe el enlace; esta encuesta no existe.",
        "load_failed": "No se pudo cargar la encuesta. Inténtelo más tarde.",
        "send_failed": "No se pudieron enviar sus respuestas. Inténtelo de nuevo.",
        "queued": "Está sin conexión. Sus respuestas se han guardado en este dispositivo y se "
        "enviarán cuando vuelva a estar en línea.",
        "choose_up_to": "Elija hasta {n}.",
        "max_chars": "Hasta {n} caracteres.",
        "number_range": "Un número de {min} a {max}.",
        "number_min": "Un número de al menos {min}.",
        "number_max": "Un número de como máximo {max}.",
        "nps_low": "Nada probable",
        "nps_high": "Muy probable",
    },
    "hi": {
        "link_invalid": "यह व्यक्तिगत लिंक मान्य नहीं है; जाँचें कि आपने पूरा लिंक खोला है।",
        "submit": "जमा करें",
        "sending": "भेजा जा रहा है…",
        "required": "आवश्यक",
        "error": "त्रुटि",
        "error_summary": "कोई समस्या है",
        "thank_you": "धन्यवाद",
        "thank_you_body": "आपके उत्तर हमें मिल गए हैं।",
        "already_sent": "इस फ़ॉर्म से आपके उत्तर हमें पहले ही मिल चुके थे।",
        "closed": "यह सर्वेक्षण बंद है",
        "closed_next": "यह {date} को फिर से खुलेगा।",
        "closed_never": "अभी यह उत्तर स्वीकार नहीं कर रहा है।",
        "not_found": "सर्वेक्षण नहीं मिला",
        "not_found_body": "आपने जो लिंक खोला उसे जाँचें; यह सर्वेक्षण मौजूद नहीं है।",
        "load_failed": "सर्वेक्षण लोड नहीं हो सका। कृपया बाद में फिर से प्रयास करें।",
        "send_failed": "आपके उत्तर भेजे नहीं जा सके। कृपया फिर से प्रयास करें।",
        "queued": "आप ऑफ़लाइन हैं। आपके उत्तर इस डिवाइस पर सहेजे गए हैं और ऑनलाइन होते ही भेज दिए जाएँगे।",
        "choose_up_to": "अधिकतम {n} चुनें।",
        "max_chars": "अधिकतम {n} अक्षर।",
        "number_range": "{min} से {max} तक की संख्या।",
        "number_min": "कम से कम {min} की संख्या।",
        "number_max": "अधिकतम {max} की संख्या।",
        "nps_low": "बिल्कुल संभावना नहीं",
        "nps_high": "बहुत अधिक संभावना",
    },
}

# One language tag with an optional quality: `nl-BE`, `en;q=0.8`, `*;q=0.1`.
_ACCEPT_ITEM = re.compile(r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q=([0-9.]+))?")
_MAX_ACCEPT_ITEMS = 32


def strings_for(locale: str) -> dict[str, str]:
    """The UI strings for `locale` (or its language), else English."""
    found = match_locale(locale, STRINGS) or FALLBACK
    return STRINGS[found]


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


def negotiate_locale(
    requested: str | None,
    accept_language: str | None,
    locales: Sequence[str],
    default_locale: str,
) -> str:
    """The survey locale to show: `?locale=` when the survey has it (or its language), then the
    browser's languages in order of preference, then the survey's default."""
    available = [default_locale, *locales]
    for wanted in ([requested] if requested else []) + accepted_languages(accept_language):
        found = match_locale(wanted, available)
        if found is not None:
            return found
    return default_locale
